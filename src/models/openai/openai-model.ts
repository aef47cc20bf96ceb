/**
 * The `openai` provider: any server that speaks the Chat Completions API with streaming.
 *
 * OpenAI, vLLM, Ollama, the llama.cpp server, DeepSeek, Groq and OpenRouter all work through
 * the same code; only `baseURL`, `apiKey` and the `provider` label change. The request goes
 * through the shared transport (retries happen there, before any event is yielded); the
 * stream is then read chunk by chunk and turned into specification events. Failures after the
 * first event are thrown from the iterator and never retried here, because the caller has
 * already seen part of the answer.
 */
import { ModelCallError } from '../../errors.js';
import { modelLabel } from '../model-label.js';
import type { FinishReason, Model, ModelRequest, ModelStreamEvent, ModelWarning, Usage } from '../spec.js';
import { randomToolCallId } from '../tool-call-id.js';
import {
  abortedError,
  defaultRetryPolicy,
  postWithRetry,
  type RetryPolicy,
  releaseResponse,
} from '../transport/http.js';
import { parseServerSentEvents } from '../transport/sse.js';
import { redactedUrl, redactUrlCredentials } from '../transport/url-redaction.js';
import { guardStreamBody } from './guard-stream-body.js';
import {
  chatCompletionChunkSchema,
  chatCompletionSchema,
  completionToChunk,
  describeStreamError,
  type OpenAIChatCompletionChunk,
  type OpenAIToolCallDelta,
  toFinishReason,
  toOpenAIRequestBody,
  toUsage,
} from './openai-wire.js';

/** Options of `createOpenAIModel`. */
export interface OpenAIModelOptions {
  /** Model id as the server knows it, e.g. `gpt-4o-mini`, `qwen2.5:7b`, `deepseek-chat`. */
  modelId: string;
  /** Base URL up to and including the API version, default `https://api.openai.com/v1`. */
  baseURL?: string;
  /** Sent as a bearer token. Leave undefined for servers that need none (Ollama, llama.cpp). */
  apiKey?: string | undefined;
  /** Extra headers sent with every request; they override the defaults. */
  headers?: Record<string, string>;
  /** Label used in errors and events, default `openai`, e.g. `ollama` or `deepseek`. */
  provider?: string;
  /** Milliseconds until the response headers must arrive, per attempt; default 120000. */
  timeoutMs?: number;
  /** Longest silence between two stream chunks, in milliseconds; default 120000. */
  idleTimeoutMs?: number;
  /** Retries for failures before the stream starts; default two retries with backoff. */
  retry?: RetryPolicy;
  /** Fetch implementation, default the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Appended to authentication errors, default `set OPENAI_API_KEY or the apiKey option`. */
  authHint?: string;
}

interface ResolvedSettings {
  provider: string;
  modelId: string;
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  idleTimeoutMs: number;
  retry: RetryPolicy;
  fetch: typeof globalThis.fetch | undefined;
  authHint: string;
}

const defaultBaseURL = 'https://api.openai.com/v1';
/** Default for both the header timeout and the idle timeout. */
const defaultTimeoutMs = 120_000;
/** How much of an unexpected payload an error message quotes. */
const quotedPayloadLength = 200;

/** Create a model that talks to an OpenAI-compatible Chat Completions endpoint. */
export function createOpenAIModel(options: OpenAIModelOptions): Model {
  if (typeof options.modelId !== 'string' || options.modelId.trim() === '') {
    throw new TypeError('createOpenAIModel: the modelId option must be a non-empty string.');
  }
  const baseURL = (options.baseURL ?? defaultBaseURL).replace(/\/+$/, '');
  if (!URL.canParse(baseURL)) {
    throw new TypeError(`createOpenAIModel: the baseURL option is not a valid URL: "${redactedUrl(baseURL)}".`);
  }
  const timeoutMs = positiveMilliseconds('timeoutMs', options.timeoutMs);
  const idleTimeoutMs = positiveMilliseconds('idleTimeoutMs', options.idleTimeoutMs);
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  // An empty key is treated as none: `Bearer ` would only earn a confusing 401.
  if (options.apiKey !== undefined && options.apiKey !== '') headers.authorization = `Bearer ${options.apiKey}`;
  Object.assign(headers, options.headers);

  const settings: ResolvedSettings = {
    provider: options.provider ?? 'openai',
    modelId: options.modelId,
    url: `${baseURL}/chat/completions`,
    headers,
    timeoutMs,
    idleTimeoutMs,
    retry: options.retry ?? defaultRetryPolicy,
    fetch: options.fetch,
    authHint: options.authHint ?? 'set OPENAI_API_KEY or the apiKey option',
  };
  return {
    specificationVersion: 'v1',
    provider: settings.provider,
    modelId: settings.modelId,
    stream: (request) => streamChatCompletion(settings, request),
  };
}

function positiveMilliseconds(name: string, value: number | undefined): number {
  if (value === undefined) return defaultTimeoutMs;
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(
      `createOpenAIModel: the ${name} option must be a positive number of milliseconds, got ${value}.`,
    );
  }
  return value;
}

async function* streamChatCompletion(
  settings: ResolvedSettings,
  request: ModelRequest,
): AsyncGenerator<ModelStreamEvent> {
  const { body, warnings } = toOpenAIRequestBody(settings.modelId, request, { provider: settings.provider });
  const response = await postWithRetry({
    provider: settings.provider,
    modelId: settings.modelId,
    url: settings.url,
    headers: settings.headers,
    body,
    timeoutMs: settings.timeoutMs,
    retry: settings.retry,
    abortSignal: request.abortSignal,
    fetch: settings.fetch,
    authHint: settings.authHint,
  });
  try {
    yield* readCompletion(settings, request, response, warnings);
  } finally {
    releaseResponse(response);
  }
}

/** The events of a successful response: a stream of chunks, or a whole completion sent at once. */
async function* readCompletion(
  settings: ResolvedSettings,
  request: ModelRequest,
  response: Response,
  warnings: ModelWarning[],
): AsyncGenerator<ModelStreamEvent> {
  const label = modelLabel(settings);
  const badResponse = (message: string, cause?: unknown): ModelCallError =>
    new ModelCallError({
      code: 'model_bad_response',
      provider: settings.provider,
      modelId: settings.modelId,
      retryable: false,
      message: `${label}: ${message}`,
      cause,
    });
  if (response.body === null)
    throw badResponse(`${redactedUrl(settings.url)} answered ${response.status} with no body.`);

  yield { type: 'stream-start', warnings };
  const assembler = new ChunkAssembler(settings, badResponse);

  const contentType = response.headers.get('content-type') ?? '';
  if (contentType.includes('application/json')) {
    // The server ignored `stream: true` and sent the whole completion at once.
    const text = await readWholeBody(response, request.abortSignal, settings);
    const document = parseJson(text, badResponse);
    if (typeof document === 'object' && document !== null && 'error' in document) {
      yield* assembler.accept(parseChunk(text, badResponse));
    }
    const completion = chatCompletionSchema.safeParse(document);
    if (!completion.success) throw badResponse(`sent a response that is not a chat completion: ${quote(text)}`);
    yield* assembler.accept(completionToChunk(completion.data));
    yield* assembler.finish(true);
    return;
  }

  let chunkCount = 0;
  let sawDone = false;
  const guardedBody = guardStreamBody(response.body, {
    idleTimeoutMs: settings.idleTimeoutMs,
    abortSignal: request.abortSignal,
    idleError: () =>
      new ModelCallError({
        code: 'model_timeout',
        provider: settings.provider,
        modelId: settings.modelId,
        retryable: true,
        message: `${label}: the stream went silent for ${settings.idleTimeoutMs} ms after ${chunkCount} chunks; the server may be overloaded, or raise idleTimeoutMs.`,
      }),
    abortError: () => abortedError(settings),
  });
  try {
    for await (const event of parseServerSentEvents(guardedBody)) {
      const data = event.data.trim();
      if (data === '[DONE]') {
        sawDone = true;
        break;
      }
      chunkCount++;
      if (event.event === 'error') throw serverError(settings, quote(redactUrlCredentials(data, settings.url)));
      yield* assembler.accept(parseChunk(data, badResponse));
    }
  } catch (caught) {
    if (caught instanceof ModelCallError) throw caught;
    if (request.abortSignal?.aborted) throw abortedError(settings, caught);
    throw new ModelCallError({
      code: 'model_unreachable',
      provider: settings.provider,
      modelId: settings.modelId,
      retryable: true,
      message: `${label}: the stream was cut off after ${chunkCount} chunks (${redactUrlCredentials(describeCause(caught), settings.url)}); retry the call.`,
      cause: caught,
    });
  }
  yield* assembler.finish(sawDone);
}

/** Parse one `data:` payload into a chunk, or explain what arrived instead. */
function parseChunk(
  data: string,
  badResponse: (message: string, cause?: unknown) => ModelCallError,
): OpenAIChatCompletionChunk {
  const parsed = chatCompletionChunkSchema.safeParse(parseJson(data, badResponse));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : ` (${issue.path.join('.') || 'chunk'}: ${issue.message})`;
    throw badResponse(`sent a chunk of an unexpected shape${where}: ${quote(data)}`, parsed.error);
  }
  return parsed.data;
}

function parseJson(data: string, badResponse: (message: string, cause?: unknown) => ModelCallError): unknown {
  try {
    return JSON.parse(data);
  } catch (caught) {
    throw badResponse(`sent a chunk that is not valid JSON: ${quote(data)}`, caught);
  }
}

async function readWholeBody(
  response: Response,
  abortSignal: AbortSignal | undefined,
  settings: ResolvedSettings,
): Promise<string> {
  try {
    return await response.text();
  } catch (caught) {
    if (abortSignal?.aborted) throw abortedError(settings, caught);
    throw new ModelCallError({
      code: 'model_unreachable',
      provider: settings.provider,
      modelId: settings.modelId,
      retryable: true,
      message: `${modelLabel(settings)}: the response was cut off (${redactUrlCredentials(describeCause(caught), settings.url)}); retry the call.`,
      cause: caught,
    });
  }
}

function serverError(settings: ResolvedSettings, said: string): ModelCallError {
  return new ModelCallError({
    code: 'model_server_error',
    provider: settings.provider,
    modelId: settings.modelId,
    retryable: true,
    message: `${modelLabel(settings)}: the server reported an error mid-stream (${said}); retry later or use a fallback model.`,
  });
}

function quote(data: string): string {
  const flat = data.replace(/\s+/g, ' ');
  return flat.length > quotedPayloadLength
    ? `${JSON.stringify(flat.slice(0, quotedPayloadLength))}…`
    : JSON.stringify(flat);
}

function describeCause(caught: unknown): string {
  if (caught instanceof Error) {
    const cause = caught.cause instanceof Error ? `: ${caught.cause.message}` : '';
    return `${caught.message}${cause}`;
  }
  return String(caught);
}

interface ToolCallState {
  index: number;
  id: string | undefined;
  name: string;
  arguments: string;
  started: boolean;
  ended: boolean;
}

/**
 * Turns chunks into events. Tool calls are keyed by their `index`, so calls streamed in
 * parallel may interleave; a call is announced once its name is known, and its argument text
 * received before that is sent with the announcement.
 */
class ChunkAssembler {
  readonly #settings: ResolvedSettings;
  readonly #badResponse: (message: string) => ModelCallError;
  readonly #toolCalls = new Map<number, ToolCallState>();
  /**
   * The call each wire index currently points to. Ollama streams every parallel call at
   * `index: 0`, each with its own id; a new id at a used index starts a new call.
   */
  readonly #callAtWireIndex = new Map<number, number>();
  /**
   * One past the highest index in use, and each id's call: kept as calls arrive, since a stream
   * may carry any number of calls and a scan of them per call held the thread for minutes.
   */
  #nextIndex = 0;
  readonly #indexOfId = new Map<string, number>();
  #lastToolCallIndex: number | undefined;
  #reasoning = '';
  #providerFinishReason: string | undefined;
  #usage: Usage | undefined;
  #refusal = '';

  constructor(settings: ResolvedSettings, badResponse: (message: string) => ModelCallError) {
    this.#settings = settings;
    this.#badResponse = badResponse;
  }

  *accept(chunk: OpenAIChatCompletionChunk): Generator<ModelStreamEvent> {
    if (chunk.error !== undefined && chunk.error !== null) {
      throw serverError(this.#settings, describeStreamError(chunk.error));
    }
    const reportedUsage = chunk.usage ?? chunk.x_groq?.usage;
    // Servers that report usage on every chunk send running totals; the last one wins.
    if (reportedUsage !== undefined && reportedUsage !== null) this.#usage = toUsage(reportedUsage);
    // Only one completion is requested, so only choice 0 matters.
    const choice = chunk.choices?.find((candidate) => (candidate.index ?? 0) === 0);
    if (choice === undefined) return;
    const delta = choice.delta;
    const reasoning = delta?.reasoning_content ?? delta?.reasoning;
    if (typeof reasoning === 'string' && reasoning !== '') {
      this.#reasoning += reasoning;
      yield { type: 'reasoning-delta', delta: reasoning };
    }
    if (typeof delta?.content === 'string' && delta.content !== '') yield { type: 'text-delta', delta: delta.content };
    if (typeof delta?.refusal === 'string') this.#refusal += delta.refusal;
    for (const toolCallDelta of delta?.tool_calls ?? []) yield* this.#acceptToolCall(toolCallDelta);
    if (typeof choice.finish_reason === 'string' && choice.finish_reason !== '') {
      this.#providerFinishReason = choice.finish_reason;
      yield* this.#endToolCalls();
    }
  }

  /** Close the stream: end open tool calls, then report usage and the finish reason. */
  *finish(sawDone: boolean): Generator<ModelStreamEvent> {
    if (this.#providerFinishReason === undefined && !sawDone) {
      throw this.#badResponse('the stream ended without a finish_reason or [DONE]; the answer may be incomplete.');
    }
    yield* this.#endToolCalls();
    // One part for the whole turn: it goes back as one `reasoning_content` string.
    if (this.#reasoning !== '') yield { type: 'reasoning', part: { type: 'reasoning', text: this.#reasoning } };
    if (this.#refusal !== '') yield { type: 'refusal', text: this.#refusal };
    if (this.#usage !== undefined) yield { type: 'usage', usage: this.#usage };
    let finishReason: FinishReason = toFinishReason(this.#providerFinishReason);
    // Some servers say `stop` even when the turn ended in tool calls.
    if (finishReason === 'stop' && this.#toolCalls.size > 0) finishReason = 'tool-calls';
    // OpenAI ends a refusal with `stop`; the refusal text is what the model said.
    if (this.#refusal !== '' && (finishReason === 'stop' || finishReason === 'content-filter'))
      finishReason = 'refusal';
    yield { type: 'finish', finishReason, providerFinishReason: this.#providerFinishReason };
  }

  *#acceptToolCall(toolCallDelta: OpenAIToolCallDelta): Generator<ModelStreamEvent> {
    const index = this.#resolveIndex(toolCallDelta);
    this.#lastToolCallIndex = index;
    let state = this.#toolCalls.get(index);
    if (state === undefined) {
      state = { index, id: undefined, name: '', arguments: '', started: false, ended: false };
      this.#toolCalls.set(index, state);
      this.#nextIndex = Math.max(this.#nextIndex, index + 1);
    }
    if (state.id === undefined && typeof toolCallDelta.id === 'string' && toolCallDelta.id !== '') {
      state.id = toolCallDelta.id;
      if (!this.#indexOfId.has(state.id)) this.#indexOfId.set(state.id, index);
    }
    const name = toolCallDelta.function?.name;
    if (!state.started && typeof name === 'string') state.name = name;
    const argumentsDelta = toolCallDelta.function?.arguments ?? '';
    state.arguments += argumentsDelta;
    if (state.started) {
      if (argumentsDelta !== '') yield { type: 'tool-call-delta', id: state.id ?? '', argumentsDelta };
      return;
    }
    if (state.name === '') return;
    state.started = true;
    // A few servers omit the id; one is made up so the tool result can still refer to it.
    state.id ??= randomToolCallId();
    yield { type: 'tool-call-start', id: state.id, name: state.name, index };
    if (state.arguments !== '') yield { type: 'tool-call-delta', id: state.id, argumentsDelta: state.arguments };
  }

  #resolveIndex(toolCallDelta: OpenAIToolCallDelta): number {
    const id = toolCallDelta.id;
    if (typeof toolCallDelta.index === 'number') {
      const wireIndex = toolCallDelta.index;
      const current = this.#callAtWireIndex.get(wireIndex) ?? wireIndex;
      const state = this.#toolCalls.get(current);
      const startsAnother =
        state !== undefined && state.id !== undefined && typeof id === 'string' && id !== '' && id !== state.id;
      if (!startsAnother) {
        this.#callAtWireIndex.set(wireIndex, current);
        return current;
      }
      const next = this.#nextIndex;
      this.#nextIndex = next + 1;
      this.#callAtWireIndex.set(wireIndex, next);
      return next;
    }
    // Without an index, a new id starts a new call and anything else continues the last one.
    if (typeof id === 'string' && id !== '') return this.#indexOfId.get(id) ?? this.#nextIndex;
    return this.#lastToolCallIndex ?? 0;
  }

  *#endToolCalls(): Generator<ModelStreamEvent> {
    const pending = [...this.#toolCalls.values()].filter((state) => !state.ended).sort((a, b) => a.index - b.index);
    for (const state of pending) {
      if (!state.started || state.id === undefined) {
        throw this.#badResponse(
          `tool call ${state.index} arrived without a function name (arguments so far: ${quote(state.arguments)}).`,
        );
      }
      state.ended = true;
      yield { type: 'tool-call-end', id: state.id, name: state.name, arguments: state.arguments };
    }
  }
}
