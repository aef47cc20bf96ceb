/**
 * Decodes the server-sent events of a streaming Anthropic Messages API call into Hataraku's
 * `ModelStreamEvent`s. Pure: it sees one event at a time and knows nothing about the network,
 * so the connection handling in `anthropic-model.ts` stays separate from the wire format.
 *
 * The wire sequence is `message_start`, then per content block `content_block_start`,
 * `content_block_delta`s and `content_block_stop`, then `message_delta` (stop reason, output
 * tokens) and `message_stop`. `ping` keeps the connection alive; `error` ends the stream.
 * Unknown event and block types are skipped, as Anthropic asks clients to do.
 */
import { type ErrorCode, ModelCallError } from '../../errors.js';
import { modelLabel } from '../model-label.js';
import type { FinishReason, ModelStreamEvent, ReasoningPart, Usage } from '../spec.js';
import type { ServerSentEvent } from '../transport/sse.js';

export interface AnthropicStreamContext {
  provider: string;
  modelId: string;
}

/** Turns Anthropic stream events into model stream events, one event at a time. */
export interface AnthropicStreamDecoder {
  /** Decode one server-sent event; throws a `ModelCallError` for error events and bad data. */
  decode(event: ServerSentEvent): ModelStreamEvent[];
  /** True once `message_stop` has been decoded; nothing more is expected after it. */
  readonly finished: boolean;
}

type JsonObject = { [key: string]: unknown };

type OpenBlock =
  | { kind: 'text' }
  | { kind: 'tool-call'; id: string; name: string; argumentsText: string; initialInput: unknown }
  | { kind: 'thinking'; text: string; signature: string }
  | { kind: 'redacted-thinking'; data: string }
  | { kind: 'ignored' };

/** Raw token counts as Anthropic reports them. Its `input_tokens` excludes cached tokens. */
interface AnthropicUsage {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  cacheReadTokens: number | undefined;
  cacheCreationTokens: number | undefined;
}

export function createAnthropicStreamDecoder(context: AnthropicStreamContext): AnthropicStreamDecoder {
  const blocks = new Map<number, OpenBlock>();
  const usage: AnthropicUsage = {
    inputTokens: undefined,
    outputTokens: undefined,
    cacheReadTokens: undefined,
    cacheCreationTokens: undefined,
  };
  let toolCallCount = 0;
  let stopReason: string | undefined;
  let text = '';
  let finished = false;

  function badResponse(detail: string, cause?: unknown): ModelCallError {
    return new ModelCallError({
      code: 'model_bad_response',
      provider: context.provider,
      modelId: context.modelId,
      retryable: false,
      message: `${modelLabel(context)}: the stream sent ${detail}; the response cannot be used.`,
      cause,
    });
  }

  function blockIndex(data: JsonObject): number {
    const index = data.index;
    if (typeof index !== 'number' || !Number.isInteger(index)) {
      throw badResponse(`a ${String(data.type)} event without an integer "index"`);
    }
    return index;
  }

  function mergeUsage(raw: unknown): void {
    if (!isObject(raw)) return;
    // message_delta repeats the counts cumulatively, so later values replace earlier ones.
    usage.inputTokens = readCount(raw.input_tokens) ?? usage.inputTokens;
    usage.outputTokens = readCount(raw.output_tokens) ?? usage.outputTokens;
    usage.cacheReadTokens = readCount(raw.cache_read_input_tokens) ?? usage.cacheReadTokens;
    usage.cacheCreationTokens = readCount(raw.cache_creation_input_tokens) ?? usage.cacheCreationTokens;
  }

  function startBlock(data: JsonObject): ModelStreamEvent[] {
    const index = blockIndex(data);
    const block = data.content_block;
    if (!isObject(block)) throw badResponse('a content_block_start event without a "content_block"');
    if (block.type === 'text') {
      blocks.set(index, { kind: 'text' });
      // The opening block normally carries empty text, but nothing forbids a first piece here.
      if (typeof block.text !== 'string' || block.text === '') return [];
      text += block.text;
      return [{ type: 'text-delta', delta: block.text }];
    }
    if (block.type === 'thinking') {
      const opening = typeof block.thinking === 'string' ? block.thinking : '';
      blocks.set(index, {
        kind: 'thinking',
        text: opening,
        signature: typeof block.signature === 'string' ? block.signature : '',
      });
      return opening === '' ? [] : [{ type: 'reasoning-delta', delta: opening }];
    }
    if (block.type === 'redacted_thinking') {
      blocks.set(index, { kind: 'redacted-thinking', data: typeof block.data === 'string' ? block.data : '' });
      return [];
    }
    if (block.type === 'tool_use') {
      if (typeof block.id !== 'string' || typeof block.name !== 'string') {
        throw badResponse('a tool_use block without a string "id" and "name"');
      }
      blocks.set(index, {
        kind: 'tool-call',
        id: block.id,
        name: block.name,
        argumentsText: '',
        initialInput: block.input,
      });
      return [{ type: 'tool-call-start', id: block.id, name: block.name, index: toolCallCount++ }];
    }
    // Server tool blocks (`server_tool_use`, `web_search_tool_result`) and types added later:
    // the server ran them itself, so they carry nothing Hataraku acts on.
    blocks.set(index, { kind: 'ignored' });
    return [];
  }

  function blockDelta(data: JsonObject): ModelStreamEvent[] {
    const index = blockIndex(data);
    const delta = data.delta;
    if (!isObject(delta)) throw badResponse('a content_block_delta event without a "delta"');
    const block = blocks.get(index);
    if (delta.type === 'text_delta') {
      if (typeof delta.text !== 'string') throw badResponse('a text_delta without string "text"');
      if (block !== undefined && block.kind !== 'text') throw badResponse(`a text_delta for non-text block ${index}`);
      text += delta.text;
      return delta.text === '' ? [] : [{ type: 'text-delta', delta: delta.text }];
    }
    if (delta.type === 'thinking_delta') {
      if (typeof delta.thinking !== 'string') throw badResponse('a thinking_delta without string "thinking"');
      if (block?.kind !== 'thinking') throw badResponse(`a thinking_delta for block ${index}, which is not thinking`);
      block.text += delta.thinking;
      return delta.thinking === '' ? [] : [{ type: 'reasoning-delta', delta: delta.thinking }];
    }
    if (delta.type === 'signature_delta') {
      if (typeof delta.signature !== 'string') throw badResponse('a signature_delta without string "signature"');
      if (block?.kind !== 'thinking') throw badResponse(`a signature_delta for block ${index}, which is not thinking`);
      block.signature += delta.signature;
      return [];
    }
    if (delta.type === 'input_json_delta') {
      if (typeof delta.partial_json !== 'string')
        throw badResponse('an input_json_delta without string "partial_json"');
      // A server tool's input streams the same way; the server runs it, so it is skipped.
      if (block?.kind === 'ignored') return [];
      if (block?.kind !== 'tool-call')
        throw badResponse(`an input_json_delta for block ${index}, which is not an open tool_use block`);
      block.argumentsText += delta.partial_json;
      return delta.partial_json === ''
        ? []
        : [{ type: 'tool-call-delta', id: block.id, argumentsDelta: delta.partial_json }];
    }
    return [];
  }

  function stopBlock(data: JsonObject): ModelStreamEvent[] {
    const index = blockIndex(data);
    const block = blocks.get(index);
    blocks.delete(index);
    if (block?.kind === 'thinking') {
      const part: ReasoningPart = { type: 'reasoning', text: block.text };
      if (block.signature !== '') part.signature = block.signature;
      return [{ type: 'reasoning', part }];
    }
    if (block?.kind === 'redacted-thinking') {
      return [{ type: 'reasoning', part: { type: 'reasoning', text: '', redactedData: block.data } }];
    }
    if (block?.kind !== 'tool-call') return [];
    return [{ type: 'tool-call-end', id: block.id, name: block.name, arguments: finalArguments(block) }];
  }

  function streamError(data: JsonObject): ModelCallError {
    const error = isObject(data.error) ? data.error : {};
    const errorType = typeof error.type === 'string' ? error.type : 'unknown_error';
    const said = typeof error.message === 'string' && error.message !== '' ? ` (${error.message})` : '';
    return new ModelCallError({
      code: codeForStreamError(errorType),
      provider: context.provider,
      modelId: context.modelId,
      // The stream had already started, so the transport cannot retry it transparently; the
      // caller may make the whole call again when the error is transient (overloaded, api_error).
      retryable: errorType === 'overloaded_error' || errorType === 'api_error' || errorType === 'rate_limit_error',
      message: `${modelLabel(context)}: the stream failed mid-way with ${errorType}${said}; the answer is incomplete, retry the call later or use a fallback model.`,
    });
  }

  function finish(): ModelStreamEvent[] {
    finished = true;
    const finishReason = toFinishReason(stopReason);
    const refusal: ModelStreamEvent[] =
      finishReason === 'refusal'
        ? [
            {
              type: 'refusal',
              text: text.trim() === '' ? 'The model declined to answer (stop_reason "refusal").' : text,
            },
          ]
        : [];
    return [
      ...refusal,
      { type: 'usage', usage: toUsage(usage) },
      { type: 'finish', finishReason, providerFinishReason: stopReason },
    ];
  }

  return {
    get finished() {
      return finished;
    },
    decode(event) {
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch (caught) {
        throw badResponse(`malformed JSON in a ${event.event ?? 'message'} event: ${event.data.slice(0, 120)}`, caught);
      }
      if (!isObject(data) || typeof data.type !== 'string') {
        throw badResponse(`an event without a "type": ${event.data.slice(0, 120)}`);
      }
      switch (data.type) {
        case 'message_start': {
          const message = isObject(data.message) ? data.message : {};
          mergeUsage(message.usage);
          return [];
        }
        case 'content_block_start':
          return startBlock(data);
        case 'content_block_delta':
          return blockDelta(data);
        case 'content_block_stop':
          return stopBlock(data);
        case 'message_delta': {
          const delta = isObject(data.delta) ? data.delta : {};
          if (typeof delta.stop_reason === 'string') stopReason = delta.stop_reason;
          mergeUsage(data.usage);
          return [];
        }
        case 'message_stop':
          return finish();
        case 'error':
          throw streamError(data);
        default:
          // `ping` and event types added after this was written.
          return [];
      }
    },
  };
}

function finalArguments(block: { argumentsText: string; initialInput: unknown }): string {
  if (block.argumentsText !== '') return block.argumentsText;
  // No deltas: a call without arguments, or input given whole in the opening block.
  if (isObject(block.initialInput) && Object.keys(block.initialInput).length > 0)
    return JSON.stringify(block.initialInput);
  return '{}';
}

/**
 * Anthropic's `input_tokens` counts only the uncached part of the prompt; Hataraku's
 * `inputTokens` is the whole prompt, so cache reads and cache writes are added back in.
 */
function toUsage(usage: AnthropicUsage): Usage {
  const inputTokens =
    usage.inputTokens === undefined
      ? undefined
      : usage.inputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheCreationTokens ?? 0);
  return {
    inputTokens,
    outputTokens: usage.outputTokens,
    cachedInputTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheCreationTokens,
  };
}

function toFinishReason(stopReason: string | undefined): FinishReason {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool-calls';
    case 'refusal':
      return 'refusal';
    default:
      return 'other';
  }
}

function codeForStreamError(errorType: string): ErrorCode {
  switch (errorType) {
    case 'rate_limit_error':
      return 'model_rate_limited';
    case 'authentication_error':
    case 'permission_error':
      return 'model_auth';
    case 'not_found_error':
      return 'model_unknown';
    case 'invalid_request_error':
    case 'request_too_large':
      return 'model_bad_request';
    case 'timeout_error':
      return 'model_timeout';
    default:
      // overloaded_error, api_error and anything new are failures on Anthropic's side.
      return 'model_server_error';
  }
}

function readCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
