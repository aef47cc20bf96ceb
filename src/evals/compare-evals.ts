/** Two eval reports side by side: per model or route present in both, what changed. */
import type { EvalReport, EvalSummary } from './eval-report.js';

export interface EvalComparisonRow {
  model: string;
  before: EvalSummary | undefined;
  after: EvalSummary | undefined;
  successRateChange: number | undefined;
  costPerSolvedChange: number | undefined;
  /** Whether the two success intervals do not overlap (a change unlikely to be chance). */
  successChangeIsClear: boolean;
}

export function compareEvals(before: EvalReport, after: EvalReport): EvalComparisonRow[] {
  const models = [
    ...new Set([...before.overall.map((entry) => entry.model), ...after.overall.map((entry) => entry.model)]),
  ];
  return models.map((model) => {
    const old = before.overall.find((entry) => entry.model === model);
    const current = after.overall.find((entry) => entry.model === model);
    const both = old !== undefined && current !== undefined;
    return {
      model,
      before: old,
      after: current,
      successRateChange: both ? current.successRate - old.successRate : undefined,
      costPerSolvedChange:
        both && old.costPerSolvedUsd !== null && current.costPerSolvedUsd !== null
          ? current.costPerSolvedUsd - old.costPerSolvedUsd
          : undefined,
      successChangeIsClear:
        both &&
        (current.successInterval.low > old.successInterval.high ||
          current.successInterval.high < old.successInterval.low),
    };
  });
}

export function comparisonMarkdown(before: EvalReport, after: EvalReport): string {
  const percent = (value: number | undefined): string => (value === undefined ? '—' : `${(value * 100).toFixed(1)} %`);
  const dollars = (value: number | null | undefined): string =>
    value === null || value === undefined ? '—' : `$${value.toFixed(6)}`;
  const signed = (value: number | undefined, format: (value: number) => string): string =>
    value === undefined ? '—' : `${value >= 0 ? '+' : '−'}${format(Math.abs(value))}`;
  return [
    `# Eval ${before.evalId} → ${after.evalId}`,
    '',
    '| model / route | success before | success after | change | clear? | cost / solved before | after | change |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
    ...compareEvals(before, after).map(
      (entry) =>
        `| ${entry.model} | ${percent(entry.before?.successRate)} | ${percent(entry.after?.successRate)} | ${signed(entry.successRateChange, (value) => percent(value))} | ${entry.successChangeIsClear ? 'yes' : 'no (intervals overlap)'} | ${dollars(entry.before?.costPerSolvedUsd)} | ${dollars(entry.after?.costPerSolvedUsd)} | ${signed(entry.costPerSolvedChange, (value) => `$${value.toFixed(6)}`)} |`,
    ),
    '',
  ].join('\n');
}
