/**
 * The `anthropic` provider: a `Model` backed by the Anthropic Messages API, streaming.
 *
 * This file owns the connection: it sends the body built by `anthropic-request.ts` through the
 * shared transport (which retries before the first byte), then reads the event stream with an
 * idle timeout and the caller's abort signal, feeding each event to the decoder in
 * `anthropic-stream.ts`. Once the stream has started nothing is retried here; a failure is
 * thrown from the iterator as a `ModelCallError` whose `retryable` says whether making the whole
 * call again may help (a cut connection or a stall: yes; a malformed payload or an abort: no).
 */
import { ModelCallError } from '../../errors.js';
import { modelLabel } from '../model-label.js';
import type { Model, ModelRequest, ModelStreamEvent } from '../spec.js';
import {
  abortedError,
  defaultRetryPolicy,
  postWithRetry,
  type RetryPolicy,
  releaseResponse,
} from '../transport/http.js';
import { parseServerSentEvents, type ServerSentEvent } from '../transport/sse.js';
import { redactedUrl, redactUrlCredentials } from '../transport/url-redaction.js';
import { toAnthropicMessagesBody } from './anthropic-request.js';
import { createAnthropicStreamDecoder } from './anthropic-stream.js';

const provider = 'anthropic';
const authHint = 'set ANTHROPIC_API_KEY or the apiKey option';

export interface AnthropicModelOptions {
  /** Model id as Anthropic knows it, e.g. `claude-sonnet-4-5`. */
  modelId: string;
  /** API root; `/messages` is appended. Default `https://api.anthropic.com/v1`. */
  baseURL?: string;
  /** Sent as `x-api-key`. Not read from the environment here; the caller decides where keys come from. */
  apiKey?: string | undefined;
  /** Extra headers, sent last so they can override the defaults (e.g. `anthropic-beta`). */
  headers?: Record<string, string>;
  /** The `anthropic-version` header. Default `2023-06-01`. */
  anthropicVersion?: string;
  /** Milliseconds until the response headers must arrive, per attempt. Default 120000. */
  timeoutMs?: number;
  /** Milliseconds the stream may stay silent before the call fails. Default 120000. */
  idleTimeoutMs?: number;
  /** Retries before the first byte. Default: the transport's `defaultRetryPolicy`. */
  retry?: RetryPolicy;
  /** Fetch implementation, e.g. one with a proxy. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /**
   * Mark the system prompt, the tools and the conversation so far as cacheable, so the next
   * turn reads them from Anthropic's prompt cache at a fraction of the price. Default true.
   */
  promptCaching?: boolean;
  /**
   * Turn on extended thinking with this many budget tokens (at least 1024). Thinking blocks are
   * kept in the history with their signatures and sent back, as the API requires on tool turns;
   * temperature is then left at its default and forced tool choices become `auto`.
   */
  thinkingBudgetTokens?: number;
}

interface AnthropicSettings {
  modelId: string;
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  idleTimeoutMs: number;
  retry: RetryPolicy;
  fetch: typeof fetch | undefined;
  promptCaching: boolean;
  thinkingBudgetTokens: number | undefined;
}

/**
 * Create a model that calls the Anthropic Messages API.
 *
 * Usage reported by the model follows Hataraku's `Usage`: `inputTokens` is the whole prompt,
 * i.e. Anthropic's `input_tokens` plus `cache_read_input_tokens` plus
 * `cache_creation_input_tokens`; the two cache counts are also given on their own as
 * `cachedInputTokens` and `cacheWriteTokens`.
 */
export function createAnthropicModel(options: AnthropicModelOptions): Model {
  if (typeof options.modelId !== 'string' || options.modelId === '') {
    throw new TypeError('createAnthropicModel: option "modelId" must be a non-empty string.');
  }
  const timeoutMs = positiveMilliseconds('timeoutMs', options.timeoutMs, 120_000);
  const idleTimeoutMs = positiveMilliseconds('idleTimeoutMs', options.idleTimeoutMs, 120_000);
  const baseURL = (options.baseURL ?? 'https://api.anthropic.com/v1').replace(/\/+$/, '');
  const headers: Record<string, string> = { 'anthropic-version': options.anthropicVersion ?? '2023-06-01' };
  if (options.apiKey !== undefined) headers['x-api-key'] = options.apiKey;
  Object.assign(headers, options.headers);
  const settings: AnthropicSettings = {
    modelId: options.modelId,
    url: `${baseURL}/messages`,
    headers,
    timeoutMs,
    idleTimeoutMs,
    retry: options.retry ?? defaultRetryPolicy,
    fetch: options.fetch,
    promptCaching: options.promptCaching ?? true,
    thinkingBudgetTokens: thinkingBudget(options.thinkingBudgetTokens),
  };
  return {
    specificationVersion: 'v1',
    provider,
    modelId: options.modelId,
    stream(request) {
      return streamMessages(settings, request);
    },
  };
}

function thinkingBudget(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1024) {
    throw new RangeError(
      `createAnthropicModel: option "thinkingBudgetTokens" must be an integer of at least 1024, got ${value}.`,
    );
  }
  return value;
}

function positiveMilliseconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `createAnthropicModel: option "${name}" must be a positive number of milliseconds, got ${value}.`,
    );
  }
  return value;
}

async function* streamMessages(settings: AnthropicSettings, request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
  const context = { provider, modelId: settings.modelId };
  const userSignal = request.abortSignal;
  if (userSignal?.aborted) throw abortedError(context, userSignal.reason);
  const { body, warnings } = toAnthropicMessagesBody(request, settings);

  // Aborted by us to drop the connection when the stream stalls or the consumer stops early.
  const connection = new AbortController();
  const signal = userSignal === undefined ? connection.signal : AbortSignal.any([userSignal, connection.signal]);
  let response: Response | undefined;
  try {
    response = await postWithRetry({
      provider,
      modelId: settings.modelId,
      url: settings.url,
      headers: settings.headers,
      body,
      timeoutMs: settings.timeoutMs,
      retry: settings.retry,
      abortSignal: signal,
      fetch: settings.fetch,
      authHint,
    });
    if (response.body === null) {
      throw badResponse(settings, 'a response without a body');
    }
    yield { type: 'stream-start', warnings };

    const decoder = createAnthropicStreamDecoder(context);
    const events = parseServerSentEvents(response.body);
    let eventCount = 0;
    for (;;) {
      const next = await nextEvent(events, settings, userSignal, connection);
      if (next.done) break;
      eventCount++;
      for (const event of decoder.decode(next.value)) yield event;
      if (decoder.finished) return;
    }
    const contentType = response.headers.get('content-type') ?? 'no content type';
    throw badResponse(
      settings,
      eventCount === 0
        ? `no server-sent events (content type: ${contentType})`
        : 'a stream that ended before message_stop',
    );
  } finally {
    // Releases the socket when the stream stopped early; a no-op once the body was read whole.
    connection.abort();
    if (response) releaseResponse(response);
  }
}

/**
 * Wait for the next server-sent event, but no longer than the idle timeout and not past the
 * caller's abort. On either, the connection is dropped so the pending read settles too.
 */
function nextEvent(
  events: AsyncGenerator<ServerSentEvent>,
  settings: AnthropicSettings,
  userSignal: AbortSignal | undefined,
  connection: AbortController,
): Promise<IteratorResult<ServerSentEvent>> {
  const context = { provider, modelId: settings.modelId };
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      userSignal?.removeEventListener('abort', onAbort);
      action();
    };
    const onAbort = () =>
      settle(() => {
        connection.abort();
        reject(abortedError(context, userSignal?.reason));
      });
    const timer = setTimeout(
      () =>
        settle(() => {
          connection.abort();
          reject(
            new ModelCallError({
              code: 'model_timeout',
              provider,
              modelId: settings.modelId,
              retryable: true,
              message: `${modelLabel({ provider, modelId: settings.modelId })}: the stream from ${redactedUrl(settings.url)} sent nothing for ${settings.idleTimeoutMs} ms; the model may be stalled, retry later or raise idleTimeoutMs.`,
            }),
          );
        }),
      settings.idleTimeoutMs,
    );
    if (userSignal?.aborted) {
      onAbort();
      return;
    }
    userSignal?.addEventListener('abort', onAbort, { once: true });
    events.next().then(
      (result) => settle(() => resolve(result)),
      (caught: unknown) => settle(() => reject(readError(settings, caught))),
    );
  });
}

function readError(settings: AnthropicSettings, caught: unknown): ModelCallError {
  if (caught instanceof ModelCallError) return caught;
  const reason = redactUrlCredentials(
    caught instanceof Error && caught.cause instanceof Error ? caught.cause.message : String(caught),
    settings.url,
  );
  return new ModelCallError({
    code: 'model_unreachable',
    provider,
    modelId: settings.modelId,
    retryable: true,
    message: `${modelLabel({ provider, modelId: settings.modelId })}: the connection to ${redactedUrl(settings.url)} broke mid-stream (${reason}); the answer is incomplete, retry the call.`,
    cause: caught,
  });
}

function badResponse(settings: AnthropicSettings, detail: string): ModelCallError {
  return new ModelCallError({
    code: 'model_bad_response',
    provider,
    modelId: settings.modelId,
    retryable: false,
    message: `${modelLabel({ provider, modelId: settings.modelId })}: ${redactedUrl(settings.url)} sent ${detail}; the response cannot be used.`,
  });
}
