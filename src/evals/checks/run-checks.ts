/** Run a task's checks on its outcome, in order; every check runs, so the report shows each. */
import type { EvalCheck } from '../suite-schema.js';
import type { CheckContext, CheckResult } from './check-result.js';
import { fileCheck } from './file-check.js';
import { jsCheck } from './js-check.js';
import { modelGradedCheck } from './model-graded-check.js';
import { exactCheck, jsonSchemaCheck, numberCheck, regexCheck } from './output-checks.js';
import { sqlCheck } from './sql-check.js';

export async function runCheck(check: EvalCheck, context: CheckContext): Promise<CheckResult> {
  if ('exact' in check) return exactCheck(check, context.output);
  if ('regex' in check) return regexCheck(check, context.output);
  if ('number' in check) return numberCheck(check, context.output);
  if ('jsonSchema' in check) return jsonSchemaCheck(check, context.output);
  if ('file' in check) return fileCheck(check, context.workspace);
  if ('sql' in check) return sqlCheck(check, context.workspace);
  if ('js' in check) return jsCheck(check, context.output, context.workspace);
  return modelGradedCheck(check, context);
}

export async function runChecks(checks: readonly EvalCheck[], context: CheckContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) results.push(await runCheck(check, context));
  return results;
}

/** A task passes when every check that was decided passed, and at least one was decided. */
export function checksPassed(results: readonly CheckResult[]): boolean {
  const decided = results.filter((result) => !result.skipped);
  return decided.length > 0 && decided.every((result) => result.passed);
}

export type { CheckContext, CheckResult } from './check-result.js';
