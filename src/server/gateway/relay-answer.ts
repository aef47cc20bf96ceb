/**
 * The relay's answers in wire form (`relay.ts`): a provider's whole completion read for its usage
 * and recorded text, the cost added to it, and the conversions between a whole answer and a
 * stream for a provider that answered in the other form.
 */
import { randomUUID } from 'node:crypto';
import type { OpenAIUsage } from '../../models/openai/openai-wire.js';
import { assistantMessage } from './chat-response.js';
import type { StreamedAnswer, WireAnswerFields } from './chat-stream.js';
import { copyWith } from './copy-with.js';
import type { RelayTarget } from './relay-call.js';
import { badAnswer } from './relay-upstream.js';
import { normalizeMessageToolCalls } from './tool-call-wire.js';

/**
 * A whole completion, read for the ledger (its choices) and its usage. Its tool calls are put into
 * OpenAI's form (`tool-call-wire.ts`); `normalized` says whether that changed the document, which
 * then goes to the client re-written rather than as the provider's text.
 */
export function parseCompletion(
  text: string,
  target: RelayTarget,
): { answer: StreamedAnswer; document: Record<string, unknown>; normalized: boolean } {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw badAnswer(target, `sent an answer that is not JSON: ${JSON.stringify(text.slice(0, 200))}.`);
  }
  if (typeof document !== 'object' || document === null) {
    throw badAnswer(target, `sent an answer that is not a chat completion: ${JSON.stringify(text.slice(0, 200))}.`);
  }
  const fields = document as WireAnswerFields;
  const choice = Array.isArray(fields.choices) ? (fields.choices[0] as Record<string, unknown> | undefined) : undefined;
  const message = (choice?.message ?? {}) as { content?: unknown; refusal?: unknown; tool_calls?: unknown };
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Array<Record<string, unknown>>) : [];
  const normalized = normalizeMessageToolCalls(calls);
  const answer: StreamedAnswer = {
    id: typeof fields.id === 'string' ? fields.id : undefined,
    created: typeof fields.created === 'number' ? fields.created : undefined,
    model: typeof fields.model === 'string' ? fields.model : undefined,
    text: typeof message.content === 'string' ? message.content : '',
    refusal: typeof message.refusal === 'string' ? message.refusal : undefined,
    toolCalls: calls.map((call) => {
      const fn = (call?.function ?? {}) as { name?: unknown; arguments?: unknown };
      return {
        type: 'tool-call' as const,
        id: typeof call?.id === 'string' ? call.id : '',
        name: typeof fn.name === 'string' ? fn.name : '',
        arguments: typeof fn.arguments === 'string' ? fn.arguments : '',
      };
    }),
    finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : null,
    usage: typeof fields.usage === 'object' && fields.usage !== null ? (fields.usage as OpenAIUsage) : undefined,
    error: fields.error ?? undefined,
  };
  return { answer, document: document as Record<string, unknown>, normalized };
}

/**
 * The provider's completion with the call's cost added to its usage (`usage.cost_usd`): its text
 * as it came when there is nothing to add and `normalized` is false, else the document written out.
 */
export function withCost(
  text: string,
  document: Record<string, unknown>,
  costUsd: number | undefined,
  normalized = false,
): string {
  const usage = document.usage as Record<string, unknown> | null | undefined;
  const costed = costUsd !== undefined && typeof usage === 'object' && usage !== null;
  if (!costed && !normalized) return text;
  if (costed) usage.cost_usd = costUsd;
  return JSON.stringify(document);
}

export function usageWithCost(usage: OpenAIUsage | undefined, costUsd: number | undefined) {
  if (usage === undefined) return undefined;
  return costUsd === undefined ? usage : copyWith(usage, { cost_usd: costUsd });
}

/** A whole `chat.completion` from an answer the provider streamed. */
export function completionOfAnswer(answer: StreamedAnswer, target: RelayTarget, costUsd: number | undefined) {
  return {
    id: answer.id ?? `chatcmpl-${randomUUID().replaceAll('-', '')}`,
    object: 'chat.completion',
    created: answer.created ?? Math.floor(Date.now() / 1000),
    model: answer.model ?? target.modelId,
    choices: [
      {
        index: 0,
        message: assistantMessage(answer.text, answer.toolCalls, answer.refusal),
        logprobs: null,
        finish_reason: answer.finishReason ?? 'stop',
      },
    ],
    ...(answer.usage ? { usage: usageWithCost(answer.usage, costUsd) } : {}),
  };
}

/** The chunks of a stream carrying `answer`, for a provider that sent a whole answer to a streamed request. */
export function chunksOf(
  answer: StreamedAnswer,
  target: RelayTarget,
  body: Record<string, unknown>,
  costUsd: number | undefined,
): string {
  const base = {
    id: answer.id ?? `chatcmpl-${randomUUID().replaceAll('-', '')}`,
    object: 'chat.completion.chunk',
    created: answer.created ?? Math.floor(Date.now() / 1000),
    model: answer.model ?? target.modelId,
  };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
  let out = chunk({ role: 'assistant', content: answer.text });
  if (answer.refusal !== undefined) out += chunk({ refusal: answer.refusal });
  for (const [index, call] of answer.toolCalls.entries()) {
    out += chunk({
      tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }],
    });
  }
  out += chunk({}, answer.finishReason ?? 'stop');
  const options = body.stream_options as { include_usage?: unknown } | null | undefined;
  if (options?.include_usage === true && answer.usage) {
    out += `data: ${JSON.stringify({ ...base, choices: [], usage: usageWithCost(answer.usage, costUsd) })}\n\n`;
  }
  return `${out}data: [DONE]\n\n`;
}
