/**
 * HTTP transport shared by the network providers: one POST with a timeout, retries with
 * exponential backoff for retryable failures only (429, 408, 409, 5xx, connection errors,
 * timeouts), honouring Retry-After, and errors that name the provider, model, status and what
 * to do next.
 */
import { type ErrorCode, ModelCallError } from '../../errors.js';
import { modelLabel } from '../model-label.js';
import { type AbortSignalLike, PlainAbortController } from './plain-abort.js';
import { redactedUrl, redactUrlCredentials } from './url-redaction.js';

export interface RetryPolicy {
  /** Attempts after the first one. */
  maxRetries: number;
  /** First backoff delay in milliseconds; doubled each attempt, with jitter. */
  initialDelayMs: number;
  /** Upper bound for one wait, including a server's Retry-After. */
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxRetries: 2, initialDelayMs: 500, maxDelayMs: 30_000 };

/**
 * What the transport reads of a response: Fetch's `Response` has it all; the gateway's relay
 * passes a lighter object for a successful answer whose body it reads as a Node stream.
 */
export interface TransportResponse {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The `fetch` the transport calls: `globalThis.fetch`, or one answering `R`. */
export type TransportFetch<R extends TransportResponse> = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<R>;

/**
 * A sender that takes the transport's plain abort signal rather than a Fetch `AbortSignal`: the
 * gateway's relay, which makes a call per client request (`plain-abort.ts` says why).
 */
export type TransportSend<R extends TransportResponse> = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignalLike },
) => Promise<R>;

export interface PostRequest<R extends TransportResponse = Response> {
  provider: string;
  modelId: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** Milliseconds until the response headers must have arrived, per attempt. */
  timeoutMs: number;
  retry: RetryPolicy;
  abortSignal?: AbortSignalLike | undefined;
  /** Default: the global `fetch`. */
  fetch?: TransportFetch<R> | undefined;
  /** Used instead of `fetch` when given. */
  send?: TransportSend<R> | undefined;
  /** Hint appended to authentication errors, e.g. `set OPENAI_API_KEY`. */
  authHint: string;
}

/**
 * POST a JSON body and return the successful response (status 2xx), retrying as allowed. Call
 * `releaseResponse` with it once its body is read or dropped.
 */
export async function postWithRetry<R extends TransportResponse = Response>(request: PostRequest<R>): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    let error: ModelCallError;
    try {
      const response = await fetchOnce(request);
      if (response.ok) return response;
      error = await errorFromResponse(request, response);
      releaseResponse(response);
    } catch (caught) {
      if (caught instanceof ModelCallError) error = caught;
      else throw caught;
    }
    // The caller who aborted asked to stop; whatever the upstream said last is secondary.
    if (request.abortSignal?.aborted && error.code !== 'model_aborted') throw abortedError(request, error);
    if (!error.retryable || attempt >= request.retry.maxRetries) throw error;
    const backoff = request.retry.initialDelayMs * 2 ** attempt * (0.8 + Math.random() * 0.4);
    const wait = Math.min(
      request.retry.maxDelayMs,
      error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : backoff,
    );
    await sleep(wait, request.abortSignal);
  }
}

/**
 * Each attempt's fetch gets a signal of its own, aborted when the response headers are late or
 * when the caller's signal fires. The caller's abort is passed on by a listener (on Node 20,
 * `AbortSignal.any` costs about 30 µs a call, a tenth of a gateway call's CPU), which stays while
 * the body is read, so that an abort still drops the connection; the provider removes it with
 * `releaseResponse` once it is done with the body.
 */
const abortLinks = new WeakMap<TransportResponse, () => void>();

/** Stop passing the caller's abort on to the connection of `response` (its body is read or dropped). */
export function releaseResponse(response: TransportResponse): void {
  const unlink = abortLinks.get(response);
  if (unlink === undefined) return;
  abortLinks.delete(response);
  unlink();
}

async function fetchOnce<R extends TransportResponse>(request: PostRequest<R>): Promise<R> {
  const controller = request.send ? new PlainAbortController() : new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  const caller = request.abortSignal;
  const forward = () => controller.abort(caller?.reason);
  const unlink = () => caller?.removeEventListener('abort', forward);
  if (caller?.aborted) forward();
  else caller?.addEventListener('abort', forward, { once: true });
  try {
    const headers = { 'content-type': 'application/json', ...request.headers };
    const body = JSON.stringify(request.body);
    // Written out in full, not spread: see `copyWith` in the gateway for why, on a hot path.
    const response = request.send
      ? await request.send(request.url, { method: 'POST', headers, body, signal: controller.signal })
      : await (request.fetch ?? (globalThis.fetch as unknown as TransportFetch<R>))(request.url, {
          method: 'POST',
          headers,
          body,
          signal: controller.signal as AbortSignal,
        });
    if (caller) abortLinks.set(response, unlink);
    return response;
  } catch (caught) {
    unlink();
    if (request.abortSignal?.aborted) throw abortedError(request, caught);
    if (timedOut) {
      throw new ModelCallError({
        code: 'model_timeout',
        provider: request.provider,
        modelId: request.modelId,
        retryable: true,
        message: `${modelLabel(request)}: no response within ${request.timeoutMs} ms from ${redactedUrl(request.url)}; the endpoint may be overloaded, or raise the timeout.`,
        cause: caught,
      });
    }
    const reason = redactUrlCredentials(
      caught instanceof Error && caught.cause instanceof Error ? caught.cause.message : String(caught),
      request.url,
    );
    throw new ModelCallError({
      code: 'model_unreachable',
      provider: request.provider,
      modelId: request.modelId,
      retryable: true,
      message: `${modelLabel(request)}: cannot reach ${redactedUrl(request.url)} (${reason}); check the base URL and that the server is running.`,
      cause: caught,
    });
  } finally {
    clearTimeout(timer);
  }
}

export function abortedError(request: { provider: string; modelId: string }, cause?: unknown): ModelCallError {
  return new ModelCallError({
    code: 'model_aborted',
    provider: request.provider,
    modelId: request.modelId,
    retryable: false,
    message: `${modelLabel(request)}: the request was aborted.`,
    cause,
  });
}

/** Build a `ModelCallError` from a non-2xx response, reading the provider's error message. */
export async function errorFromResponse<R extends TransportResponse>(
  request: PostRequest<R>,
  response: TransportResponse,
): Promise<ModelCallError> {
  const status = response.status;
  let upstreamMessage = '';
  try {
    const text = await response.text();
    try {
      const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
      const candidate = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
      upstreamMessage = typeof candidate === 'string' ? candidate : text.slice(0, 200);
    } catch {
      upstreamMessage = text.slice(0, 200);
    }
  } catch {
    upstreamMessage = '';
  }
  // An upstream may quote the key it was sent; the message goes to journals, logs and clients.
  for (const secret of sentSecrets(request.headers)) upstreamMessage = upstreamMessage.replaceAll(secret, '[redacted]');
  // So may it quote the URL, whose userinfo or query string can hold a key.
  upstreamMessage = redactUrlCredentials(upstreamMessage, request.url);
  const retryAfterSeconds = parseRetryAfter(response.headers);
  const said = upstreamMessage ? ` (${upstreamMessage.replace(/\s+/g, ' ').trim()})` : '';
  const where = `${modelLabel(request)}: ${redactedUrl(request.url)} returned ${status}${said}`;
  let code: ErrorCode;
  let retryable = false;
  let advice: string;
  if (status === 401 || status === 403) {
    code = 'model_auth';
    advice = `the API key was rejected; ${request.authHint}.`;
  } else if (status === 404) {
    code = 'model_unknown';
    advice = `the model or endpoint does not exist; check the model name "${request.modelId}" and the base URL.`;
  } else if (status === 429) {
    code = 'model_rate_limited';
    retryable = true;
    advice = 'rate limited; wait and retry, lower concurrency, or use a fallback model.';
  } else if (status === 408 || status === 409 || status >= 500) {
    code = status === 408 ? 'model_timeout' : 'model_server_error';
    retryable = true;
    advice = 'the provider failed; retry later or use a fallback model.';
  } else {
    code = 'model_bad_request';
    advice = 'the provider rejected the request; check the model supports the options used.';
  }
  return new ModelCallError({
    code,
    provider: request.provider,
    modelId: request.modelId,
    status,
    retryable,
    retryAfterSeconds,
    message: `${where}; ${advice}`,
  });
}

/** The header values sent (and each word of them, e.g. the token of `Bearer …`) long enough to be secrets, longest first. */
function sentSecrets(headers: Record<string, string>): string[] {
  const values = Object.values(headers).flatMap((value) => [value, ...value.split(/\s+/)]);
  return [...new Set(values.filter((value) => value.length >= 8))].sort((a, b) => b.length - a.length);
}

function parseRetryAfter(headers: TransportResponse['headers']): number | undefined {
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null && Number.isFinite(Number(milliseconds))) return Number(milliseconds) / 1000;
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

function sleep(milliseconds: number, signal: AbortSignalLike | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, milliseconds);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
