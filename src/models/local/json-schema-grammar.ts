/**
 * JSON Schema to the subset node-llama-cpp turns into a grammar (`GbnfJsonSchema`), and the
 * schemas of a tool call.
 *
 * The grammar supports `type` (and lists of simple types), `const`, `enum`, `oneOf`, objects
 * (`properties`, `required`, `additionalProperties`, `minProperties`/`maxProperties`), arrays
 * (`items`, `prefixItems`, `minItems`/`maxItems`), strings (`minLength`/`maxLength`, the
 * `date`, `time` and `date-time` formats) and `$ref` into `$defs`. The rest is converted or
 * dropped here, and every drop is reported so the caller can warn:
 * - `anyOf` becomes `oneOf` (a grammar alternative accepts the same texts);
 * - `allOf` with one member becomes that member; with more, the members' object properties are
 *   merged, which is exact for the usual "mixin" use;
 * - `definitions` is read as `$defs`;
 * - `pattern`, `minimum`/`maximum`, `multipleOf`, other string formats, `not`, `if`/`then`
 *   cannot be expressed and are dropped: the generated value is still checked against the
 *   original schema afterwards (by the agent loop's tool-argument validation);
 * - an object's unlisted properties are not generated unless `additionalProperties` says so, which
 *   stays within the schema (the JSON Schema default allows them, it does not require them);
 * - a schema with no type at all (`{}`) becomes "any JSON value".
 */
import type { GbnfJsonSchema } from 'node-llama-cpp';
import type { JsonSchema, ModelToolDefinition } from '../spec.js';

/** The converted schema, and what of the original the grammar cannot enforce. */
export interface GrammarSchema {
  schema: GbnfJsonSchema;
  /** One entry per dropped keyword, e.g. `pattern at properties.zip`. */
  unenforced: string[];
}

const simpleTypes = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const droppedKeywords = [
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'not',
  'if',
  'then',
  'else',
  'uniqueItems',
  'contains',
  'patternProperties',
  'propertyNames',
  'dependentRequired',
  'dependentSchemas',
] as const;
const supportedFormats = new Set(['date', 'time', 'date-time']);

/** "Any JSON value": what `{}` allows. */
const anyValue: GbnfJsonSchema = {
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'array', items: { type: ['string', 'number', 'boolean', 'null'] } },
    { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
  ],
};

/** Convert `schema` for node-llama-cpp's JSON-schema grammar. */
export function toGrammarSchema(schema: JsonSchema): GrammarSchema {
  const unenforced: string[] = [];
  const converted = convert(schema, [], unenforced);
  return { schema: converted, unenforced };
}

/**
 * The schema of one call to any of `tools`: `{"name": <tool>, "arguments": <its schema>}`, one
 * alternative per tool so the arguments always match the named tool.
 */
export function toolCallSchema(tools: readonly ModelToolDefinition[]): GrammarSchema {
  const unenforced: string[] = [];
  const alternatives = tools.map(
    (tool): GbnfJsonSchema => ({
      type: 'object',
      properties: {
        name: { const: tool.name },
        arguments: convert(tool.inputSchema, [tool.name], unenforced),
      },
      required: ['name', 'arguments'],
      additionalProperties: false,
    }),
  );
  const [only] = alternatives;
  const schema: GbnfJsonSchema = alternatives.length === 1 && only ? only : { oneOf: alternatives };
  return { schema, unenforced };
}

function convert(node: unknown, path: string[], unenforced: string[]): GbnfJsonSchema {
  if (node === true || !isRecord(node)) return anyValue;
  const at = path.length > 0 ? ` at ${path.join('.')}` : '';
  for (const keyword of droppedKeywords) {
    if (node[keyword] !== undefined) unenforced.push(`${keyword}${at}`);
  }
  const description = typeof node.description === 'string' ? { description: node.description } : {};
  const definitions = node.$defs ?? node.definitions;
  const defs = isRecord(definitions)
    ? {
        $defs: Object.fromEntries(
          Object.entries(definitions).map(([name, value]) => [
            name,
            convert(value, [...path, '$defs', name], unenforced),
          ]),
        ),
      }
    : {};

  if (typeof node.$ref === 'string') {
    return { $ref: node.$ref.replace('#/definitions/', '#/$defs/') } as GbnfJsonSchema;
  }
  if ('const' in node) return { const: node.const as string | number | boolean | null, ...description };
  if (Array.isArray(node.enum)) return { enum: node.enum as Array<string | number | boolean | null>, ...description };
  const choices = Array.isArray(node.oneOf) ? node.oneOf : Array.isArray(node.anyOf) ? node.anyOf : undefined;
  if (choices) {
    return {
      oneOf: choices.map((choice, index) => convert(choice, [...path, `oneOf[${index}]`], unenforced)),
      ...description,
      ...defs,
    } as GbnfJsonSchema;
  }
  if (Array.isArray(node.allOf)) {
    const members = node.allOf.filter(isRecord);
    const [single] = members;
    if (members.length === 1 && single) return convert({ ...node, allOf: undefined, ...single }, path, unenforced);
    const merged: Record<string, unknown> = { type: 'object', properties: {}, required: [] };
    for (const member of members) {
      Object.assign(merged.properties as object, isRecord(member.properties) ? member.properties : {});
      (merged.required as unknown[]).push(...(Array.isArray(member.required) ? member.required : []));
    }
    return convert({ ...merged, description: node.description }, path, unenforced);
  }

  const type = node.type;
  if (Array.isArray(type)) {
    if (type.every((entry) => typeof entry === 'string' && simpleTypes.has(entry))) {
      return { type: type as Array<'string' | 'number' | 'integer' | 'boolean' | 'null'>, ...description };
    }
    return {
      oneOf: type.map((entry, index) => convert({ ...node, type: entry }, [...path, `type[${index}]`], unenforced)),
      ...description,
    } as GbnfJsonSchema;
  }
  switch (type) {
    case 'string': {
      const format = typeof node.format === 'string' ? node.format : undefined;
      if (format !== undefined && supportedFormats.has(format)) {
        return { type: 'string', format: format as 'date' | 'time' | 'date-time', ...description };
      }
      if (format !== undefined) unenforced.push(`format "${format}"${at}`);
      return {
        type: 'string',
        ...(typeof node.minLength === 'number' ? { minLength: node.minLength } : {}),
        ...(typeof node.maxLength === 'number' ? { maxLength: node.maxLength } : {}),
        ...description,
      };
    }
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type, ...description };
    case 'array': {
      const items = node.items === undefined ? {} : { items: convert(node.items, [...path, 'items'], unenforced) };
      const prefixItems = Array.isArray(node.prefixItems)
        ? {
            prefixItems: node.prefixItems.map((item, index) =>
              convert(item, [...path, `prefixItems[${index}]`], unenforced),
            ),
          }
        : {};
      return {
        type: 'array',
        ...items,
        ...prefixItems,
        ...(typeof node.minItems === 'number' ? { minItems: node.minItems } : {}),
        ...(typeof node.maxItems === 'number' ? { maxItems: node.maxItems } : {}),
        ...description,
        ...defs,
      } as GbnfJsonSchema;
    }
    case 'object':
      return convertObject(node, path, unenforced, description, defs);
    case undefined:
      if (isRecord(node.properties)) return convertObject(node, path, unenforced, description, defs);
      return anyValue;
    default:
      unenforced.push(`type "${String(type)}"${at}`);
      return anyValue;
  }
}

function convertObject(
  node: Record<string, unknown>,
  path: string[],
  unenforced: string[],
  description: { description?: string },
  defs: { $defs?: Record<string, GbnfJsonSchema> },
): GbnfJsonSchema {
  const listed = isRecord(node.properties) ? node.properties : {};
  const required = Array.isArray(node.required) ? node.required.filter((key) => typeof key === 'string') : [];
  // A required key the schema does not describe must still be there, with any value.
  const properties: Record<string, unknown> = { ...listed };
  for (const key of required) if (!(key in properties)) properties[key] = {};
  const additional = node.additionalProperties;
  const hasProperties = Object.keys(listed).length > 0;
  return {
    type: 'object',
    properties: Object.fromEntries(
      Object.entries(properties).map(([key, value]) => [key, convert(value, [...path, key], unenforced)]),
    ),
    required,
    // With no properties listed, an object is a free map; otherwise only the listed ones.
    additionalProperties: isRecord(additional)
      ? convert(additional, [...path, 'additionalProperties'], unenforced)
      : additional === true || (!hasProperties && additional !== false),
    ...(typeof node.minProperties === 'number' ? { minProperties: node.minProperties } : {}),
    ...(typeof node.maxProperties === 'number' ? { maxProperties: node.maxProperties } : {}),
    ...description,
    ...defs,
  } as GbnfJsonSchema;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
