import { describe, expect, it } from 'vitest';
import { findJsonSpans, parseJsonText } from './json-text.js';

describe('parseJsonText', () => {
  it('parses exact JSON with no repairs', () => {
    expect(parseJsonText('{"city": "Oslo", "days": [1, 2]}')).toEqual({
      success: true,
      value: { city: 'Oslo', days: [1, 2] },
      repairs: [],
    });
  });

  it('reads empty or blank text as an empty object', () => {
    expect(parseJsonText('')).toEqual({ success: true, value: {}, repairs: [] });
    expect(parseJsonText('  \n ')).toEqual({ success: true, value: {}, repairs: [] });
  });

  it('removes a code fence', () => {
    expect(parseJsonText('```json\n{"city": "Oslo"}\n```')).toEqual({
      success: true,
      value: { city: 'Oslo' },
      repairs: ['removed code fence'],
    });
  });

  it('reads a code fence the answer never closed', () => {
    expect(parseJsonText('```\n{"city": "Oslo"}')).toEqual({
      success: true,
      value: { city: 'Oslo' },
      repairs: ['removed code fence'],
    });
  });

  it('removes prose around the JSON, ignoring brackets and apostrophes in the prose', () => {
    expect(parseJsonText(`Here's what I'll send [step 1]: {"path": "a}b.txt"} — done!`)).toEqual({
      success: true,
      value: { path: 'a}b.txt' },
      repairs: ['removed text around the JSON'],
    });
  });

  it('combines a code fence with prose inside it', () => {
    expect(parseJsonText('```\nArguments: [1, 2]\n```')).toEqual({
      success: true,
      value: [1, 2],
      repairs: ['removed code fence', 'removed text around the JSON'],
    });
  });

  it('removes trailing commas', () => {
    expect(parseJsonText('{"tags": ["a", "b",],}')).toEqual({
      success: true,
      value: { tags: ['a', 'b'] },
      repairs: ['removed trailing comma'],
    });
  });

  it('replaces single quotes, keeping apostrophes inside double-quoted strings', () => {
    expect(parseJsonText(`{'note': "it's fine"}`)).toEqual({
      success: true,
      value: { note: "it's fine" },
      repairs: ['replaced single quotes with double quotes'],
    });
  });

  it('quotes unquoted keys', () => {
    expect(parseJsonText('{city: "Oslo", max_days: 3}')).toEqual({
      success: true,
      value: { city: 'Oslo', max_days: 3 },
      repairs: ['quoted unquoted keys'],
    });
  });

  it('removes comments', () => {
    expect(parseJsonText('{\n  "city": "Oslo" // the capital\n}')).toEqual({
      success: true,
      value: { city: 'Oslo' },
      repairs: ['removed comments'],
    });
  });

  it('replaces Python True, False and None', () => {
    expect(parseJsonText('{"a": True, "b": False, "c": None, "d": "None of these"}')).toEqual({
      success: true,
      value: { a: true, b: false, c: null, d: 'None of these' },
      repairs: ['replaced Python True/False/None'],
    });
  });

  it('closes brackets left open by an answer that was cut off', () => {
    expect(parseJsonText('{"query": "x", "paths": ["src"')).toEqual({
      success: true,
      value: { query: 'x', paths: ['src'] },
      repairs: ['closed unterminated JSON'],
    });
  });

  it('names a repair it cannot classify in general words', () => {
    expect(parseJsonText('{"a": 1 "b": 2}')).toEqual({
      success: true,
      value: { a: 1, b: 2 },
      repairs: ['repaired malformed JSON'],
    });
  });

  it('accepts an exact JSON primitive, such as a double-encoded object', () => {
    expect(parseJsonText('"{\\"a\\": 1}"')).toEqual({ success: true, value: '{"a": 1}', repairs: [] });
  });

  it('fails, with the reason, when there is no JSON', () => {
    expect(parseJsonText('I will check the weather in Oslo.')).toEqual({
      success: false,
      reason: 'no JSON object or array found',
    });
  });
});

describe('findJsonSpans', () => {
  it('finds each top-level object and array, and an unclosed last one', () => {
    const text = 'a {"x": [1]} b [2] c {"y": "}';
    expect(findJsonSpans(text).map((span) => [span.text, span.closed])).toEqual([
      ['{"x": [1]}', true],
      ['[2]', true],
      ['{"y": "}', false],
    ]);
  });
});

describe('parseJsonText on a cut-off answer', () => {
  it('repairs the outer object instead of returning a complete value nested inside it', () => {
    const result = parseJsonText('{"a": 1, "b": [1, 3]');
    expect(result).toMatchObject({ success: true, value: { a: 1, b: [1, 3] } });
    expect(parseJsonText('{"limit": 5, "filter": {"limit": 10}')).toMatchObject({
      success: true,
      value: { limit: 5, filter: { limit: 10 } },
    });
  });
});

describe('parseJsonText on hostile nesting', () => {
  it('refuses a value nested deeper than the limit, and accepts one at the limit', () => {
    const nested = (depth: number) => `{"a": ${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    expect(parseJsonText(nested(64)).success).toBe(true);
    const refused = parseJsonText(nested(65));
    expect(refused).toEqual({
      success: false,
      reason: 'the JSON nests more than 64 levels deep; send a flatter value',
    });
    // 100,000 levels: JSON.parse accepts it, JSON.stringify would overflow the stack.
    expect(parseJsonText(nested(100_000)).success).toBe(false);
  });
});
