/**
 * The learned router reads text a model wrote (the cheap answer it verifies, live, in a cascade)
 * and prompts from the ledger (`routes train --from ledger`): hostile text. Its features must
 * take time linear in the text. Each input below, 400,000 characters long, took from half a minute
 * to minutes before (quadratic regular expressions and tokenising), and now takes milliseconds; the test's
 * own time limit is what a regression would hit.
 */
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it } from 'vitest';
import { arithmeticClaims } from './arithmetic-claims.js';
import { promptFeatureNames, promptFeatures, responseFeatureNames, responseFeatures } from './features.js';
import { countTokens } from './token-count.js';

const hostile: Record<string, string> = {
  'a long subtraction chain without =': `1${' - 1'.repeat(100_000)} x`,
  'a digit run with commas before nothing': '1,000'.repeat(80_000),
  'a run of opening parentheses': `${'('.repeat(400_000)}1 = 1`,
  'a run of spaces': `1${' '.repeat(400_000)}x`,
  'spaces after "answer"': `answer${' '.repeat(400_000)}!`,
  'equals signs without a side': `${'1 = '.repeat(100_000)}x`,
};

describe('learned router features on hostile text', () => {
  for (const [name, text] of Object.entries(hostile)) {
    it(`reads ${name} in linear time`, { timeout: 20_000 }, () => {
      expect(promptFeatures(text)).toHaveLength(promptFeatureNames.length);
      const numeric = responseFeatures(text, text, { kind: 'number' });
      const choice = responseFeatures(text, text, { kind: 'choice', choices: 'ABCD' });
      for (const features of [numeric, choice]) {
        expect(features).toHaveLength(responseFeatureNames.length);
        expect(features.every(Number.isFinite)).toBe(true);
      }
    });
  }

  it('does not exhaust the stack on a deeply nested calculator annotation', () => {
    expect(arithmeticClaims(`<<${'('.repeat(100_000)}1=1>>`)).toEqual([]);
    expect(arithmeticClaims(`<<${'-'.repeat(100_000)}1=1>>`)).toEqual([]);
  });

  it('still judges ordinary working', () => {
    expect(arithmeticClaims('First 12 x 4 = 48, then 48 - 8 = 41.').map((claim) => claim.verdict)).toEqual([
      'exact',
      'wrong',
    ]);
  });

  it('counts tokens exactly for text shorter than a piece, and within a token a piece beyond', () => {
    const short = 'How many apples are left after 3 of 12 are eaten?';
    expect(countTokens(short)).toBe(encode(short).length);
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(500);
    const pieces = Math.ceil(long.length / 2_000);
    expect(Math.abs(countTokens(long) - encode(long).length)).toBeLessThanOrEqual(pieces);
  });
});
