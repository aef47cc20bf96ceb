/**
 * Why a run ended: the one list of stop reasons. The loop, the events, the journal's readers, the
 * CLI's explanations, the server, the gateway and the evals all use these values; the docs list
 * them from here (`docs/runs.md`).
 *
 * Spelling: a run that ended by itself (an answer, a limit, a person) has a kebab-case reason; a
 * run that failed has its error's code (snake_case, `ErrorCode` in `src/errors.ts`), so
 * `budget-exceeded` (a limit stopped the run) and `budget_exceeded` (the run failed because a
 * budget could not be checked) are different things on purpose.
 */
import type { ErrorCode } from '../errors.js';

/** A limit of the agent or of the run stopped it before an answer (status `stopped`). */
export type LimitStopReason =
  | 'max-steps'
  | 'max-tokens'
  | 'budget-exceeded'
  | 'max-wall-time'
  | 'repeated-tool-call'
  | 'context-too-large';

/** Why a run that ended normally ended. */
export type EndStopReason =
  /** The model gave its final answer (status `completed`). */
  | 'final-answer'
  /** The model declined the task; its words are the output (status `stopped`). */
  | 'refusal'
  | LimitStopReason
  /** A tool call waits for a person's decision (status `waiting`). */
  | 'approval-required'
  /** Someone cancelled the run through the server (status `stopped`). */
  | 'cancelled'
  /** The caller's signal aborted the run; it stays pending and can be resumed (status `interrupted`). */
  | 'aborted';

/**
 * Why a failed run failed: its error's code, or `internal_error` for a bug; `unknown` when the
 * journal holds no reason for a finished run; `error` for a delegated plan step or an eval
 * attempt whose run threw before it gave a result.
 */
export type FailureStopReason = ErrorCode | 'internal_error' | 'unknown' | 'error';

export type StopReason = EndStopReason | FailureStopReason;

/** Every reason a run can end normally with, in the order the docs list them. */
export const endStopReasons = [
  'final-answer',
  'refusal',
  'max-steps',
  'max-tokens',
  'budget-exceeded',
  'max-wall-time',
  'repeated-tool-call',
  'context-too-large',
  'approval-required',
  'cancelled',
  'aborted',
] as const satisfies readonly EndStopReason[];

/** One line on why a run stopped early and what to do about it (the CLI prints it). */
export const stopAdvice: Record<LimitStopReason | 'refusal' | 'cancelled', string> = {
  'budget-exceeded': 'the cost budget is exhausted (the next call would pass it); raise --budget or limits.maxCostUsd',
  'max-steps': 'the step limit was reached; raise --max-steps or limits.maxSteps',
  'max-tokens': 'the token limit was reached; raise limits.maxTokens',
  'max-wall-time': 'the time limit was reached; raise limits.maxWallTimeMs',
  'context-too-large': 'the next request would pass the input-token limit; use a context strategy or raise the limit',
  'repeated-tool-call':
    'the model kept repeating the same tool call with the same arguments; try a stronger model or a clearer task',
  refusal: 'the model declined the task (its words are the output); rephrase the task or use another model',
  cancelled: 'the run was cancelled; start it again if it is still wanted',
};

/**
 * A stop reason read back from the journal (stored as text). Values this version does not know
 * (written by a newer one) are kept as they are, typed as a failure reason so callers treat them
 * as an unexplained end.
 */
export function stopReasonFrom(text: string | undefined): StopReason {
  return (text ?? 'unknown') as StopReason;
}
