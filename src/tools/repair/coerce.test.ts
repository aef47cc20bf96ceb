import { describe, expect, it } from 'vitest';
import { coerceToSchema } from './coerce.js';

describe('coerceToSchema', () => {
  it("turns '5' into 5 where an integer is expected", () => {
    expect(coerceToSchema({ count: '5' }, { type: 'object', properties: { count: { type: 'integer' } } })).toEqual({
      value: { count: 5 },
      repairs: [{ path: ['count'], description: 'converted string "5" to integer' }],
    });
  });

  it('turns a numeric string into a number, but only when the whole string is a number', () => {
    const schema = { type: 'object', properties: { price: { type: 'number' } } };
    expect(coerceToSchema({ price: ' 2.50 ' }, schema).value).toEqual({ price: 2.5 });
    for (const notANumber of ['2.50 EUR', '', '0x10', 'Infinity', '1e']) {
      expect(coerceToSchema({ price: notANumber }, schema)).toEqual({ value: { price: notANumber }, repairs: [] });
    }
  });

  it("does not turn '5.5' into an integer", () => {
    expect(coerceToSchema('5.5', { type: 'integer' })).toEqual({ value: '5.5', repairs: [] });
  });

  it("turns 'true' and 'false' into booleans", () => {
    const schema = { type: 'object', properties: { a: { type: 'boolean' }, b: { type: 'boolean' } } };
    expect(coerceToSchema({ a: 'true', b: 'False' }, schema)).toEqual({
      value: { a: true, b: false },
      repairs: [
        { path: ['a'], description: 'converted string "true" to boolean' },
        { path: ['b'], description: 'converted string "False" to boolean' },
      ],
    });
    expect(coerceToSchema('yes', { type: 'boolean' }).value).toBe('yes');
  });

  it('wraps a single value in an array, then coerces its items', () => {
    const schema = { type: 'object', properties: { ids: { type: 'array', items: { type: 'integer' } } } };
    expect(coerceToSchema({ ids: '42' }, schema)).toEqual({
      value: { ids: [42] },
      repairs: [
        { path: ['ids'], description: 'wrapped single value in an array' },
        { path: ['ids', 0], description: 'converted string "42" to integer' },
      ],
    });
  });

  it('turns a number into a string where a string is expected', () => {
    expect(coerceToSchema({ zip: 12345 }, { properties: { zip: { type: 'string' } } })).toEqual({
      value: { zip: '12345' },
      repairs: [{ path: ['zip'], description: 'converted number 12345 to string' }],
    });
  });

  it('matches an enum value ignoring case and surrounding whitespace', () => {
    const schema = { type: 'object', properties: { priority: { type: 'string', enum: ['low', 'high'] } } };
    expect(coerceToSchema({ priority: ' HIGH ' }, schema)).toEqual({
      value: { priority: 'high' },
      repairs: [{ path: ['priority'], description: 'matched " HIGH " to enum value "high"' }],
    });
  });

  it('matches an enum value written with other separators, when only one fits', () => {
    const schema = { enum: ['in_progress', 'done'] };
    expect(coerceToSchema('In Progress', schema).value).toBe('in_progress');
    expect(coerceToSchema('in-progress', { enum: ['in_progress', 'in progress'] }).value).toBe('in-progress');
  });

  it('leaves an enum value alone when it matches nothing', () => {
    expect(coerceToSchema('urgent', { type: 'string', enum: ['low', 'high'] })).toEqual({
      value: 'urgent',
      repairs: [],
    });
  });

  it('decodes an object a model encoded twice as a JSON string', () => {
    const schema = {
      type: 'object',
      properties: { filter: { type: 'object', properties: { limit: { type: 'integer' } } } },
    };
    expect(coerceToSchema({ filter: '{"limit": "10"}' }, schema)).toEqual({
      value: { filter: { limit: 10 } },
      repairs: [
        { path: ['filter'], description: 'decoded object from a JSON string' },
        { path: ['filter', 'limit'], description: 'converted string "10" to integer' },
      ],
    });
  });

  it('decodes a double-encoded arguments object at the root', () => {
    expect(coerceToSchema('{"city": "Oslo"}', { type: 'object', properties: { city: { type: 'string' } } })).toEqual({
      value: { city: 'Oslo' },
      repairs: [{ path: [], description: 'decoded object from a JSON string' }],
    });
  });

  it('drops null for an optional, non-nullable property (the model meant "leave at default")', () => {
    const schema = { type: 'object', properties: { note: { type: 'string' } } };
    expect(coerceToSchema({ note: null }, schema)).toEqual({
      value: {},
      repairs: [{ path: ['note'], description: 'dropped null for an optional parameter (left at default)' }],
    });
  });

  it('leaves null alone where it is required or allowed', () => {
    const schema = {
      type: 'object',
      properties: {
        required: { type: 'string' },
        nullable: { type: ['string', 'null'] },
        either: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
      },
      required: ['required'],
    };
    const value = { required: null, nullable: null, either: null };
    expect(coerceToSchema(value, schema)).toEqual({ value, repairs: [] });
  });

  it('never adds missing properties or drops unknown ones', () => {
    const schema = { type: 'object', properties: { a: { type: 'integer', default: 1 } }, required: ['a'] };
    expect(coerceToSchema({ extra: '2' }, schema)).toEqual({ value: { extra: '2' }, repairs: [] });
  });

  it('follows a local $ref into $defs and definitions', () => {
    const schema = {
      type: 'object',
      properties: { line: { $ref: '#/$defs/line' }, legacy: { $ref: '#/definitions/qty' } },
      $defs: { line: { type: 'object', properties: { qty: { type: 'integer' } } } },
      definitions: { qty: { type: 'integer' } },
    };
    expect(coerceToSchema({ line: { qty: '3' }, legacy: '4' }, schema).value).toEqual({ line: { qty: 3 }, legacy: 4 });
  });

  it('stops on a recursive schema instead of looping', () => {
    const schema = {
      type: 'object',
      properties: { size: { type: 'integer' }, children: { type: 'array', items: { $ref: '#' } } },
    };
    const value = { size: '1', children: [{ size: '2', children: [] }] };
    expect(coerceToSchema(value, schema).value).toEqual({ size: 1, children: [{ size: 2, children: [] }] });
    expect(coerceToSchema('x', { $ref: '#' }).value).toBe('x');
  });

  it('recurses into items, and positional prefixItems', () => {
    const schema = { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: { type: 'boolean' } };
    expect(coerceToSchema([1, '2.5', 'true'], schema).value).toEqual(['1', 2.5, true]);
  });

  it('coerces through anyOf by the branch the value can fit', () => {
    const schema = { anyOf: [{ type: 'integer' }, { type: 'null' }] };
    expect(coerceToSchema('7', schema)).toEqual({
      value: 7,
      repairs: [{ path: [], description: 'converted string "7" to integer' }],
    });
    expect(coerceToSchema(null, schema).value).toBeNull();
    expect(coerceToSchema('seven', schema)).toEqual({ value: 'seven', repairs: [] });
  });

  it('picks the anyOf object branch whose required properties are present', () => {
    const schema = {
      anyOf: [
        { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
        { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
      ],
    };
    expect(coerceToSchema({ id: '9' }, schema).value).toEqual({ id: 9 });
  });

  it('does not change the value it was given', () => {
    const value = { count: '5' };
    coerceToSchema(value, { properties: { count: { type: 'integer' } } });
    expect(value).toEqual({ count: '5' });
  });
});
