import { describe, expect, it } from 'vitest';
import { fitBoostedStumps, predictBoostedStumps } from './boosted-stumps.js';
import { fitLogisticRegression, predictProbability } from './logistic-regression.js';

/** Label true only inside a band of the first feature: no straight line separates it. */
function band(count: number): { rows: number[][]; labels: boolean[] } {
  const rows = Array.from({ length: count }, (_, index) => [(index * 37) % 100, (index * 11) % 7]);
  return { rows, labels: rows.map((row) => (row[0] ?? 0) >= 30 && (row[0] ?? 0) < 70) };
}

describe('fitBoostedStumps', () => {
  it('learns a band that a logistic regression cannot', () => {
    const { rows, labels } = band(400);
    const stumps = fitBoostedStumps(rows, labels, { rounds: 60, learningRate: 0.3 });
    const logistic = fitLogisticRegression(rows, labels);
    const accuracy = (predict: (row: number[]) => number) =>
      rows.filter((row, index) => predict(row) >= 0.5 === labels[index]).length / rows.length;
    expect(accuracy((row) => predictBoostedStumps(stumps, row))).toBeGreaterThan(0.95);
    expect(accuracy((row) => predictProbability(logistic, row))).toBeLessThan(0.75);
    expect(predictBoostedStumps(stumps, [50, 0])).toBeGreaterThan(0.8);
    expect(predictBoostedStumps(stumps, [90, 0])).toBeLessThan(0.2);
  });

  it('is plain JSON and deterministic', () => {
    const { rows, labels } = band(200);
    const model = fitBoostedStumps(rows, labels, { rounds: 20 });
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
    expect(fitBoostedStumps(rows, labels, { rounds: 20 })).toEqual(model);
    expect(model.stumps.every((stump) => stump.feature === 0 || stump.feature === 1)).toBe(true);
  });

  it('keeps every leaf at least minimumLeaf examples wide, and stops when no split is allowed', () => {
    const { rows, labels } = band(30);
    expect(fitBoostedStumps(rows, labels, { minimumLeaf: 20 }).stumps).toEqual([]);
  });

  it('refuses empty or ragged input, naming the problem', () => {
    expect(() => fitBoostedStumps([], [])).toThrow(/non-empty/);
    expect(() => fitBoostedStumps([[1], [1, 2]], [true, false])).toThrow(/same number of features/);
  });
});
