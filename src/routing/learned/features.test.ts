import { describe, expect, it } from 'vitest';
import { arithmeticClaims, evaluateArithmetic } from './arithmetic-claims.js';
import { promptFeatureNames, promptFeatures, responseFeatureNames, responseFeatures } from './features.js';

describe('arithmetic claims', () => {
  it('evaluates arithmetic without eval, and refuses anything else', () => {
    expect(evaluateArithmetic('(12 + 4) * 2 - 10%')).toBeCloseTo(31.9, 10);
    expect(evaluateArithmetic('2 ** 10')).toBe(1024);
    expect(evaluateArithmetic('1 / 0')).toBeUndefined();
    expect(evaluateArithmetic('process.exit()')).toBeUndefined();
  });

  it('judges each written step, charitably about rounding', () => {
    const claims = arithmeticClaims(
      'She has 12 * 4 = 46 apples, then 46 / 3 = 15.33, and <<7*3=21>> more. 2x = 10 is algebra.',
    );
    expect(claims.map((claim) => [claim.expression, claim.verdict])).toEqual([
      ['7*3', 'exact'],
      ['12 * 4', 'wrong'],
      ['46 / 3', 'exact'],
    ]);
    expect(arithmeticClaims('73 / 8 = 9 boxes')[0]?.verdict).toBe('rounded');
  });
});

describe('features', () => {
  it('have as many values as names, for every answer format', () => {
    const prompt = 'A shop sells 12 pens at $3 each. What is the total?';
    expect(promptFeatures(prompt)).toHaveLength(promptFeatureNames.length);
    for (const format of [
      { kind: 'number', marker: 'Answer:\\s*(\\S+)' },
      { kind: 'choice', choices: 'ABCD' },
      { kind: 'json-field', field: 'total' },
      { kind: 'regex', pattern: 'total (\\d+)' },
    ] as const) {
      expect(responseFeatures(prompt, '12 * 3 = 36\nAnswer: 36', format)).toHaveLength(responseFeatureNames.length);
    }
  });

  it('flag a wrong calculation, a wavering answer and hedging, whatever the data set', () => {
    const format = { kind: 'number', marker: 'Answer:\\s*(\\S+)' } as const;
    const at = (name: (typeof responseFeatureNames)[number], values: number[]) =>
      values[responseFeatureNames.indexOf(name)];
    const clean = responseFeatures('12 pens at $3?', '12 * 3 = 36\nAnswer: 36', format);
    const messy = responseFeatures('12 pens at $3?', '12 * 3 = 38, however maybe\nAnswer: 38\nAnswer: 40', format);
    expect(at('a wrong arithmetic claim', clean)).toBe(0);
    expect(at('a wrong arithmetic claim', messy)).toBe(1);
    expect(at('several different answers stated', messy)).toBe(1);
    expect(at('hedging words (count)', messy)).toBe(1);
    expect(at('answer is the result of a computation in the working', clean)).toBe(1);
    expect(at('answer is the result of a computation in the working', messy)).toBe(0);
    const signals = responseFeatures('q', 'Answer: 1', format, { meanLogProbability: -0.4, sampleAgreement: 0.6 });
    expect(at('mean log-probability (0 when not given)', signals)).toBe(-0.4);
    expect(at('log-probabilities given', signals)).toBe(1);
    expect(at('sample agreement (1 when not sampled)', signals)).toBe(0.6);
  });
});
