/**
 * Schema-guided, safe coercion of parsed tool arguments.
 *
 * After arguments fail validation, this walks the value alongside the tool's JSON Schema and fixes
 * the mistakes whose intended meaning is certain: a number written as a string (`'5'` where an
 * integer is expected), `'true'`/`'false'` as strings, one value where a list is expected, an
 * enum value in the wrong case, an object encoded a second time as a JSON string, and `null`
 * for an optional parameter that does not allow null (models write it to mean "leave at the
 * default"; dropping it means exactly that). It never invents a value and drops nothing else;
 * anything it is unsure of stays as written so that validation reports it to the model.
 */
import type { JsonSchema } from '../../models/spec.js';
import { allowsNull } from '../../models/strict-schema.js';
import { parseJsonText } from './json-text.js';

/** One change made by {@link coerceToSchema}. */
export interface CoercionRepair {
  /** Where in the value, e.g. `['items', 0, 'qty']`; empty for the whole value. */
  path: Array<string | number>;
  description: string;
}

export interface CoercionResult {
  /** The coerced value; a new object where anything changed, the input itself otherwise. */
  value: unknown;
  repairs: CoercionRepair[];
}

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'array' | 'object';

interface CoercionContext {
  root: JsonSchema;
  repairs: CoercionRepair[];
}

/** Deeper than this, the schema is treated as recursive and the value is left as it is. */
const maxDepth = 64;

/** Pattern of a JSON number, so that `'0x10'`, `'1e'`, `' '` or `'Infinity'` are not numbers. */
const jsonNumberPattern = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Coerce `value` towards `schema`, recording each change with its path.
 *
 * Follows `properties`, `patternProperties`, `additionalProperties`, `items`, `prefixItems`,
 * `allOf`, `anyOf`/`oneOf` (the branch the value already fits, else the first branch a coercion
 * makes it fit), and local `$ref`s into `$defs` or `definitions`.
 */
export function coerceToSchema(value: unknown, schema: JsonSchema): CoercionResult {
  const context: CoercionContext = { root: schema, repairs: [] };
  const coerced = coerceNode(value, schema, [], context, 0);
  return { value: coerced, repairs: context.repairs };
}

function coerceNode(
  value: unknown,
  schema: unknown,
  path: Array<string | number>,
  context: CoercionContext,
  depth: number,
): unknown {
  if (depth > maxDepth || !isRecord(schema)) return value;
  const resolved = resolveReferences(schema, context.root);
  let current = value;

  if (Array.isArray(resolved.allOf)) {
    for (const branch of resolved.allOf) current = coerceNode(current, branch, path, context, depth + 1);
  }
  const branches = Array.isArray(resolved.anyOf) ? resolved.anyOf : resolved.oneOf;
  if (Array.isArray(branches)) current = coerceToBranches(current, branches, path, context, depth);

  current = coerceType(current, resolved, path, context);
  current = matchEnumValue(current, resolved, path, context);

  if (isRecord(current)) return coerceProperties(current, resolved, path, context, depth);
  if (Array.isArray(current)) return coerceItems(current, resolved, path, context, depth);
  return current;
}

function coerceToBranches(
  value: unknown,
  branches: unknown[],
  path: Array<string | number>,
  context: CoercionContext,
  depth: number,
): unknown {
  const fitting = branches.filter((branch) => fitsShallowly(value, branch, context.root));
  if (fitting.length > 0) {
    // Among object branches, prefer the one whose required properties are all present.
    const chosen =
      fitting.find((branch) => hasRequiredProperties(value, branch, context.root)) ?? (fitting[0] as unknown);
    return coerceNode(value, chosen, path, context, depth + 1);
  }
  for (const branch of branches) {
    const scratch: CoercionContext = { root: context.root, repairs: [] };
    const candidate = coerceNode(value, branch, path, scratch, depth + 1);
    if (scratch.repairs.length > 0 && fitsShallowly(candidate, branch, context.root)) {
      context.repairs.push(...scratch.repairs);
      return candidate;
    }
  }
  return value;
}

function coerceType(
  value: unknown,
  schema: JsonSchema,
  path: Array<string | number>,
  context: CoercionContext,
): unknown {
  const types = expectedTypes(schema);
  if (types === undefined || value === null || types.some((type) => matchesType(value, type))) return value;

  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (types.includes('object') && /^\{[\s\S]*\}$/.test(trimmed)) {
      const decoded = parseJsonText(trimmed);
      if (decoded.success && isRecord(decoded.value)) {
        context.repairs.push({ path, description: 'decoded object from a JSON string' });
        return decoded.value;
      }
    }
    if (types.includes('array') && /^\[[\s\S]*\]$/.test(trimmed)) {
      const decoded = parseJsonText(trimmed);
      if (decoded.success && Array.isArray(decoded.value)) {
        context.repairs.push({ path, description: 'decoded array from a JSON string' });
        return decoded.value;
      }
    }
    if ((types.includes('integer') || types.includes('number')) && jsonNumberPattern.test(trimmed)) {
      const number = Number(trimmed);
      if (types.includes('integer') && Number.isSafeInteger(number)) {
        context.repairs.push({ path, description: `converted string ${JSON.stringify(value)} to integer` });
        return number;
      }
      if (types.includes('number') && Number.isFinite(number)) {
        context.repairs.push({ path, description: `converted string ${JSON.stringify(value)} to number` });
        return number;
      }
    }
    const lowered = trimmed.toLowerCase();
    if (types.includes('boolean') && (lowered === 'true' || lowered === 'false')) {
      context.repairs.push({ path, description: `converted string ${JSON.stringify(value)} to boolean` });
      return lowered === 'true';
    }
    if (types.includes('null') && lowered === 'null') {
      context.repairs.push({ path, description: 'converted string "null" to null' });
      return null;
    }
  }

  if ((typeof value === 'number' || typeof value === 'boolean') && types.includes('string')) {
    context.repairs.push({ path, description: `converted ${typeof value} ${String(value)} to string` });
    return String(value);
  }

  if (types.includes('array') && !Array.isArray(value)) {
    context.repairs.push({ path, description: 'wrapped single value in an array' });
    return [value];
  }
  return value;
}

/** Replace a string that differs from exactly one enum value only in case, whitespace or separators. */
function matchEnumValue(
  value: unknown,
  schema: JsonSchema,
  path: Array<string | number>,
  context: CoercionContext,
): unknown {
  const allowed = allowedValues(schema);
  if (allowed === undefined || typeof value !== 'string' || allowed.includes(value)) return value;
  const strings = allowed.filter((candidate): candidate is string => typeof candidate === 'string');

  const loose = (text: string) => text.trim().toLowerCase();
  const looser = (text: string) => loose(text).replace(/[\s_-]+/g, '_');
  for (const compare of [loose, looser]) {
    const matches = strings.filter((candidate) => compare(candidate) === compare(value));
    if (matches.length === 1) {
      const match = matches[0] as string;
      context.repairs.push({
        path,
        description: `matched ${JSON.stringify(value)} to enum value ${JSON.stringify(match)}`,
      });
      return match;
    }
    if (matches.length > 1) return value;
  }
  return value;
}

function coerceProperties(
  value: Record<string, unknown>,
  schema: JsonSchema,
  path: Array<string | number>,
  context: CoercionContext,
  depth: number,
): Record<string, unknown> {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const patternProperties = isRecord(schema.patternProperties) ? schema.patternProperties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  const output: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = [...path, key];
    if (Object.hasOwn(properties, key)) {
      if (child === null && !required.includes(key) && !allowsNull(properties[key], context.root)) {
        context.repairs.push({
          path: childPath,
          description: 'dropped null for an optional parameter (left at default)',
        });
        continue;
      }
      output[key] = coerceNode(child, properties[key], childPath, context, depth + 1);
      continue;
    }
    const patternSchema = Object.entries(patternProperties).find(([pattern]) => safeRegExpTest(pattern, key))?.[1];
    if (patternSchema !== undefined) {
      output[key] = coerceNode(child, patternSchema, childPath, context, depth + 1);
    } else if (isRecord(schema.additionalProperties)) {
      output[key] = coerceNode(child, schema.additionalProperties, childPath, context, depth + 1);
    } else {
      output[key] = child;
    }
  }
  return output;
}

function coerceItems(
  value: unknown[],
  schema: JsonSchema,
  path: Array<string | number>,
  context: CoercionContext,
  depth: number,
): unknown[] {
  // 2020-12 uses `prefixItems` + `items`; draft-07 uses an `items` array + `additionalItems`.
  const positional = Array.isArray(schema.prefixItems)
    ? schema.prefixItems
    : Array.isArray(schema.items)
      ? schema.items
      : [];
  const rest = Array.isArray(schema.items) ? schema.additionalItems : schema.items;
  return value.map((item, index) =>
    coerceNode(item, index < positional.length ? positional[index] : rest, [...path, index], context, depth + 1),
  );
}

/** Follow local `$ref`s (`#`, `#/$defs/...`, `#/definitions/...`); sibling keywords win over the target's. */
function resolveReferences(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema;
  for (let hop = 0; hop < maxDepth && typeof current.$ref === 'string'; hop += 1) {
    const target = resolvePointer(root, current.$ref);
    if (!isRecord(target)) return current;
    const { $ref: _reference, ...siblings } = current;
    current = { ...target, ...siblings };
  }
  return current;
}

function resolvePointer(root: JsonSchema, reference: string): unknown {
  if (reference === '#') return root;
  if (!reference.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const encoded of reference.slice(2).split('/')) {
    const segment = decodeURIComponent(encoded).replaceAll('~1', '/').replaceAll('~0', '~');
    if (isRecord(node)) node = node[segment];
    else if (Array.isArray(node)) node = node[Number(segment)];
    else return undefined;
  }
  return node;
}

/** The JSON types a schema accepts, from `type`, or else from `enum`/`const`, `properties`, `items`. */
function expectedTypes(schema: JsonSchema): JsonType[] | undefined {
  if (typeof schema.type === 'string') return [schema.type as JsonType];
  if (Array.isArray(schema.type)) return schema.type.filter((type): type is JsonType => typeof type === 'string');
  const allowed = allowedValues(schema);
  if (allowed !== undefined) return [...new Set(allowed.map(typeOfValue))];
  if (isRecord(schema.properties)) return ['object'];
  if (schema.items !== undefined || schema.prefixItems !== undefined) return ['array'];
  return undefined;
}

function allowedValues(schema: JsonSchema): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum;
  if (Object.hasOwn(schema, 'const')) return [schema.const];
  return undefined;
}

function typeOfValue(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string' || typeof value === 'boolean') return typeof value as JsonType;
  return 'object';
}

function matchesType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isRecord(value);
    default:
      return typeof value === type;
  }
}

/** Whether a value has a type (and, for enums, a value) the schema accepts, ignoring nested parts. */
function fitsShallowly(value: unknown, schema: unknown, root: JsonSchema): boolean {
  if (!isRecord(schema)) return schema !== false;
  const resolved = resolveReferences(schema, root);
  const allowed = allowedValues(resolved);
  if (allowed !== undefined && !allowed.some((candidate) => candidate === value)) {
    // Object and array enum members are compared by JSON text.
    if (typeof value !== 'object' || value === null) return false;
    const text = JSON.stringify(value);
    if (!allowed.some((candidate) => JSON.stringify(candidate) === text)) return false;
  }
  const types = expectedTypes(resolved);
  return types === undefined || types.some((type) => matchesType(value, type));
}

function hasRequiredProperties(value: unknown, schema: unknown, root: JsonSchema): boolean {
  if (!isRecord(value) || !isRecord(schema)) return false;
  const resolved = resolveReferences(schema, root);
  const required = Array.isArray(resolved.required) ? resolved.required : [];
  return required.every((key) => typeof key === 'string' && Object.hasOwn(value, key));
}

function safeRegExpTest(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(text);
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
