/**
 * Structured errors. Each has a stable `code`, says what went wrong and how to fix it, and is
 * sorted by who is at fault: the user (config, flags, input), the model (bad output), an
 * upstream service, or Hataraku itself. The CLI prints `error.message` as one line; a stack
 * trace is shown only for errors that are not `HatarakuError`s (bugs).
 */

export type ErrorCode =
  | 'config_invalid'
  | 'model_not_configured'
  | 'model_unknown'
  | 'model_auth'
  | 'model_rate_limited'
  | 'model_unreachable'
  | 'model_timeout'
  | 'model_server_error'
  | 'model_bad_request'
  | 'model_bad_response'
  | 'model_aborted'
  | 'tool_invalid'
  | 'script_invalid'
  | 'run_not_found'
  | 'run_not_resumable'
  | 'journal_error'
  | 'lease_lost'
  | 'approval_not_found'
  | 'approval_pending'
  | 'non_determinism'
  | 'budget_exceeded'
  | 'connector_failed'
  | 'connector_timeout'
  | 'connector_crashed'
  | 'connector_bad_result'
  | 'connector_closed'
  | 'connector_tool_missing'
  | 'connector_spec_invalid'
  | 'usage';

export class HatarakuError extends Error {
  readonly code: ErrorCode;
  /** Extra context for programs (never secrets). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** The user's configuration, flags or input are wrong. */
export class UserError extends HatarakuError {}

/** A model call failed. `retryable` says whether trying again may help. */
export class ModelCallError extends HatarakuError {
  readonly provider: string;
  readonly modelId: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  /** Seconds the upstream asked us to wait (Retry-After), when given. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: {
    code: ErrorCode;
    provider: string;
    modelId: string;
    status?: number | undefined;
    retryable: boolean;
    retryAfterSeconds?: number | undefined;
    message: string;
    cause?: unknown;
  }) {
    super(init.code, init.message, {
      cause: init.cause,
      details: { provider: init.provider, modelId: init.modelId, status: init.status },
    });
    this.provider = init.provider;
    this.modelId = init.modelId;
    this.status = init.status;
    this.retryable = init.retryable;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** Replay found a different step than the journal recorded at the same index. */
export class NonDeterminismError extends HatarakuError {}

/** The journal could not be read or written. */
export class JournalError extends HatarakuError {}

/** This executor no longer owns the run (its lease expired and another executor took it). */
export class LeaseLostError extends HatarakuError {}

export function isHatarakuError(error: unknown): error is HatarakuError {
  return error instanceof HatarakuError;
}
