/** Evals: suites of tasks run against models and routes, checked, and reported by cost per solved task. */
export type { CheckContext, CheckResult } from './checks/check-result.js';
export { checksPassed, runCheck, runChecks } from './checks/run-checks.js';
export { compareEvals, comparisonMarkdown, type EvalComparisonRow } from './compare-evals.js';
export { type ChartPoint, chartPoints, chartSpec, renderEvalChart } from './eval-chart.js';
export { buildReport, type EvalReport, type EvalSummary, reportMarkdown, summarise } from './eval-report.js';
export {
  demoModelName,
  type EvalAttempt,
  type EvalManifest,
  type EvalRunOptions,
  type EvalRunResult,
  loadEvalManifest,
  runEval,
} from './eval-runner.js';
export { type LoadedSuite, loadSuite } from './load-suite.js';
export { type EvalCheck, type EvalSuite, type EvalTask, suiteSchema } from './suite-schema.js';
export { wilsonInterval } from './wilson-interval.js';
