import { describe, expect, it } from 'vitest';
import { dropNullOptionals, toStrictSchema } from './strict-schema.js';

describe('toStrictSchema', () => {
  it('makes every property required, optional ones nullable, and closes every object', () => {
    const schema = {
      type: 'object',
      properties: {
        city: { type: 'string' },
        unit: { type: 'string', enum: ['c', 'f'], default: 'c' },
        stops: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
      },
      required: ['city'],
    };
    expect(toStrictSchema(schema)).toEqual({
      ok: true,
      schema: {
        type: 'object',
        properties: {
          city: { type: 'string' },
          unit: { anyOf: [{ type: 'string', enum: ['c', 'f'] }, { type: 'null' }] },
          stops: {
            type: ['array', 'null'],
            items: {
              type: 'object',
              properties: { name: { type: ['string', 'null'] } },
              required: ['name'],
              additionalProperties: false,
            },
          },
        },
        required: ['city', 'unit', 'stops'],
        additionalProperties: false,
      },
    });
  });

  it('says why a schema cannot be strict: free-form objects and open additional properties', () => {
    expect(toStrictSchema({ type: 'object' })).toEqual({
      ok: false,
      reason: '(root) is an object without declared properties',
    });
    expect(
      toStrictSchema({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: true }),
    ).toEqual({ ok: false, reason: '(root) allows additional properties' });
  });
});

describe('dropNullOptionals', () => {
  it('removes the nulls strict mode put in optional, non-nullable places, and nothing else', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: ['string', 'null'] }, c: { type: 'string' } },
      required: ['c'],
    };
    expect(dropNullOptionals({ a: null, b: null, c: null }, schema)).toEqual({ b: null, c: null });
  });
});
