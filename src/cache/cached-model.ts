/**
 * An exact cache of model calls: a model wrapper that answers a request it has seen before,
 * for the same tenant and within the TTL, from the cache instead of calling the model.
 *
 * Only deterministic requests are cached by default (temperature 0); mode `always` caches every
 * request, for callers who accept one sampled answer standing for all. A miss streams the
 * model's answer through as it comes and stores it once it has finished (an answer that
 * finished with `error` is not stored). A hit replays the stored answer as a stream: the text,
 * the tool calls, the finish reason.
 *
 * Cost of a hit: nothing was called, so its usage is reported as zero input and output tokens of
 * the model `cache:hit` (priced at $0 by `cacheHitPriceSource`), never as the original tokens,
 * which would be charged again. A `routing` event on `cache:hit` records the hit and what it
 * saved, e.g. `cache hit: saved a call to openai:gpt-4o-mini (1200 input and 80 output tokens),
 * cached 42 s ago`. A miss adds no event. A store that fails to read or write turns into a
 * `warning` event and a plain model call: the cache must never break a call that would
 * otherwise succeed.
 */
import { ModelCallError } from '../errors.js';
import { collectResponse } from '../models/collect-response.js';
import { modelLabel } from '../models/model-label.js';
import type { Model, ModelRequest, ModelStreamEvent, ModelUsage, ReasoningPart } from '../models/spec.js';
import { cacheHitModel } from './cache-hit-price.js';
import type { CachedModelCall, CachedResponse, ModelCallCache } from './model-call-cache.js';
import { modelCallKey } from './request-key.js';

/** When the cache is used. */
export type CacheMode = 'deterministic-only' | 'always';

/** Options of `createCachedModel`. */
export interface CachedModelOptions {
  /** The model whose calls are cached. */
  model: Model;
  store: ModelCallCache;
  /** Entries are kept apart per tenant: one tenant never gets another's answers. */
  tenant?: string | undefined;
  /** How long an entry is served, in milliseconds. */
  ttlMs: number;
  /** `deterministic-only` (default): only requests with temperature 0. `always`: every request. */
  mode?: CacheMode;
  /** Clock in milliseconds since the epoch, default `Date.now`. */
  now?: () => number;
}

/**
 * Wrap `model` with the cache. The wrapper has the model's provider, id and `routesTo`, so a
 * run names and budgets it as the model itself. Throws a TypeError or RangeError naming a
 * malformed option.
 */
export function createCachedModel(options: CachedModelOptions): Model {
  const { model, store } = options;
  if (typeof model !== 'object' || model === null || typeof model.stream !== 'function') {
    throw new TypeError('createCachedModel: the model option must be a Model.');
  }
  if (typeof store !== 'object' || store === null || typeof store.get !== 'function') {
    throw new TypeError('createCachedModel: the store option must be a ModelCallCache.');
  }
  if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0) {
    throw new RangeError(
      `createCachedModel: the ttlMs option must be a positive number of milliseconds, got ${options.ttlMs}.`,
    );
  }
  const mode = options.mode ?? 'deterministic-only';
  if (mode !== 'deterministic-only' && mode !== 'always') {
    throw new TypeError(
      `createCachedModel: the mode option must be "deterministic-only" or "always", got ${JSON.stringify(mode)}.`,
    );
  }
  const now = options.now ?? Date.now;
  const label = modelLabel(model);

  async function* stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    if (mode === 'deterministic-only' && request.temperature !== 0) {
      yield* model.stream(request);
      return;
    }
    const key = modelCallKey({ request, model: label, tenant: options.tenant });
    const lookedUpAt = now();
    let hit: CachedModelCall | undefined;
    let storeProblem: string | undefined;
    try {
      hit = await store.get(key, lookedUpAt);
    } catch (error) {
      storeProblem = `the model-call cache could not be read (${describe(error)}); calling ${label}`;
    }
    if (hit !== undefined && hit.tenant === options.tenant) {
      if (request.abortSignal?.aborted) throw aborted(model);
      yield* replay(hit, lookedUpAt);
      return;
    }

    const seen: ModelStreamEvent[] = [];
    if (storeProblem !== undefined) yield { type: 'warning', warning: { type: 'other', message: storeProblem } };
    for await (const event of model.stream(request)) {
      seen.push(event);
      yield event;
    }
    const response = await collectResponse(replayOf(model, seen), request).catch(() => undefined);
    if (response === undefined || response.finishReason === 'error') return;
    const createdAt = now();
    const cached: CachedResponse = {
      version: 1,
      text: response.text,
      toolCalls: response.toolCalls,
      finishReason: response.finishReason,
      ...(response.reasoning ? { reasoning: response.reasoning } : {}),
      ...(response.refusal !== undefined ? { refusal: response.refusal } : {}),
      warnings: response.warnings,
      usageByModel: response.usageByModel.map(({ model: name, usage }) => ({ model: name, usage: definedOnly(usage) })),
    };
    try {
      await store.put({
        key,
        tenant: options.tenant,
        model: label,
        response: cached,
        createdAt,
        expiresAt: createdAt + options.ttlMs,
      });
    } catch (error) {
      yield {
        type: 'warning',
        warning: { type: 'other', message: `the answer of ${label} could not be cached (${describe(error)})` },
      };
    }
  }

  return {
    specificationVersion: 'v1',
    provider: model.provider,
    modelId: model.modelId,
    ...(model.routesTo !== undefined ? { routesTo: model.routesTo } : {}),
    stream,
  };
}

/** The stream of a stored answer. */
function* replay(hit: CachedModelCall, now: number): Generator<ModelStreamEvent> {
  const { response } = hit;
  yield {
    type: 'stream-start',
    warnings: response.warnings.map(({ type, setting, message }) =>
      setting === undefined ? { type, message } : { type, setting, message },
    ),
  };
  yield {
    type: 'routing',
    model: cacheHitModel,
    reason: `cache hit: saved ${describeSaved(response.usageByModel, hit.model)}, cached ${Math.max(0, Math.round((now - hit.createdAt) / 1000))} s ago`,
  };
  for (const part of response.reasoning ?? []) yield { type: 'reasoning', part: withoutUndefined(part) };
  if (response.text !== '') yield { type: 'text-delta', delta: response.text };
  if (response.refusal !== undefined) yield { type: 'refusal', text: response.refusal };
  for (const [index, call] of response.toolCalls.entries()) {
    yield { type: 'tool-call-start', id: call.id, name: call.name, index };
    if (call.arguments !== '') yield { type: 'tool-call-delta', id: call.id, argumentsDelta: call.arguments };
    yield { type: 'tool-call-end', id: call.id, name: call.name, arguments: call.arguments };
  }
  yield { type: 'usage', model: cacheHitModel, usage: { inputTokens: 0, outputTokens: 0 } };
  yield { type: 'finish', finishReason: response.finishReason };
}

/** `a call to openai:gpt-4o-mini (1200 input and 80 output tokens)`, per model the original call used. */
function describeSaved(usageByModel: CachedResponse['usageByModel'], fallbackModel: string): string {
  if (usageByModel.length === 0) return `a call to ${fallbackModel}`;
  const calls = usageByModel.map(({ model, usage }) => {
    const input = usage.inputTokens === undefined ? 'unknown' : String(usage.inputTokens);
    const output = usage.outputTokens === undefined ? 'unknown' : String(usage.outputTokens);
    return `${model} (${input} input and ${output} output tokens)`;
  });
  return `${calls.length === 1 ? 'a call' : 'calls'} to ${calls.join(', ')}`;
}

/** The events a model already streamed, as a model, to assemble them the way the loop does. */
function replayOf(model: Model, events: readonly ModelStreamEvent[]): Model {
  return {
    specificationVersion: 'v1',
    provider: model.provider,
    modelId: model.modelId,
    async *stream() {
      yield* events;
    },
  };
}

/** Usage without its undefined fields, as JSON keeps it. */
function definedOnly(usage: ModelUsage['usage']): CachedResponse['usageByModel'][number]['usage'] {
  const kept: CachedResponse['usageByModel'][number]['usage'] = {};
  if (usage.inputTokens !== undefined) kept.inputTokens = usage.inputTokens;
  if (usage.outputTokens !== undefined) kept.outputTokens = usage.outputTokens;
  if (usage.cachedInputTokens !== undefined) kept.cachedInputTokens = usage.cachedInputTokens;
  if (usage.cacheWriteTokens !== undefined) kept.cacheWriteTokens = usage.cacheWriteTokens;
  return kept;
}

function aborted(model: Model): ModelCallError {
  return new ModelCallError({
    code: 'model_aborted',
    provider: model.provider,
    modelId: model.modelId,
    retryable: false,
    message: `${modelLabel(model)}: the request was aborted.`,
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A reasoning part read back from the cache, without the keys zod left undefined. */
function withoutUndefined(part: NonNullable<CachedResponse['reasoning']>[number]): ReasoningPart {
  const result: ReasoningPart = { type: 'reasoning', text: part.text };
  if (part.signature !== undefined) result.signature = part.signature;
  if (part.redactedData !== undefined) result.redactedData = part.redactedData;
  return result;
}
