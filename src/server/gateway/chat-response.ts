/**
 * The response side of the OpenAI Chat Completions wire format: a whole completion, and the
 * chunks of a streamed one, built from Hataraku's model events.
 */
import type { FinishReason, ModelResponse, ModelStreamEvent, Usage } from '../../models/spec.js';

export function finishReasonOf(reason: FinishReason): string {
  const mapped: Record<FinishReason, string> = {
    stop: 'stop',
    length: 'length',
    'tool-calls': 'tool_calls',
    'content-filter': 'content_filter',
    // OpenAI ends a refusal with `stop` and puts the words in `message.refusal`.
    refusal: 'stop',
    error: 'stop',
    other: 'stop',
  };
  return mapped[reason];
}

export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  /** Hataraku's extension: the call's cost in USD, when known. */
  cost_usd?: number;
}

export function wireUsage(usage: Usage, costUsd: number | undefined): WireUsage {
  const prompt = usage.inputTokens ?? 0;
  const completion = usage.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(usage.cachedInputTokens !== undefined
      ? { prompt_tokens_details: { cached_tokens: usage.cachedInputTokens } }
      : {}),
    ...(costUsd !== undefined ? { cost_usd: costUsd } : {}),
  };
}

export function completionBody(init: {
  id: string;
  model: string;
  created: number;
  text: string;
  toolCalls: ModelResponse['toolCalls'];
  finishReason: FinishReason;
  usage: Usage;
  costUsd: number | undefined;
  /** The model's refusal text, when it declined. */
  refusal?: string | undefined;
}) {
  return {
    id: init.id,
    object: 'chat.completion',
    created: init.created,
    model: init.model,
    choices: [
      {
        index: 0,
        message: assistantMessage(init.text, init.toolCalls, init.refusal),
        logprobs: null,
        finish_reason: finishReasonOf(init.finishReason),
      },
    ],
    usage: wireUsage(init.usage, init.costUsd),
  };
}

/** The `message` of a completion's choice: its text (null when it only calls tools), refusal and tool calls. */
export function assistantMessage(
  text: string,
  toolCalls: ReadonlyArray<{ id: string; name: string; arguments: string }>,
  refusal: string | undefined,
) {
  return {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: refusal ?? null,
    ...(toolCalls.length > 0
      ? {
          tool_calls: toolCalls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        }
      : {}),
  };
}

/** Turns model events into `chat.completion.chunk` objects (as SSE `data:` lines). */
export function createChunkWriter(init: { id: string; model: string; created: number }) {
  const toolIndexes = new Map<string, number>();
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    `data: ${JSON.stringify({
      id: init.id,
      object: 'chat.completion.chunk',
      created: init.created,
      model: init.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    })}\n\n`;
  return {
    start: () => chunk({ role: 'assistant', content: '' }),
    /** The chunk for one model event, or undefined when it has none. */
    event(event: ModelStreamEvent): string | undefined {
      switch (event.type) {
        case 'text-delta':
          return chunk({ content: event.delta });
        case 'refusal':
          return chunk({ refusal: event.text });
        case 'tool-call-start': {
          const index = toolIndexes.size;
          toolIndexes.set(event.id, index);
          return chunk({
            tool_calls: [{ index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } }],
          });
        }
        case 'tool-call-delta':
          return chunk({
            tool_calls: [{ index: toolIndexes.get(event.id) ?? 0, function: { arguments: event.argumentsDelta } }],
          });
        default:
          return undefined;
      }
    },
    text: (delta: string) => chunk({ content: delta }),
    finish: (reason: FinishReason) => chunk({}, finishReasonOf(reason)),
    usage: (usage: WireUsage) =>
      `data: ${JSON.stringify({ id: init.id, object: 'chat.completion.chunk', created: init.created, model: init.model, choices: [], usage })}\n\n`,
    error: (code: string, message: string) =>
      `data: ${JSON.stringify({ error: { code, message, type: 'server_error' } })}\n\n`,
    done: () => 'data: [DONE]\n\n',
  };
}
