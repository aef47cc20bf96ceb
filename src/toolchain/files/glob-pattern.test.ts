import { describe, expect, it } from 'vitest';
import { globMatcher } from './glob-pattern.js';

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
