/**
 * Mapping BFCL parameter schemas to standard JSON Schema, the form `tool()` accepts.
 *
 * BFCL writes Python type names (`dict`, `float`, `tuple`, `any`) and, for JavaScript, Java-ish
 * ones (`String`, `Boolean`). Its checker also rejects parameters that are not in the schema,
 * which the schemas themselves never say; the mapping adds `additionalProperties: false` at the
 * top level so that validation has the same meaning as BFCL's checker.
 */
import type { JsonSchema } from '../src/models/spec.js';
import type { BfclLanguage, BfclSchema } from './bfcl-corpus.js';

/** BFCL's type names and their JSON Schema equivalents (standard names map to themselves). */
const typeNames: Readonly<Record<string, string>> = {
  dict: 'object',
  object: 'object',
  float: 'number',
  number: 'number',
  integer: 'integer',
  tuple: 'array',
  list: 'array',
  array: 'array',
  any: 'string',
  bool: 'boolean',
  boolean: 'boolean',
  string: 'string',
};

/**
 * The JSON Schema of a BFCL function's parameters.
 *
 * Python categories keep their structure with types renamed. JavaScript categories pass every
 * value as a literal written in a string (BFCL parses `"[1, 2]"` or `"true"` itself), so each
 * top-level parameter becomes `type: string`, its original type named in the description.
 *
 * @throws TypeError naming the path of a type this mapping does not know, so that a new type in
 *   the corpus is noticed instead of passing through unchecked.
 */
export function bfclToJsonSchema(parameters: BfclSchema, language: BfclLanguage): JsonSchema {
  const properties = isRecord(parameters.properties) ? parameters.properties : {};
  const mappedProperties: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(properties)) {
    mappedProperties[key] =
      language === 'javascript' ? asStringLiteral(property) : mapNode(property, ['properties', key]);
  }
  const { type: _type, properties: _properties, ...rest } = parameters;
  return { ...rest, type: 'object', properties: mappedProperties, additionalProperties: false };
}

function asStringLiteral(property: unknown): JsonSchema {
  const node = isRecord(property) ? property : {};
  const description = typeof node.description === 'string' ? node.description : '';
  const originalType = typeof node.type === 'string' && node.type !== '' ? node.type : 'any';
  return { type: 'string', description: `${description} (a JavaScript ${originalType} value, written as a literal)` };
}

function mapNode(node: unknown, path: string[]): unknown {
  if (!isRecord(node)) return node;
  const mapped: Record<string, unknown> = { ...node };
  if (node.type !== undefined) {
    const name = typeNames[String(node.type)];
    if (name === undefined)
      throw new TypeError(`BFCL schema: unknown type ${JSON.stringify(node.type)} at ${path.join('.')}`);
    mapped.type = name;
  }
  if (isRecord(node.properties)) {
    mapped.properties = Object.fromEntries(
      Object.entries(node.properties).map(([key, child]) => [key, mapNode(child, [...path, 'properties', key])]),
    );
  }
  if (node.items !== undefined) {
    mapped.items = Array.isArray(node.items)
      ? node.items.map((child, index) => mapNode(child, [...path, 'items', String(index)]))
      : mapNode(node.items, [...path, 'items']);
  }
  if (isRecord(node.additionalProperties)) {
    mapped.additionalProperties = mapNode(node.additionalProperties, [...path, 'additionalProperties']);
  }
  // BFCL defaults are documentation, often written as Python text ("false", "None"). Ajv fills
  // defaults into the arguments, so a default of the wrong type would make a call that rightly
  // leaves the parameter out fail validation; BFCL's checker never fills defaults, so drop those.
  if (Object.hasOwn(node, 'default') && !fitsType(node.default, mapped.type)) delete mapped.default;
  return mapped;
}

/** Whether a default value has the JSON type a (mapped) schema node declares. */
function fitsType(value: unknown, type: unknown): boolean {
  switch (type) {
    case 'object':
      return isRecord(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'string':
    case 'boolean':
      return typeof value === type;
    default:
      return true;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
