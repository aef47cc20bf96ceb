/**
 * Which failed calls a route may recover from by calling another model, and how a failure is
 * described in a routing reason.
 *
 * A route falls back on what the upstream is to blame for: rate limits, server errors,
 * timeouts, connection errors and malformed responses, and also authentication (401/403) and
 * unknown-model (404) errors, because with several upstreams those mean this one is
 * misconfigured, and another may well answer. A 400 also falls back: it is most often a request
 * this upstream cannot take (a context window too small, an option it does not support) that
 * another model can. An aborted call never falls back (the caller asked to stop), and neither
 * does an error that is not a `ModelCallError` (a bug).
 */
import { type ErrorCode, ModelCallError } from '../errors.js';

/** Codes a route falls back on, with the words used in routing reasons. */
const fallbackCodes: Partial<Record<ErrorCode, string>> = {
  model_rate_limited: 'rate limited',
  model_server_error: 'server error',
  model_timeout: 'timeout',
  model_unreachable: 'unreachable',
  model_bad_response: 'bad response',
  model_auth: 'authentication failed',
  model_unknown: 'model not found',
  model_bad_request: 'bad request',
};

/** Whether a route may try another model after `error`. */
export function canFallBack(error: unknown): error is ModelCallError {
  if (!(error instanceof ModelCallError) || error.code === 'model_aborted') return false;
  return error.retryable || fallbackCodes[error.code] !== undefined;
}

/**
 * Whether `error` says something about the upstream's health, for its circuit breaker. A bad
 * request is about the request, so it does not count against the upstream.
 */
export function countsAgainstUpstream(error: ModelCallError): boolean {
  return error.code !== 'model_bad_request';
}

/** `429 (rate limited)`, `timeout`, `500 (server error)`: a failure in a few words. */
export function describeFailure(error: ModelCallError): string {
  const words = fallbackCodes[error.code] ?? error.code.replace(/^model_/, '').replaceAll('_', ' ');
  return error.status === undefined ? words : `${error.status} (${words})`;
}
