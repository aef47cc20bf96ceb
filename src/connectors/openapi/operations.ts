/**
 * The operations of an OpenAPI document, filtered, each with what a tool needs to call it: its
 * parameters by location, its request body's media type, and an input schema for the model
 * (path, query, header and cookie parameters as properties, the body under `body`).
 */
import type { OperationFilter } from '../../config/connectors-settings.js';
import type { JsonSchema } from '../../models/spec.js';
import type { SkippedOperation } from '../connector-tool.js';
import { dereference, SchemaConverter, UnsupportedSchemaError } from './json-schema.js';
import type { OpenApiDocument } from './load-document.js';

type Json = Record<string, unknown>;

export const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface OperationParameter {
  /** Name in the request (`per_page`). */
  name: string;
  /** Property name in the tool's arguments (differs when two locations share a name). */
  argument: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  style: string;
  explode: boolean;
  /** Sent as JSON text (a parameter described with `content` instead of `schema`). */
  json: boolean;
}

export interface OperationPlan {
  /** `operationId`, or `METHOD path` when it has none. */
  id: string;
  method: string;
  /** Path template, e.g. `/repos/{owner}/{repo}`. */
  path: string;
  tags: string[];
  description: string;
  parameters: OperationParameter[];
  body: { argument: string; mediaType: string } | undefined;
  /** Media types the operation answers with, for the Accept header. */
  accepts: string[];
  inputSchema: JsonSchema;
}

export interface OperationCatalog {
  operations: OperationPlan[];
  skipped: SkippedOperation[];
  /** Operations in the document before filtering. */
  total: number;
  /** Operations the include/exclude filters left out. */
  filteredOut: number;
}

/** Headers the HTTP client manages or the connector sets; an operation's parameters of these names are not offered. */
const reservedHeaders = new Set([
  'authorization',
  'content-type',
  'accept',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'cookie',
  'user-agent',
  'idempotency-key',
  'accept-encoding',
]);

export function planOperations(
  document: OpenApiDocument,
  filters: { include?: OperationFilter | undefined; exclude?: OperationFilter | undefined } = {},
): OperationCatalog {
  const operations: OperationPlan[] = [];
  const skipped: SkippedOperation[] = [];
  let total = 0;
  let filteredOut = 0;
  for (const [path, rawItem] of Object.entries(document.paths ?? {})) {
    let item: Json;
    try {
      item = dereference(document, rawItem);
    } catch (error) {
      skipped.push({ operation: path, reason: (error as Error).message });
      continue;
    }
    for (const method of httpMethods) {
      const operation = item[method] as Json | undefined;
      if (operation === undefined || operation === null || typeof operation !== 'object') continue;
      total++;
      const id =
        typeof operation.operationId === 'string' && operation.operationId !== ''
          ? operation.operationId
          : `${method.toUpperCase()} ${path}`;
      const tags = Array.isArray(operation.tags) ? operation.tags.filter((tag) => typeof tag === 'string') : [];
      if (!passes(filters, { id, path, tags })) {
        filteredOut++;
        continue;
      }
      try {
        operations.push(planOperation(document, path, method, item, operation, id, tags));
      } catch (error) {
        if (!(error instanceof UnsupportedSchemaError)) throw error;
        skipped.push({ operation: id, reason: error.message });
      }
    }
  }
  return { operations, skipped, total, filteredOut };
}

function passes(
  filters: { include?: OperationFilter | undefined; exclude?: OperationFilter | undefined },
  operation: { id: string; path: string; tags: string[] },
): boolean {
  const matches = (filter: OperationFilter) =>
    (filter.operations ?? []).includes(operation.id) ||
    (filter.tags ?? []).some((tag) => operation.tags.includes(tag)) ||
    (filter.paths ?? []).some((pattern) => pathPattern(pattern).test(operation.path));
  if (filters.include !== undefined && !matches(filters.include)) return false;
  if (filters.exclude !== undefined && matches(filters.exclude)) return false;
  return true;
}

function pathPattern(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`);
}

function planOperation(
  document: OpenApiDocument,
  path: string,
  method: string,
  item: Json,
  operation: Json,
  id: string,
  tags: string[],
): OperationPlan {
  const converter = new SchemaConverter(document);
  const merged = new Map<string, Json>();
  const rawParameters = [
    ...(Array.isArray(item.parameters) ? item.parameters : []),
    ...(Array.isArray(operation.parameters) ? operation.parameters : []),
  ];
  for (const raw of rawParameters) {
    const parameter = dereference(document, raw);
    if (typeof parameter.name !== 'string' || typeof parameter.in !== 'string') continue;
    merged.set(`${parameter.in}:${parameter.name}`, parameter);
  }
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  const parameters: OperationParameter[] = [];
  for (const parameter of merged.values()) {
    const location = parameter.in as string;
    const name = parameter.name as string;
    if (location !== 'path' && location !== 'query' && location !== 'header' && location !== 'cookie') continue;
    if (location === 'header' && reservedHeaders.has(name.toLowerCase())) continue;
    let argument = name;
    if (argument in properties) argument = `${location}_${name}`;
    let json = false;
    let schemaSource = parameter.schema;
    if (schemaSource === undefined && parameter.content !== null && typeof parameter.content === 'object') {
      const first = Object.values(parameter.content as Json)[0] as Json | undefined;
      schemaSource = first?.schema;
      json = true;
    }
    const schema = { ...(converter.convert(schemaSource ?? {}) as Json) };
    const description = [parameter.description, location === 'path' ? undefined : `(${location} parameter)`]
      .filter((part) => typeof part === 'string' && part !== '')
      .join(' ');
    if (description !== '' && schema.description === undefined) schema.description = description;
    if (parameter.deprecated === true) schema.deprecated = true;
    properties[argument] = schema;
    if (location === 'path' || parameter.required === true) required.push(argument);
    const defaultStyle = location === 'query' || location === 'cookie' ? 'form' : 'simple';
    const style = typeof parameter.style === 'string' ? parameter.style : defaultStyle;
    parameters.push({
      name,
      argument,
      in: location,
      style,
      explode: typeof parameter.explode === 'boolean' ? parameter.explode : style === 'form',
      json,
    });
  }
  let body: OperationPlan['body'];
  if (operation.requestBody !== undefined) {
    const requestBody = dereference(document, operation.requestBody);
    const content = (requestBody.content ?? {}) as Record<string, Json>;
    const mediaType = chooseMediaType(Object.keys(content));
    if (mediaType === undefined) {
      throw new UnsupportedSchemaError(
        `request body of type ${Object.keys(content).join(', ') || 'unknown'} is not supported (JSON, form and text bodies are)`,
      );
    }
    const argument = 'body' in properties ? 'requestBody' : 'body';
    const schema = { ...(converter.convert(content[mediaType]?.schema ?? {}) as Json) };
    if (typeof requestBody.description === 'string' && schema.description === undefined) {
      schema.description = requestBody.description;
    }
    if (mediaType.startsWith('text/') && schema.type === undefined) schema.type = 'string';
    properties[argument] = schema;
    if (requestBody.required === true) required.push(argument);
    body = { argument, mediaType };
  }
  const inputSchema: JsonSchema = {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
  if (Object.keys(converter.defs).length > 0) inputSchema.$defs = converter.defs;
  const summary = typeof operation.summary === 'string' ? operation.summary.trim() : '';
  const details = typeof operation.description === 'string' ? operation.description.trim() : '';
  const description = [
    summary,
    details !== summary ? details.slice(0, 1_500) : '',
    `(${method.toUpperCase()} ${path}${operation.deprecated === true ? '; deprecated' : ''})`,
  ]
    .filter((part) => part !== '')
    .join('\n');
  return {
    id,
    method: method.toUpperCase(),
    path,
    tags,
    description,
    parameters,
    body,
    accepts: responseMediaTypes(document, operation),
    inputSchema,
  };
}

/** JSON first, then forms, then text; multipart and binary bodies are not offered to models. */
function chooseMediaType(types: string[]): string | undefined {
  const lowered = types.map((type) => type.toLowerCase());
  const pick = (test: (type: string) => boolean) => types[lowered.findIndex(test)];
  return (
    pick((type) => type === 'application/json' || /\+json$/.test(type) || type === '*/*') ??
    pick((type) => /json/.test(type)) ??
    pick((type) => type === 'application/x-www-form-urlencoded') ??
    pick((type) => type.startsWith('text/'))
  );
}

function responseMediaTypes(document: OpenApiDocument, operation: Json): string[] {
  const types = new Set<string>();
  for (const [status, raw] of Object.entries((operation.responses ?? {}) as Json)) {
    if (!/^2|default/.test(status)) continue;
    try {
      const response = dereference(document, raw);
      for (const type of Object.keys((response.content ?? {}) as Json)) types.add(type);
    } catch {
      // A response the document describes badly changes nothing about how to call the operation.
    }
  }
  return [...types];
}
