/**
 * How the labels of an escalated run map to the cheap answer: known only when the strong
 * answer's label says something about it.
 */
import { describe, expect, it } from 'vitest';
import { cheapLabel, keptText, keptTextLength } from './ledger-outcomes.js';
import { fitLogisticRegression, predictProbability } from './logistic-regression.js';

describe('cheapLabel', () => {
  const number = { kind: 'number' } as const;

  it('gives the same answer the strong answer’s label', () => {
    expect(cheapLabel('I think it is 42', '#### 42', true, number)).toBe(true);
    expect(cheapLabel('maybe 41', '#### 41', false, number)).toBe(false);
  });

  it('calls a different answer wrong when the strong one is right, and unknown when it is wrong', () => {
    expect(cheapLabel('I think it is 40', '#### 42', true, number)).toBe(false);
    expect(cheapLabel('no idea', '#### 42', true, number)).toBe(false);
    expect(cheapLabel('I think it is 40', '#### 41', false, number)).toBeUndefined();
  });

  it('knows nothing when the strong answer states none', () => {
    expect(cheapLabel('B', 'It depends on the clause.', true, { kind: 'choice', choices: 'ABCD' })).toBeUndefined();
  });
});

describe('fitLogisticRegression with one class', () => {
  it('fits the smoothed share instead of failing', () => {
    const model = fitLogisticRegression(
      [
        [1, 2],
        [3, 1],
        [5, 0],
      ],
      [true, true, true],
    );
    expect(predictProbability(model, [1, 2])).toBeCloseTo(3.5 / 4, 10);
    expect(predictProbability(model, [9, 9])).toBeCloseTo(3.5 / 4, 10);
  });
});

describe('keptText', () => {
  it('keeps a short text whole and a long one as its head and its tail', () => {
    expect(keptText('What is 2 + 2? #### 4')).toBe('What is 2 + 2? #### 4');
    const long = `${'a'.repeat(600_000)}${'b'.repeat(400_000)} #### 17`;
    const kept = keptText(long);
    expect(kept).toHaveLength(keptTextLength);
    expect(kept.startsWith('aaaa')).toBe(true);
    expect(kept.endsWith('bbb #### 17')).toBe(true);
  });
});
