import { describe, expect, it } from 'vitest';
import { compareEvals, comparisonMarkdown } from './compare-evals.js';
import { chartPoints } from './eval-chart.js';
import { buildReport, reportMarkdown } from './eval-report.js';
import type { EvalAttempt } from './eval-runner.js';
import { wilsonInterval } from './wilson-interval.js';

function attempt(model: string, taskId: string, passed: boolean, costUsd: number): EvalAttempt {
  return {
    taskId,
    input: `do ${taskId}`,
    model,
    repeat: 0,
    runId: `e-${taskId}-${model}`,
    status: 'completed',
    stopReason: 'final-answer',
    passed,
    checks: [
      {
        name: 'c',
        kind: 'regex',
        passed,
        detail: passed ? 'matches' : 'no match in the output',
        modelGraded: false,
        skipped: false,
      },
    ],
    costUsd,
    inputTokens: 100,
    outputTokens: 10,
    steps: 2,
    toolCalls: 1,
    latencyMs: 1000,
    unpricedModelCalls: 0,
    output: 'x',
  };
}

const manifest = { suitePath: '/s.yaml', suiteName: 's', models: ['cheap', 'strong', 'middling'], repeats: 1 };

describe('the eval report', () => {
  it('gives the Wilson interval, staying inside [0, 1]', () => {
    expect(wilsonInterval(5, 5).low).toBeCloseTo(0.5655, 3);
    expect(wilsonInterval(5, 5).high).toBe(1);
    const half = wilsonInterval(50, 100);
    expect(half.low).toBeCloseTo(0.4038, 3);
    expect(half.high).toBeCloseTo(0.5962, 3);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it('divides all dollars spent, failed attempts included, by the tasks solved', () => {
    const report = buildReport(
      'e',
      manifest,
      [
        attempt('cheap', 'a', true, 0.01),
        attempt('cheap', 'b', false, 0.03),
        attempt('strong', 'a', true, 0.1),
        attempt('strong', 'b', true, 0.1),
        attempt('middling', 'a', false, 0.2),
        attempt('middling', 'b', false, 0.2),
      ],
      0,
    );
    const cheap = report.overall.find((entry) => entry.model === 'cheap');
    expect(cheap).toMatchObject({ solved: 1, attempts: 2, successRate: 0.5 });
    expect(cheap?.costPerSolvedUsd).toBeCloseTo(0.04, 10);
    expect(report.overall.find((entry) => entry.model === 'middling')?.costPerSolvedUsd).toBeNull();
    expect(report.tasks).toHaveLength(6);
    const markdown = reportMarkdown(report);
    expect(markdown).toContain('| cheap | 1/2 | 50.0 % |');
    expect(markdown).toContain('- b × cheap #1 (run e-b-cheap): c: no match in the output');
    // Both solvers are on the Pareto front (cheaper vs more successful); the one that solved nothing has no point.
    expect(chartPoints(report)).toEqual([
      { model: 'cheap', successRate: 0.5, costPerSolvedUsd: expect.closeTo(0.04, 10), onParetoFront: true },
      { model: 'strong', successRate: 1, costPerSolvedUsd: expect.closeTo(0.1, 10), onParetoFront: true },
    ]);
  });

  it('marks a point that another beats on both success and cost as off the front', () => {
    const report = buildReport(
      'e',
      { ...manifest, models: ['good', 'worse'] },
      [
        attempt('good', 'a', true, 0.01),
        attempt('worse', 'a', true, 0.02),
        attempt('worse', 'b', false, 0.02),
        attempt('good', 'b', true, 0.01),
      ],
      0,
    );
    expect(chartPoints(report).map((point) => [point.model, point.onParetoFront])).toEqual([
      ['good', true],
      ['worse', false],
    ]);
  });

  it('compares two evals and says whether a change in success is clear of chance', () => {
    const many = (model: string, solved: number, total: number, cost: number) =>
      Array.from({ length: total }, (_, index) => ({
        ...attempt(model, `t${index}`, index < solved, cost),
        repeat: 0,
      }));
    const before = buildReport('before', { ...manifest, models: ['m'] }, many('m', 10, 40, 0.01), 0);
    const after = buildReport('after', { ...manifest, models: ['m'] }, many('m', 36, 40, 0.01), 0);
    const [row] = compareEvals(before, after);
    expect(row?.successRateChange).toBeCloseTo(0.65, 10);
    expect(row?.successChangeIsClear).toBe(true);
    expect(row?.costPerSolvedChange).toBeCloseTo((0.01 * 40) / 36 - (0.01 * 40) / 10, 10);
    expect(comparisonMarkdown(before, after)).toContain('| m | 25.0 % | 90.0 % | +65.0 % | yes |');
    const same = compareEvals(before, buildReport('again', { ...manifest, models: ['m'] }, many('m', 12, 40, 0.01), 0));
    expect(same[0]?.successChangeIsClear).toBe(false);
  });
});
