/**
 * OpenAPI schemas to JSON Schema (draft 2020-12) for tool inputs. References to component
 * schemas become `$defs` entries of the tool's schema (so recursive schemas stay finite), other
 * local references are inlined; OpenAPI 3.0's `nullable` becomes a `null` type, its boolean
 * `exclusiveMinimum`/`exclusiveMaximum` numbers, its `example` an `examples` list; `oneOf` becomes `anyOf` (real documents have
 * overlapping branches that a strict `oneOf` would refuse for valid arguments); `readOnly`
 * properties are dropped from inputs; `discriminator`, `xml` and `x-` keys go.
 * References to other files are not followed: the operation is listed as not converted.
 */

type Json = Record<string, unknown>;

export class UnsupportedSchemaError extends Error {
  override readonly name = 'UnsupportedSchemaError';
}

const dropped = new Set(['example', 'discriminator', 'xml', 'externalDocs', 'nullable', '$schema', '$id']);
const schemaMaps = ['properties', 'patternProperties', 'dependentSchemas', '$defs'];
const schemaLists = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const schemaSingles = [
  'items',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedProperties',
  'unevaluatedItems',
];
const maxInlineDepth = 40;
/**
 * Most schema nodes one converter builds. Depth alone does not bound the work: a local reference
 * used ten times at each of eight levels is 10^8 nodes, and a 1.5 KB document built that way held
 * 4.3 GB and crashed the process after 86 s (seven levels: 11 s, 1.1 GB, a 272 MB schema).
 */
export const maxConvertedSchemas = 50_000;

/** Converts schemas of one document; `$defs` collects the component schemas the converted ones use. */
export class SchemaConverter {
  readonly defs: Record<string, unknown> = {};
  private readonly defNames = new Map<string, string>();
  private converted = 0;

  constructor(private readonly document: Json) {}

  convert(schema: unknown, depth = 0): unknown {
    if (depth > maxInlineDepth) throw new UnsupportedSchemaError('schema nested too deeply (reference cycle?)');
    this.converted++;
    if (this.converted > maxConvertedSchemas) {
      throw new UnsupportedSchemaError(
        `schema too large: over ${maxConvertedSchemas} schemas once its local references are inlined (a reference used many times at each level?)`,
      );
    }
    if (typeof schema === 'boolean') return schema;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return {};
    const source = schema as Json;
    if (typeof source.$ref === 'string') {
      const target = this.reference(source.$ref, depth);
      const siblings = Object.keys(source).filter(
        (key) => key !== '$ref' && !dropped.has(key) && !key.startsWith('x-'),
      );
      if (siblings.length === 0) return withNullable(target, source.nullable === true);
      const rest: Json = { ...source };
      delete rest.$ref;
      return withNullable({ allOf: [target, this.convert(rest, depth + 1)] }, source.nullable === true);
    }
    const result: Json = {};
    for (const [key, value] of Object.entries(source)) {
      if (key === 'example' && source.examples === undefined && value !== undefined) {
        // OpenAPI's single `example` is JSON Schema's `examples` list; models use it as a hint.
        result.examples = [value];
        continue;
      }
      if (dropped.has(key) || key.startsWith('x-')) continue;
      if (key === 'oneOf' && Array.isArray(value)) {
        result.anyOf = value.map((entry) => this.convert(entry, depth + 1));
      } else if (schemaLists.includes(key) && Array.isArray(value)) {
        result[key] = value.map((entry) => this.convert(entry, depth + 1));
      } else if (schemaMaps.includes(key) && value !== null && typeof value === 'object') {
        const entries = Object.entries(value as Json).filter(
          ([, entry]) => !(key === 'properties' && isReadOnly(entry)),
        );
        result[key] = Object.fromEntries(entries.map(([name, entry]) => [name, this.convert(entry, depth + 1)]));
      } else if (schemaSingles.includes(key) && value !== null && typeof value === 'object') {
        result[key] = Array.isArray(value)
          ? value.map((entry) => this.convert(entry, depth + 1))
          : this.convert(value, depth + 1);
      } else if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value === 'boolean') {
        const bound = key === 'exclusiveMinimum' ? source.minimum : source.maximum;
        if (value && typeof bound === 'number') {
          result[key] = bound;
          delete result[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'];
        }
      } else if ((key === 'minimum' || key === 'maximum') && typeof value === 'number') {
        const exclusive = source[key === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum'];
        if (exclusive !== true) result[key] = value;
      } else if (key === 'required' && Array.isArray(value)) {
        const properties = (source.properties ?? {}) as Json;
        const required = value.filter((name) => typeof name === 'string' && !isReadOnly(properties[name]));
        if (required.length > 0) result.required = required;
      } else if (key === 'type' && value === 'file') {
        result.type = 'string';
        result.format = 'binary';
      } else {
        result[key] = value;
      }
    }
    return withNullable(result, source.nullable === true);
  }

  private reference(ref: string, depth: number): unknown {
    if (!ref.startsWith('#'))
      throw new UnsupportedSchemaError(`reference to another document (${ref}) is not followed`);
    const componentPrefix = '#/components/schemas/';
    if (ref.startsWith(componentPrefix)) {
      let name = this.defNames.get(ref);
      if (name === undefined) {
        name = this.uniqueDefName(decodePointerSegment(ref.slice(componentPrefix.length)));
        this.defNames.set(ref, name);
        this.defs[name] = {}; // placeholder first: a schema that refers to itself finds its name
        this.defs[name] = this.convert(resolvePointer(this.document, ref), 0);
      }
      return { $ref: `#/$defs/${name}` };
    }
    return this.convert(resolvePointer(this.document, ref), depth + 1);
  }

  private uniqueDefName(wanted: string): string {
    const base = wanted.replace(/[^A-Za-z0-9_.-]/g, '_') || 'schema';
    let name = base;
    for (let counter = 2; name in this.defs; counter++) name = `${base}_${counter}`;
    return name;
  }
}

function withNullable(schema: unknown, nullable: boolean): unknown {
  if (!nullable || schema === null || typeof schema !== 'object') return schema;
  const record = schema as Json;
  if (typeof record.type === 'string' && record.$ref === undefined && record.allOf === undefined) {
    const result: Json = { ...record, type: [record.type, 'null'] };
    if (Array.isArray(record.enum) && !record.enum.includes(null)) result.enum = [...record.enum, null];
    return result;
  }
  return { anyOf: [record, { type: 'null' }] };
}

function isReadOnly(schema: unknown): boolean {
  return schema !== null && typeof schema === 'object' && (schema as Json).readOnly === true;
}

/** The value a local JSON Pointer reference (`#/components/parameters/x`) points at. */
export function resolvePointer(document: Json, ref: string): unknown {
  if (ref === '#') return document;
  if (!ref.startsWith('#/')) throw new UnsupportedSchemaError(`reference to another document (${ref}) is not followed`);
  let current: unknown = document;
  for (const segment of ref.slice(2).split('/')) {
    if (current === null || typeof current !== 'object') {
      throw new UnsupportedSchemaError(`the reference ${ref} points at nothing`);
    }
    current = (current as Json)[decodePointerSegment(segment)];
  }
  if (current === undefined) throw new UnsupportedSchemaError(`the reference ${ref} points at nothing`);
  return current;
}

/** Follow `$ref`s of a non-schema object (parameter, request body) to the object itself. */
export function dereference(document: Json, value: unknown): Json {
  let current = value;
  for (let hops = 0; hops < 20; hops++) {
    if (current === null || typeof current !== 'object') return {};
    const ref = (current as Json).$ref;
    if (typeof ref !== 'string') return current as Json;
    current = resolvePointer(document, ref);
  }
  throw new UnsupportedSchemaError('a chain of references does not end');
}

function decodePointerSegment(segment: string): string {
  return decodeURIComponent(segment).replaceAll('~1', '/').replaceAll('~0', '~');
}
