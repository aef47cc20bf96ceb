import { describe, expect, it } from 'vitest';
import { globMatcher, maxGlobLength, maxGlobMatchSteps } from './glob-pattern.js';

describe('globMatcher', () => {
  it('matches a pattern without a slash against the file name at any depth', () => {
    const matches = globMatcher('*.py');
    expect(matches('main.py')).toBe(true);
    expect(matches('src/deep/tool.py')).toBe(true);
    expect(matches('src/tool.pyc')).toBe(false);
  });

  it('matches a path pattern from the workspace root, with ** across directories', () => {
    const matches = globMatcher('src/**/*.ts');
    expect(matches('src/a.ts')).toBe(true);
    expect(matches('src/x/y/a.ts')).toBe(true);
    expect(matches('lib/src/a.ts')).toBe(false);
  });

  it('supports alternatives and single characters, and escapes the rest', () => {
    expect(globMatcher('*.{md,txt}')('notes.txt')).toBe(true);
    expect(globMatcher('*.{md,txt}')('notes.csv')).toBe(false);
    expect(globMatcher('data?.csv')('data1.csv')).toBe(true);
    expect(globMatcher('a+b.txt')('aab.txt')).toBe(false);
    expect(globMatcher('a+b.txt')('a+b.txt')).toBe(true);
  });
});

describe('globMatcher against hostile globs', () => {
  it('matches in one pass: *a*a*a*a*a*a*b against a 250-letter name answers at once (a backtracking regex ran for minutes)', () => {
    const name = 'a'.repeat(250);
    expect(globMatcher(`${'*a'.repeat(6)}*b`)(name)).toBe(false);
    expect(globMatcher(`${'*a'.repeat(6)}*`)(name)).toBe(true);
    expect(globMatcher(`${'**a'.repeat(6)}**/*b`)(`${name}/${name}b`)).toBe(true);
    expect(globMatcher(`${'{*a,?a}'.repeat(6)}*b`)(name)).toBe(false);
  });

  it('keeps the meaning of **/, * within a segment, and unclosed braces', () => {
    expect(globMatcher('**/x.csv')('x.csv')).toBe(true);
    expect(globMatcher('**/x.csv')('a/b/x.csv')).toBe(true);
    expect(globMatcher('**/x.csv')('ax.csv')).toBe(false);
    expect(globMatcher('src/*.ts')('src/a/b.ts')).toBe(false);
    expect(globMatcher('src/**.ts')('src/a/b.ts')).toBe(true);
    expect(globMatcher('./*.csv')('a.csv')).toBe(true);
    expect(globMatcher('./*.csv')('d/a.csv')).toBe(false);
    expect(globMatcher('a{b.txt')('a{b.txt')).toBe(true);
    expect(globMatcher('{,x}y')('y')).toBe(true);
    expect(globMatcher('[ab].txt')('a.txt')).toBe(false);
    expect(globMatcher('[ab].txt')('[ab].txt')).toBe(true);
  });

  it('refuses a glob longer than a workspace path', () => {
    expect(() => globMatcher('*'.repeat(maxGlobLength + 1))).toThrow(
      /is 1025 characters long; a glob may have at most 1024\. Use a shorter one\./,
    );
    expect(globMatcher('*'.repeat(maxGlobLength))('a.txt')).toBe(true);
  });

  it('stops a long glob over many paths at its step budget instead of stalling the host', () => {
    // 1,000 stars are 2,000 states; a 100-character name costs about 200,000 steps, so the
    // budget runs out after about 500 names. Without it, a 10,000-character glob cost 43 ms a
    // file: over an hour for a walk of 100,000 entries.
    const matches = globMatcher(`${'*'.repeat(1_000)}z`);
    const name = 'n'.repeat(100);
    let calls = 0;
    expect(() => {
      for (; calls < 100_000; calls++) matches(name);
    }).toThrow(/is too costly to match against this many files \(over 100000000 steps\); use fewer \* and/);
    expect(calls).toBeLessThan(maxGlobMatchSteps / 100_000);
  });
});
