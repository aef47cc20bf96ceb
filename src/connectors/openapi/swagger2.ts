/**
 * Swagger 2.0 to OpenAPI 3.0, for what tools need: servers from `schemes`/`host`/`basePath`,
 * `definitions` as component schemas, `body` and `formData` parameters as request bodies,
 * `collectionFormat` as style/explode, and `produces` as response content types. Parts no tool
 * uses (examples, response headers, security definitions beyond their names) are left out.
 */
import type { OpenApiDocument } from './openapi-document.js';

type Json = Record<string, unknown>;

const operationMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;
const parameterSchemaKeys = [
  'type',
  'format',
  'items',
  'enum',
  'default',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'multipleOf',
];

export function convertSwagger2(source: Json): OpenApiDocument {
  const swagger = rewriteRefs(source) as Json;
  const schemes = Array.isArray(swagger.schemes) ? (swagger.schemes as string[]) : ['https'];
  const scheme = schemes.includes('https') ? 'https' : (schemes[0] ?? 'https');
  const servers =
    typeof swagger.host === 'string'
      ? [{ url: `${scheme}://${swagger.host}${typeof swagger.basePath === 'string' ? swagger.basePath : ''}` }]
      : typeof swagger.basePath === 'string'
        ? [{ url: swagger.basePath }]
        : [];
  const globalConsumes = stringList(swagger.consumes) ?? ['application/json'];
  const globalProduces = stringList(swagger.produces) ?? ['application/json'];
  const sharedParameters = (swagger.parameters ?? {}) as Record<string, Json>;
  const resolveParameter = (parameter: Json): Json => {
    const ref = parameter.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/parameters/')) {
      return sharedParameters[decodePointer(ref.slice('#/parameters/'.length))] ?? parameter;
    }
    return parameter;
  };

  const paths: Json = {};
  for (const [path, rawItem] of Object.entries((swagger.paths ?? {}) as Record<string, Json>)) {
    if (rawItem === null || typeof rawItem !== 'object') continue;
    const shared = (Array.isArray(rawItem.parameters) ? (rawItem.parameters as Json[]) : []).map(resolveParameter);
    const item: Json = {};
    for (const method of operationMethods) {
      const operation = rawItem[method] as Json | undefined;
      if (operation === undefined || operation === null) continue;
      const own = (Array.isArray(operation.parameters) ? (operation.parameters as Json[]) : []).map(resolveParameter);
      const merged = new Map<string, Json>();
      for (const parameter of [...shared, ...own])
        merged.set(`${String(parameter.in)}:${String(parameter.name)}`, parameter);
      const consumes = stringList(operation.consumes) ?? globalConsumes;
      const produces = stringList(operation.produces) ?? globalProduces;
      const { parameters, requestBody } = convertParameters([...merged.values()], consumes);
      const converted: Json = { ...operation, parameters };
      delete converted.consumes;
      delete converted.produces;
      delete converted.schemes;
      if (requestBody !== undefined) converted.requestBody = requestBody;
      converted.responses = convertResponses((operation.responses ?? {}) as Record<string, Json>, produces);
      item[method] = converted;
    }
    for (const [key, value] of Object.entries(rawItem)) {
      if (key.startsWith('x-') || key === 'summary' || key === 'description') item[key] = value;
    }
    paths[path] = item;
  }
  return {
    openapi: '3.0.3',
    info: (swagger.info ?? { title: 'converted', version: '0' }) as Json,
    servers,
    paths,
    components: { schemas: (swagger.definitions ?? {}) as Json },
    ...(Array.isArray(swagger.tags) ? { tags: swagger.tags } : {}),
  };
}

function convertParameters(
  parameters: Json[],
  consumes: string[],
): { parameters: Json[]; requestBody: Json | undefined } {
  const converted: Json[] = [];
  let requestBody: Json | undefined;
  const formFields: Record<string, Json> = {};
  const formRequired: string[] = [];
  let hasFile = false;
  for (const parameter of parameters) {
    if (parameter.in === 'body') {
      const type = consumes.find((candidate) => /json/i.test(candidate)) ?? consumes[0] ?? 'application/json';
      requestBody = {
        ...(typeof parameter.description === 'string' ? { description: parameter.description } : {}),
        required: parameter.required === true,
        content: { [type]: { schema: parameter.schema ?? {} } },
      };
      continue;
    }
    const schema = parameterSchema(parameter);
    if (parameter.in === 'formData') {
      if (parameter.type === 'file') hasFile = true;
      formFields[String(parameter.name)] = {
        ...schema,
        ...(typeof parameter.description === 'string' ? { description: parameter.description } : {}),
      };
      if (parameter.required === true) formRequired.push(String(parameter.name));
      continue;
    }
    const style = collectionStyle(parameter.collectionFormat);
    converted.push({
      name: parameter.name,
      in: parameter.in,
      ...(typeof parameter.description === 'string' ? { description: parameter.description } : {}),
      required: parameter.in === 'path' ? true : parameter.required === true,
      schema,
      ...style,
    });
  }
  if (Object.keys(formFields).length > 0 && requestBody === undefined) {
    const type =
      hasFile || consumes.includes('multipart/form-data') ? 'multipart/form-data' : 'application/x-www-form-urlencoded';
    requestBody = {
      required: formRequired.length > 0,
      content: {
        [type]: {
          schema: {
            type: 'object',
            properties: formFields,
            ...(formRequired.length > 0 ? { required: formRequired } : {}),
          },
        },
      },
    };
  }
  return { parameters: converted, requestBody };
}

function parameterSchema(parameter: Json): Json {
  const schema: Json = {};
  for (const key of parameterSchemaKeys) if (parameter[key] !== undefined) schema[key] = parameter[key];
  if (schema.type === 'file') {
    schema.type = 'string';
    schema.format = 'binary';
  }
  return schema;
}

function collectionStyle(format: unknown): Json {
  switch (format) {
    case 'multi':
      return { style: 'form', explode: true };
    case 'ssv':
      return { style: 'spaceDelimited', explode: false };
    case 'pipes':
      return { style: 'pipeDelimited', explode: false };
    case undefined:
      return {};
    default:
      return { style: 'form', explode: false };
  }
}

function convertResponses(responses: Record<string, Json>, produces: string[]): Json {
  const converted: Json = {};
  for (const [status, response] of Object.entries(responses)) {
    if (response === null || typeof response !== 'object') continue;
    const entry: Json = { description: typeof response.description === 'string' ? response.description : '' };
    if (response.schema !== undefined) {
      entry.content = Object.fromEntries(produces.map((type) => [type, { schema: response.schema }]));
    }
    converted[status] = entry;
  }
  return converted;
}

/** Every `$ref` to `#/definitions/X` pointed at `#/components/schemas/X`. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const result: Json = {};
  for (const [key, entry] of Object.entries(value)) {
    result[key] =
      key === '$ref' && typeof entry === 'string' && entry.startsWith('#/definitions/')
        ? `#/components/schemas/${entry.slice('#/definitions/'.length)}`
        : rewriteRefs(entry);
  }
  return result;
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string') && value.length > 0
    ? (value as string[])
    : undefined;
}

function decodePointer(segment: string): string {
  return decodeURIComponent(segment).replaceAll('~1', '/').replaceAll('~0', '~');
}
