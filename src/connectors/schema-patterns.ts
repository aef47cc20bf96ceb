/**
 * Regular expressions of a remote input schema (`pattern`, `patternProperties`) taken out of the
 * schema the host validates with, and kept for the model as words in the description.
 *
 * The host checks a tool's arguments with Ajv, in its own thread, with JavaScript's backtracking
 * regular expressions. A server-given pattern such as `^(a+)+$` and a model-given argument of 40
 * letters and a `!` take hours (26 letters: 221 ms, doubling with each letter), and nothing can
 * interrupt a running `RegExp`. The server checks its own patterns when it receives the call, so
 * the host does not run them at all.
 */

const schemaMaps = ['properties', '$defs', 'definitions', 'dependentSchemas'];
const schemaSingles = [
  'items',
  'additionalProperties',
  'additionalItems',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedProperties',
  'unevaluatedItems',
];
const schemaLists = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];

/** Deepest schema nesting walked; deeper parts are left out of the host's checks entirely. */
const maxDepth = 64;

/**
 * A copy of `schema` without `pattern` and `patternProperties` anywhere in it; each pattern is
 * stated in its schema's `description` instead. Property names are never mistaken for keywords.
 */
export function withoutPatterns<Schema>(schema: Schema): Schema {
  return strip(schema, 0) as Schema;
}

function strip(schema: unknown, depth: number): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  // Too deep to walk: accept anything there, rather than run what could not be checked.
  if (depth > maxDepth) return {};
  const source = schema as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const [key, value] of Object.entries(source)) {
    if (key === 'pattern' && typeof value === 'string') {
      notes.push(`Must match the regular expression ${value} (checked by the server).`);
    } else if (key === 'patternProperties' && value !== null && typeof value === 'object') {
      notes.push(
        `Property names matching ${Object.keys(value).join(', ')} are allowed (regular expressions, checked by the server).`,
      );
    } else if (schemaMaps.includes(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      result[key] = Object.fromEntries(Object.entries(value).map(([name, entry]) => [name, strip(entry, depth + 1)]));
    } else if (schemaLists.includes(key) && Array.isArray(value)) {
      result[key] = value.map((entry) => strip(entry, depth + 1));
    } else if (schemaSingles.includes(key)) {
      result[key] = strip(value, depth + 1);
    } else {
      result[key] = value;
    }
  }
  if (source.patternProperties !== undefined && source.additionalProperties === false) {
    // The names the patterns allowed would now be refused; the server decides instead.
    delete result.additionalProperties;
  }
  if (notes.length > 0) {
    const description = typeof source.description === 'string' ? `${source.description} ` : '';
    result.description = `${description}${notes.join(' ')}`;
  }
  return result;
}
