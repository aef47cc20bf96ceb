import { describe, expect, it } from 'vitest';
import { callOrTextGrammar, finiteNumbers } from './grammars.js';
import { toGrammarSchema, toolCallSchema } from './json-schema-grammar.js';

describe('JSON Schema to grammar schema', () => {
  it('keeps what the grammar expresses and limits objects to their listed properties', () => {
    const { schema, unenforced } = toGrammarSchema({
      type: 'object',
      properties: {
        city: { type: 'string', maxLength: 40, description: 'City name' },
        unit: { enum: ['c', 'f'] },
        days: { type: 'array', items: { type: 'integer' }, maxItems: 7 },
        when: { type: 'string', format: 'date' },
      },
      required: ['city'],
    });
    expect(unenforced).toEqual([]);
    expect(schema).toEqual({
      type: 'object',
      properties: {
        city: { type: 'string', maxLength: 40, description: 'City name' },
        unit: { enum: ['c', 'f'] },
        days: { type: 'array', items: { type: 'integer' }, maxItems: 7 },
        when: { type: 'string', format: 'date' },
      },
      required: ['city'],
      additionalProperties: false,
    });
  });

  it('converts anyOf, allOf, type lists and definitions, and reports what it drops', () => {
    const { schema, unenforced } = toGrammarSchema({
      type: 'object',
      properties: {
        id: {
          anyOf: [
            { type: 'string', pattern: '^[a-z]+$' },
            { type: 'integer', minimum: 1 },
          ],
        },
        both: {
          allOf: [
            { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
            { properties: { b: { type: 'number' } } },
          ],
        },
        maybe: { type: ['string', 'null'] },
        ref: { $ref: '#/definitions/point' },
        email: { type: 'string', format: 'email' },
      },
      definitions: { point: { type: 'object', properties: { x: { type: 'number' } } } },
    });
    expect(unenforced).toEqual(['pattern at id.oneOf[0]', 'minimum at id.oneOf[1]', 'format "email" at email']);
    const properties = (schema as { properties: Record<string, unknown> }).properties;
    expect(properties.id).toEqual({ oneOf: [{ type: 'string' }, { type: 'integer' }] });
    expect(properties.both).toMatchObject({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'number' } },
      required: ['a'],
    });
    expect(properties.maybe).toEqual({ type: ['string', 'null'] });
    expect(properties.ref).toEqual({ $ref: '#/$defs/point' });
    expect(schema).toHaveProperty('$defs.point.type', 'object');
  });

  it('generates required keys the schema does not describe, with any value (BFCL writes such schemas)', () => {
    const { schema } = toGrammarSchema({ type: 'object', required: ['adults', 'children'] });
    expect(schema).toMatchObject({ type: 'object', required: ['adults', 'children'] });
    expect(Object.keys((schema as { properties: object }).properties)).toEqual(['adults', 'children']);
  });

  it('builds one {name, arguments} alternative per tool', () => {
    const { schema } = toolCallSchema([
      { name: 'a', description: '', inputSchema: { type: 'object', properties: {} } },
      {
        name: 'b',
        description: '',
        inputSchema: { type: 'object', properties: { x: { type: 'boolean' } }, required: ['x'] },
      },
    ]);
    expect(schema).toMatchObject({
      oneOf: [
        { properties: { name: { const: 'a' } }, required: ['name', 'arguments'] },
        { properties: { name: { const: 'b' }, arguments: { required: ['x'] } } },
      ],
    });
  });
});

describe('grammar text', () => {
  it('drops the exponent of integers and limits other exponents to two digits', () => {
    const grammar = [
      'integer-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15}) ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?',
      'fractional-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? ("0" | [1-9] [0-9]{0,15}))?',
    ].join('\n');
    expect(finiteNumbers(grammar).split('\n')).toEqual([
      'integer-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15})',
      'fractional-number-rule ::= "-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?',
    ]);
  });

  it('puts the call grammar under a root that also allows text not starting with "{"', () => {
    const grammar = callOrTextGrammar('root ::= "{" inner "}"\ninner ::= "x"');
    expect(grammar.split('\n')).toEqual([
      'root ::= hataraku-call | hataraku-text',
      'hataraku-text ::= ([^{] [^\\x00]*)?',
      'hataraku-call ::= "{" inner "}"',
      'inner ::= "x"',
    ]);
  });
});
