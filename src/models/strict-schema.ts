/**
 * Rewriting a JSON Schema for providers that enforce it at generation time ("strict" mode:
 * OpenAI's `response_format.json_schema.strict` and `function.strict`). Strict mode accepts a
 * schema only when every object lists all its properties in `required` and sets
 * `additionalProperties: false`. An optional property is kept optional in meaning by becoming
 * required and nullable; `dropNullOptionals` undoes that on the output, so the caller's schema
 * still validates it. A schema that cannot be rewritten (free-form objects, pattern properties)
 * is reported, and the caller sends it without strict.
 */
import type { JsonSchema } from './spec.js';

export type StrictSchemaResult = { ok: true; schema: JsonSchema } | { ok: false; reason: string };

/** Rewrite `schema` for strict mode, or say why it cannot be. */
export function toStrictSchema(schema: JsonSchema): StrictSchemaResult {
  try {
    return { ok: true, schema: rewrite(schema, '(root)') as JsonSchema };
  } catch (caught) {
    if (caught instanceof NotStrictable) return { ok: false, reason: caught.message };
    throw caught;
  }
}

class NotStrictable extends Error {}

const nestedSchemaLists = ['anyOf', 'oneOf', 'allOf', 'prefixItems'] as const;
const nestedSchemaMaps = ['$defs', 'definitions'] as const;

function rewrite(node: unknown, where: string): unknown {
  if (!isRecord(node)) return node;
  const copy: Record<string, unknown> = { ...node };
  for (const key of nestedSchemaLists) {
    const list = copy[key];
    if (Array.isArray(list)) copy[key] = list.map((entry, position) => rewrite(entry, `${where}.${key}[${position}]`));
  }
  for (const key of nestedSchemaMaps) {
    const map = copy[key];
    if (isRecord(map)) {
      copy[key] = Object.fromEntries(
        Object.entries(map).map(([name, entry]) => [name, rewrite(entry, `${key}.${name}`)]),
      );
    }
  }
  if (copy.items !== undefined) copy.items = rewrite(copy.items, `${where}[]`);
  if (copy.patternProperties !== undefined) throw new NotStrictable(`${where} uses patternProperties`);
  const isObject = copy.type === 'object' || (Array.isArray(copy.type) && copy.type.includes('object'));
  if (!isObject && copy.properties === undefined) return copy;
  const properties = isRecord(copy.properties) ? copy.properties : {};
  if (Object.keys(properties).length === 0 && copy.additionalProperties !== false) {
    throw new NotStrictable(`${where} is an object without declared properties`);
  }
  if (copy.additionalProperties !== undefined && copy.additionalProperties !== false) {
    throw new NotStrictable(`${where} allows additional properties`);
  }
  const required = new Set(Array.isArray(copy.required) ? copy.required.filter((key) => typeof key === 'string') : []);
  const rewritten: Record<string, unknown> = {};
  for (const [name, propertySchema] of Object.entries(properties)) {
    const strict = rewrite(propertySchema, `${where}.${name}`);
    rewritten[name] = required.has(name) ? strict : nullable(strict);
  }
  copy.properties = rewritten;
  copy.required = Object.keys(properties);
  copy.additionalProperties = false;
  return copy;
}

/** `schema` or null. A `default` is dropped: strict mode rejects it, and null now means "left out". */
function nullable(schema: unknown): unknown {
  if (!isRecord(schema)) return schema;
  const { default: _default, ...rest } = schema;
  if (typeof rest.type === 'string' && rest.enum === undefined && rest.const === undefined) {
    return rest.type === 'null' ? rest : { ...rest, type: [rest.type, 'null'] };
  }
  if (Array.isArray(rest.type) && rest.enum === undefined) {
    return rest.type.includes('null') ? rest : { ...rest, type: [...rest.type, 'null'] };
  }
  return { anyOf: [rest, { type: 'null' }] };
}

/**
 * Remove the `null`s strict mode put where the original `schema` has an optional property that
 * does not allow null, so the value validates against the original schema again.
 */
export function dropNullOptionals(value: unknown, schema: JsonSchema): unknown {
  return dropNode(value, schema, schema, 0);
}

function dropNode(value: unknown, schema: unknown, root: JsonSchema, depth: number): unknown {
  if (depth > 64 || !isRecord(schema)) return value;
  const resolved = resolveLocalReference(schema, root);
  if (Array.isArray(value) && resolved.items !== undefined) {
    return value.map((item) => dropNode(item, resolved.items, root, depth + 1));
  }
  if (!isRecord(value) || !isRecord(resolved.properties)) return value;
  const required = new Set(Array.isArray(resolved.required) ? resolved.required : []);
  const result: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    const propertySchema = resolved.properties[key];
    if (entry === null && !required.has(key) && propertySchema !== undefined && !allowsNull(propertySchema, root))
      continue;
    result[key] = dropNode(entry, propertySchema, root, depth + 1);
  }
  return result;
}

/** Whether a schema accepts `null` (by type, enum, const or a branch); unknown shapes count as yes. */
export function allowsNull(schema: unknown, root: JsonSchema): boolean {
  if (!isRecord(schema)) return true;
  const resolved = resolveLocalReference(schema, root);
  if (resolved.type === 'null') return true;
  if (Array.isArray(resolved.type)) return resolved.type.includes('null');
  if (Array.isArray(resolved.enum)) return resolved.enum.includes(null);
  if ('const' in resolved) return resolved.const === null;
  const branches = Array.isArray(resolved.anyOf) ? resolved.anyOf : Array.isArray(resolved.oneOf) ? resolved.oneOf : [];
  if (branches.length > 0) return branches.some((branch) => allowsNull(branch, root));
  if (resolved.nullable === true) return true;
  return resolved.type === undefined && resolved.properties === undefined && resolved.items === undefined;
}

function resolveLocalReference(schema: Record<string, unknown>, root: JsonSchema): Record<string, unknown> {
  let current = schema;
  for (let hops = 0; hops < 16 && typeof current.$ref === 'string'; hops++) {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(current.$ref);
    const map = match ? root[match[1] as string] : undefined;
    const target = match && isRecord(map) ? map[decodeURIComponent(match[2] as string)] : undefined;
    if (!isRecord(target)) return current;
    current = target;
  }
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
