/**
 * Parallel tool steps of one turn fail together when the run cannot go on here: the journal lost
 * steps, or another process took the run over. The run then fails with one error that says what
 * happened and what to do, not with "2 of 2 tasks failed".
 */
import { type ErrorCode, HatarakuError } from '../errors.js';

/**
 * Causes that stop the run in this process, the most telling first. Lost steps come before a lost
 * lease: when a database restart loses the run's claim too, the fence refuses the next commit
 * (`lease_lost`), but the lost steps are what happened, and the message says how to resume.
 */
const stopCauses: readonly ErrorCode[] = ['journal_error', 'lease_lost'];

/**
 * The error the run fails with when the parallel steps of one turn failed with `error`.
 *
 * An `AggregateError` of Hataraku errors becomes one of them: the shared one when all have the
 * same code, else the most telling cause that stops the run. Anything else is returned as it is.
 */
export function oneErrorForParallelFailures(error: unknown): unknown {
  if (!(error instanceof AggregateError)) return error;
  const errors = error.errors as unknown[];
  if (errors.length === 0 || !errors.every((each) => each instanceof HatarakuError)) return error;
  const failures = errors as HatarakuError[];
  const [first] = failures as [HatarakuError, ...HatarakuError[]];
  if (failures.every((failure) => failure.code === first.code)) return first;
  for (const code of stopCauses) {
    const stop = failures.find((failure) => failure.code === code);
    if (stop !== undefined) return stop;
  }
  return error;
}
