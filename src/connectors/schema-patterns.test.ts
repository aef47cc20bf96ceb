import { describe, expect, it } from 'vitest';
import { withoutPatterns } from './schema-patterns.js';

describe('withoutPatterns', () => {
  it('moves every pattern into its description, at any depth, and leaves the rest as it was', () => {
    const schema = {
      type: 'object',
      properties: {
        code: { type: 'string', pattern: '^(a+)+$', description: 'A code.' },
        // A property named "pattern" is a name, not the keyword.
        pattern: { type: 'string' },
        list: { type: 'array', items: { type: 'string', pattern: '^x' } },
        either: { anyOf: [{ type: 'string', pattern: '^y' }, { type: 'number' }] },
      },
      required: ['code'],
      $defs: { Tag: { type: 'string', pattern: '^t' } },
    };
    expect(withoutPatterns(schema)).toEqual({
      type: 'object',
      properties: {
        code: {
          type: 'string',
          description: 'A code. Must match the regular expression ^(a+)+$ (checked by the server).',
        },
        pattern: { type: 'string' },
        list: {
          type: 'array',
          items: { type: 'string', description: 'Must match the regular expression ^x (checked by the server).' },
        },
        either: {
          anyOf: [
            { type: 'string', description: 'Must match the regular expression ^y (checked by the server).' },
            { type: 'number' },
          ],
        },
      },
      required: ['code'],
      $defs: { Tag: { type: 'string', description: 'Must match the regular expression ^t (checked by the server).' } },
    });
    // The input is not changed.
    expect(schema.properties.code.pattern).toBe('^(a+)+$');
  });

  it('takes out patternProperties, and the additionalProperties: false that relied on them', () => {
    expect(
      withoutPatterns({
        type: 'object',
        patternProperties: { '^(a+)+$': { type: 'string' } },
        additionalProperties: false,
      }),
    ).toEqual({
      type: 'object',
      description: 'Property names matching ^(a+)+$ are allowed (regular expressions, checked by the server).',
    });
  });
});
