import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { copyWith } from './copy-with.js';

describe('copyWith', () => {
  it('copies the source and adds the extra fields, the extra winning', () => {
    const source = { a: 1, b: 'two', model: 'old' };
    const copy = copyWith(source, { model: 'new', cost_usd: 0.5 });
    expect(copy).toEqual({ a: 1, b: 'two', model: 'new', cost_usd: 0.5 });
    expect(Object.keys(copy)).toEqual(['a', 'b', 'model', 'cost_usd']);
    expect(source).toEqual({ a: 1, b: 'two', model: 'old' });
  });

  it('keeps an own __proto__ field a field, as a spread does', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const copy = copyWith(parsed, { y: 2 });
    expect(JSON.stringify(copy)).toBe(JSON.stringify({ ...parsed, y: 2 }));
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives copies of same-shaped objects one hidden class', () => {
    v8.setFlagsFromString('--allow-natives-syntax');
    const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
    const shape = () => JSON.parse('{"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}') as object;
    expect(sameMap(copyWith(shape(), { cost_usd: 1 }), copyWith(shape(), { cost_usd: 2 }))).toBe(true);
  });
});
