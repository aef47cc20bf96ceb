/**
 * HTTP errors of the server: one status-bearing exception, and the one JSON body every error
 * becomes, `{ "error": { "code", "message", "type" } }` (the shape OpenAI clients read). The
 * code is stable; the message says what to fix. Errors that are not Hataraku's own are bugs:
 * they are answered with `internal_error` and no detail, and logged.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { type ErrorCode, HatarakuError } from '../errors.js';

export type ApiErrorCode =
  | ErrorCode
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'invalid_request'
  | 'invalid_json'
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'rate_limited'
  | 'server_busy'
  | 'approval_required'
  | 'internal_error';

export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: ApiErrorCode;
  readonly headers: Record<string, string>;

  constructor(status: ContentfulStatusCode, code: ApiErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const statusByCode: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  usage: 400,
  config_invalid: 400,
  tool_invalid: 400,
  script_invalid: 400,
  model_not_configured: 400,
  model_unknown: 404,
  model_bad_request: 400,
  run_not_found: 404,
  approval_not_found: 404,
  run_not_resumable: 409,
  budget_exceeded: 402,
  model_rate_limited: 429,
  model_auth: 502,
  model_unreachable: 502,
  model_server_error: 502,
  model_bad_response: 502,
  model_timeout: 504,
};

/** Any thrown value as an `ApiError`; `undefined` for bugs (not a Hataraku error). */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof HatarakuError) return new ApiError(statusByCode[error.code] ?? 500, error.code, error.message);
  // Hono's own validators and parsers (e.g. a malformed JSON body).
  if (error instanceof HTTPException && error.status === 415) {
    return new ApiError(
      415,
      'unsupported_media_type',
      'send the request body as JSON, with the header `content-type: application/json`.',
    );
  }
  if (error instanceof HTTPException && error.status < 500) {
    const json = /json/i.test(error.message);
    return new ApiError(
      error.status as ContentfulStatusCode,
      json ? 'invalid_json' : 'invalid_request',
      json ? 'the request body is not valid JSON; send a JSON object.' : error.message,
    );
  }
  return undefined;
}

/** The error body's type field, as OpenAI clients expect it. */
function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function errorBody(code: string, message: string, status: number) {
  return { error: { code, message, type: errorType(status) } };
}

/**
 * Replace each of `secrets` (the provider keys and header values the server holds) in a message
 * meant for a client with `[redacted]`: an upstream's error text can quote the key it was sent.
 */
export function createRedactor(secrets: Iterable<string | undefined>): (message: string) => string {
  // Short values (a header such as `2023-06-01`) are not secrets and would mangle messages.
  const values = [
    ...new Set([...secrets].filter((value): value is string => value !== undefined && value.length >= 8)),
  ];
  values.sort((a, b) => b.length - a.length);
  return (message) => values.reduce((text, value) => text.replaceAll(value, '[redacted]'), message);
}

/** Answer with the error's JSON body; unknown errors are logged and answered without detail. */
export function respondWithError(
  context: Context,
  error: unknown,
  log: (line: string) => void,
  redact: (message: string) => string = (message) => message,
): Response {
  const apiError = toApiError(error);
  if (!apiError) {
    log(
      `internal error on ${context.req.method} ${context.req.path}: ${error instanceof Error ? error.stack : String(error)}`,
    );
    return context.json(
      errorBody('internal_error', 'the server failed to handle this request (a bug; see the server log).', 500),
      500,
    );
  }
  for (const [name, value] of Object.entries(apiError.headers)) context.header(name, value);
  return context.json(errorBody(apiError.code, redact(apiError.message), apiError.status), apiError.status);
}

/** A validation failure as one line: each issue with the path of the field and what is wrong. */
export function describeValidation(error: ZodError, where: string): string {
  const problems = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : where}: ${issue.message}`);
  return `invalid ${where}: ${problems.join('; ')}.`;
}
