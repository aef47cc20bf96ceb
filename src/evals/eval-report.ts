/**
 * The eval report: per model or route, per task and overall, the success rate with its 95 %
 * Wilson interval, the cost per solved task (all dollars spent, failed attempts included,
 * divided by the tasks solved), cost, tokens, steps and latency; as JSON and as Markdown.
 */
import type { EvalAttempt, EvalManifest } from './eval-runner.js';
import { wilsonInterval } from './wilson-interval.js';

/** Figures over a set of attempts. */
export interface EvalSummary {
  attempts: number;
  solved: number;
  successRate: number;
  /** 95 % Wilson interval of the success rate. */
  successInterval: { low: number; high: number };
  costUsd: number;
  /** Dollars spent per task solved; null when none was solved. */
  costPerSolvedUsd: number | null;
  /** Means per attempt. */
  meanCostUsd: number;
  meanInputTokens: number;
  meanOutputTokens: number;
  meanSteps: number;
  meanLatencyMs: number;
  /** Attempts with model calls of unknown price (their cost is a lower bound). */
  unpricedAttempts: number;
  /** Attempts whose pass depended on a model-graded check. */
  modelGradedAttempts: number;
}

export interface EvalReport {
  format: 'hataraku-eval-report';
  version: 1;
  evalId: string;
  suite: string;
  models: string[];
  repeats: number;
  unfinished: number;
  overall: Array<{ model: string } & EvalSummary>;
  tasks: Array<{ taskId: string; model: string } & EvalSummary>;
  attempts: EvalAttempt[];
}

export function summarise(attempts: readonly EvalAttempt[]): EvalSummary {
  const count = attempts.length;
  const solved = attempts.filter((attempt) => attempt.passed).length;
  const total = (select: (attempt: EvalAttempt) => number): number =>
    attempts.reduce((sum, attempt) => sum + select(attempt), 0);
  const mean = (select: (attempt: EvalAttempt) => number): number => (count === 0 ? 0 : total(select) / count);
  const costUsd = total((attempt) => attempt.costUsd);
  return {
    attempts: count,
    solved,
    successRate: count === 0 ? 0 : solved / count,
    successInterval: wilsonInterval(solved, count),
    costUsd,
    costPerSolvedUsd: solved === 0 ? null : costUsd / solved,
    meanCostUsd: mean((attempt) => attempt.costUsd),
    meanInputTokens: mean((attempt) => attempt.inputTokens),
    meanOutputTokens: mean((attempt) => attempt.outputTokens),
    meanSteps: mean((attempt) => attempt.steps),
    meanLatencyMs: mean((attempt) => attempt.latencyMs),
    unpricedAttempts: attempts.filter((attempt) => attempt.unpricedModelCalls > 0).length,
    modelGradedAttempts: attempts.filter((attempt) =>
      attempt.checks.some((check) => check.modelGraded && !check.skipped),
    ).length,
  };
}

export function buildReport(
  evalId: string,
  manifest: EvalManifest,
  attempts: readonly EvalAttempt[],
  unfinished: number,
): EvalReport {
  const taskIds = [...new Set(attempts.map((attempt) => attempt.taskId))];
  return {
    format: 'hataraku-eval-report',
    version: 1,
    evalId,
    suite: manifest.suiteName,
    models: manifest.models,
    repeats: manifest.repeats,
    unfinished,
    overall: manifest.models.map((model) => ({
      model,
      ...summarise(attempts.filter((attempt) => attempt.model === model)),
    })),
    tasks: taskIds.flatMap((taskId) =>
      manifest.models.map((model) => ({
        taskId,
        model,
        ...summarise(attempts.filter((attempt) => attempt.taskId === taskId && attempt.model === model)),
      })),
    ),
    attempts: [...attempts],
  };
}

const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;
const dollars = (value: number | null): string => (value === null ? '—' : `$${value.toFixed(value < 0.01 ? 6 : 4)}`);
const interval = (summary: EvalSummary): string =>
  `${percent(summary.successInterval.low)}–${percent(summary.successInterval.high)}`;

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function reportMarkdown(report: EvalReport): string {
  const header = [
    'model / route',
    'solved',
    'success',
    '95 % CI',
    'cost / solved task',
    'cost',
    'tokens in / out (mean)',
    'steps (mean)',
    'latency (mean)',
  ];
  const line = (name: string, summary: EvalSummary): string =>
    row([
      name,
      `${summary.solved}/${summary.attempts}`,
      percent(summary.successRate),
      interval(summary),
      dollars(summary.costPerSolvedUsd),
      dollars(summary.costUsd),
      `${Math.round(summary.meanInputTokens)} / ${Math.round(summary.meanOutputTokens)}`,
      summary.meanSteps.toFixed(1),
      `${(summary.meanLatencyMs / 1000).toFixed(1)} s`,
    ]);
  const failed = report.attempts.filter((attempt) => !attempt.passed);
  const notes: string[] = [];
  if (report.unfinished > 0)
    notes.push(
      `- ${report.unfinished} attempt(s) unfinished: resume with \`hataraku eval --resume ${report.evalId}\`.`,
    );
  if (report.overall.some((summary) => summary.unpricedAttempts > 0))
    notes.push('- Some model calls have no known price: those costs are lower bounds.');
  if (report.overall.some((summary) => summary.modelGradedAttempts > 0))
    notes.push('- Some verdicts came from model-graded checks (marked below); they are not deterministic.');
  return [
    `# Eval ${report.evalId}: ${report.suite}`,
    '',
    `${report.models.length} model(s) or route(s) × ${report.repeats} repeat(s). Cost per solved task = all dollars spent (failed attempts included) ÷ tasks solved.`,
    '',
    '## Overall',
    '',
    row(header),
    row(header.map(() => '---')),
    ...report.overall.map((summary) => line(summary.model, summary)),
    '',
    '## Per task',
    '',
    row(['task', ...header]),
    row(['task', ...header].map(() => '---')),
    ...report.tasks.map((summary) => `| ${summary.taskId} ${line(summary.model, summary)}`),
    '',
    ...(notes.length > 0 ? ['## Notes', '', ...notes, ''] : []),
    '## Failed attempts',
    '',
    ...(failed.length === 0
      ? ['None.']
      : failed.map((attempt) => {
          const reasons = attempt.checks
            .filter((check) => !check.passed && !check.skipped)
            .map((check) => `${check.name}${check.modelGraded ? ' (model-graded)' : ''}: ${check.detail}`);
          const why = attempt.error ?? (reasons.join('; ') || `run ${attempt.status} (${attempt.stopReason})`);
          return `- ${attempt.taskId} × ${attempt.model} #${attempt.repeat + 1} (run ${attempt.runId}): ${why}`;
        })),
    '',
  ].join('\n');
}
