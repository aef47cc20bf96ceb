/**
 * A small, deterministic sample of arguments for a converted tool input schema, for the
 * conformance test: required properties only, the first enum value or branch, lengths and
 * bounds respected, formats given typical values. Patterns are not generated (a sample may
 * miss one; the test reports it).
 */

type Schema = Record<string, unknown>;

const formatSamples: Record<string, string> = {
  'date-time': '2024-01-02T03:04:05Z',
  date: '2024-01-02',
  time: '03:04:05Z',
  email: 'someone@example.com',
  uri: 'https://example.com/a',
  url: 'https://example.com/a',
  'uri-reference': 'https://example.com/a',
  uuid: '123e4567-e89b-42d3-a456-426614174000',
  hostname: 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  byte: 'aGVsbG8=',
  binary: 'hello',
  password: 'secret',
};

/** Strings tried, in order, against a `pattern`; enough for the patterns real documents use most. */
const patternCandidates = [
  'sample',
  '0123456789abcdef01234567',
  'stable',
  'v1.0',
  '1.0.0',
  'example.json',
  'abc',
  'ABC',
  'a1',
  '1',
  '12',
  '123456',
  'a-b',
  'a_b',
  'main',
  'owner/repo',
  '2024-01-02',
  'someone@example.com',
  'https://example.com/a',
  '#ffffff',
  'ffffff',
  'US',
  'en',
];

function matchingCandidate(pattern: string): string | undefined {
  let expression: RegExp;
  try {
    expression = new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
  return patternCandidates.find((candidate) => expression.test(candidate));
}

export function sampleArguments(schema: Schema): unknown {
  return sample(schema, (schema.$defs ?? {}) as Record<string, Schema>, 0);
}

function sample(schema: unknown, defs: Record<string, Schema>, depth: number): unknown {
  if (schema === true || schema === undefined) return 'x';
  if (schema === false || schema === null || typeof schema !== 'object') return null;
  const node = schema as Schema;
  if (typeof node.$ref === 'string') {
    const target = defs[node.$ref.replace('#/$defs/', '')];
    return depth > 12 ? null : sample(target, defs, depth + 1);
  }
  if ('const' in node) return node.const;
  if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum.find((value) => value !== null) ?? node.enum[0];
  if (node.default !== undefined) return node.default;
  if (Array.isArray(node.examples) && node.examples.length > 0) return node.examples[0];
  if (Array.isArray(node.allOf)) {
    const parts = node.allOf.map((part) => sample(part, defs, depth + 1));
    if (parts.every((part) => part !== null && typeof part === 'object' && !Array.isArray(part))) {
      return Object.assign({}, ...parts);
    }
    return parts[0];
  }
  const branches = (node.anyOf ?? node.oneOf) as unknown[] | undefined;
  if (Array.isArray(branches) && branches.length > 0 && node.properties !== undefined) {
    // Branches that only add `required` names to the properties around them.
    const { anyOf: _anyOf, oneOf: _oneOf, ...base } = node;
    const result = sample(base, defs, depth + 1) as Record<string, unknown>;
    const branch = (branches[0] ?? {}) as Schema;
    const properties = node.properties as Record<string, unknown>;
    for (const name of (branch.required ?? []) as string[]) result[name] = sample(properties[name] ?? {}, defs, depth + 1);
    return result;
  }
  if (Array.isArray(branches) && branches.length > 0) {
    const nonNull = branches.find((branch) => (branch as Schema)?.type !== 'null') ?? branches[0];
    return sample(nonNull, defs, depth + 1);
  }
  const types = Array.isArray(node.type) ? node.type : [node.type];
  const type = types.find((candidate) => candidate !== 'null') ?? (node.properties || node.required ? 'object' : node.items ? 'array' : 'string');
  switch (type) {
    case 'object': {
      const result: Record<string, unknown> = {};
      const properties = (node.properties ?? {}) as Record<string, unknown>;
      for (const name of (node.required ?? []) as string[]) {
        result[name] = depth > 12 ? null : sample(properties[name] ?? {}, defs, depth + 1);
      }
      const minProperties = typeof node.minProperties === 'number' ? node.minProperties : 0;
      for (const name of Object.keys(properties)) {
        if (Object.keys(result).length >= minProperties) break;
        result[name] = sample(properties[name], defs, depth + 1);
      }
      return result;
    }
    case 'array': {
      const count = typeof node.minItems === 'number' ? Math.max(1, node.minItems) : 1;
      return Array.from({ length: count }, () => sample(node.items ?? {}, defs, depth + 1));
    }
    case 'integer':
    case 'number': {
      const minimum = typeof node.minimum === 'number' ? node.minimum : undefined;
      const exclusive = typeof node.exclusiveMinimum === 'number' ? node.exclusiveMinimum + 1 : undefined;
      const maximum = typeof node.maximum === 'number' ? node.maximum : undefined;
      const value = exclusive ?? minimum ?? Math.min(1, maximum ?? 1);
      return type === 'integer' ? Math.ceil(value) : value;
    }
    case 'boolean':
      return true;
    default: {
      const format = typeof node.format === 'string' ? formatSamples[node.format] : undefined;
      let text = format ?? 'sample';
      const minLength = typeof node.minLength === 'number' ? node.minLength : 0;
      const maxLength = typeof node.maxLength === 'number' ? node.maxLength : undefined;
      if (typeof node.pattern === 'string') text = matchingCandidate(node.pattern) ?? text;
      if (text.length < minLength) text = text.padEnd(minLength, 'x');
      if (maxLength !== undefined && text.length > maxLength) text = text.slice(0, Math.max(1, maxLength));
      return text;
    }
  }
}
