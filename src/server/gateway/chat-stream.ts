/**
 * Reading a Chat Completions answer in its wire form: the `data:` payloads of an event stream
 * gathered into the whole answer (text, refusal, tool calls, finish reason, usage), and an answer
 * written out as one `chat.completion`. The relay uses it when an upstream streams an answer its
 * client asked for whole, and the ledger uses it to record what a relayed stream said.
 *
 * It is lenient as the servers are: fields may be missing or null, and a payload that is not JSON
 * is skipped (the client saw it as it came).
 */
import type { OpenAIUsage } from '../../models/openai/openai-wire.js';
import type { ToolCallPart } from '../../models/spec.js';
import { createToolCallDeltaNormalizer } from './tool-call-wire.js';

export interface StreamedAnswer {
  id: string | undefined;
  created: number | undefined;
  model: string | undefined;
  text: string;
  refusal: string | undefined;
  toolCalls: ToolCallPart[];
  /** As the upstream said it (`stop`, `length`, `tool_calls`…); null when it never said. */
  finishReason: string | null;
  usage: OpenAIUsage | undefined;
  /** The upstream's in-stream error payload, if it sent one. */
  error: unknown;
}

/** The top-level fields of a completion or a chunk that the gateway reads, any of them absent or odd. */
export interface WireAnswerFields {
  id?: unknown;
  created?: unknown;
  model?: unknown;
  choices?: unknown;
  usage?: unknown;
  /** Groq's own fields; its stream's usage is there. */
  x_groq?: unknown;
  error?: unknown;
}

export interface AnswerAssembler {
  /** Take one parsed chunk (`chat.completion.chunk`). */
  add(chunk: unknown): void;
  answer(): StreamedAnswer;
}

export function createAnswerAssembler(): AnswerAssembler {
  const answer: StreamedAnswer = {
    id: undefined,
    created: undefined,
    model: undefined,
    text: '',
    refusal: undefined,
    toolCalls: [],
    finishReason: null,
    usage: undefined,
    error: undefined,
  };
  const texts: string[] = [];
  const callsByIndex = new Map<number, ToolCallPart>();
  // Ollama's parallel calls at one index, arguments sent as objects (`tool-call-wire.ts`).
  const toolCallDeltas = createToolCallDeltaNormalizer();
  return {
    add(chunk) {
      if (typeof chunk !== 'object' || chunk === null) return;
      const fields = chunk as WireAnswerFields;
      if (fields.error !== undefined && fields.error !== null) answer.error = fields.error;
      if (typeof fields.id === 'string') answer.id ??= fields.id;
      if (typeof fields.created === 'number') answer.created ??= fields.created;
      if (typeof fields.model === 'string') answer.model ??= fields.model;
      const usage = reportedUsageOf(fields);
      if (usage !== undefined) answer.usage = usage;
      if (!Array.isArray(fields.choices)) return;
      for (const choice of fields.choices as Array<Record<string, unknown> | null>) {
        // One choice per request (the gateway refuses `n` > 1); other indexes are not ours.
        if (choice === null || typeof choice !== 'object' || (choice.index ?? 0) !== 0) continue;
        if (typeof choice.finish_reason === 'string') answer.finishReason = choice.finish_reason;
        const delta = choice.delta as Record<string, unknown> | null | undefined;
        if (typeof delta !== 'object' || delta === null) continue;
        if (typeof delta.content === 'string') texts.push(delta.content);
        if (typeof delta.refusal === 'string') answer.refusal = (answer.refusal ?? '') + delta.refusal;
        if (!Array.isArray(delta.tool_calls)) continue;
        toolCallDeltas.normalize(delta.tool_calls);
        for (const [position, raw] of (delta.tool_calls as Array<Record<string, unknown> | null>).entries()) {
          if (typeof raw !== 'object' || raw === null) continue;
          const index = typeof raw.index === 'number' ? raw.index : position;
          const call = callsByIndex.get(index) ?? { type: 'tool-call' as const, id: '', name: '', arguments: '' };
          callsByIndex.set(index, call);
          if (typeof raw.id === 'string' && raw.id !== '') call.id = raw.id;
          const fn = raw.function as { name?: unknown; arguments?: unknown } | null | undefined;
          if (typeof fn?.name === 'string') call.name += fn.name;
          if (typeof fn?.arguments === 'string') call.arguments += fn.arguments;
        }
      }
    },
    answer() {
      answer.text = texts.join('');
      answer.toolCalls = [...callsByIndex.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
      return answer;
    },
  };
}

/**
 * The usage a completion or a chunk reports: its `usage` object, or the one Groq sends inside
 * `x_groq` (as the model layer reads it); undefined when there is none (OpenAI sends
 * `"usage": null` in every chunk but the last).
 */
export function reportedUsageOf(fields: WireAnswerFields): OpenAIUsage | undefined {
  if (typeof fields.usage === 'object' && fields.usage !== null) return fields.usage as OpenAIUsage;
  const groq = fields.x_groq as { usage?: unknown } | null | undefined;
  return typeof groq?.usage === 'object' && groq.usage !== null ? (groq.usage as OpenAIUsage) : undefined;
}

/** The `data:` payloads of complete server-sent events in `text` (blank-line separated), `[DONE]` left out. */
export function eventPayloads(text: string): string[] {
  const payloads: string[] = [];
  const normalized = text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  for (const event of normalized.split('\n\n')) {
    const data = dataOf(event);
    if (data !== undefined && data !== '[DONE]') payloads.push(data);
  }
  return payloads;
}

/** The `data:` payload of one event (its data lines joined by line breaks), or undefined when it has none. */
export function dataOf(event: string): string | undefined {
  let data: string | undefined;
  for (const line of event.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

/** The answer an event stream (its text, whole or cut short) carries. */
export function answerOfEventStream(text: string): StreamedAnswer {
  const assembler = createAnswerAssembler();
  for (const payload of eventPayloads(text)) {
    try {
      assembler.add(JSON.parse(payload));
    } catch {
      // Not JSON: the client got it as it came; there is nothing in it to record.
    }
  }
  return assembler.answer();
}
