/**
 * The context-strategy contract: what the agent loop sends the model, computed from the full
 * history before every call. The loop keeps the whole history (it is what the journal replays);
 * a strategy returns the messages to send instead, e.g. with large tool results moved to files,
 * used results masked, or old turns summarized.
 *
 * Two properties every strategy keeps:
 * - **Deterministic.** The same history (and the same workspace files) gives the same messages,
 *   so a run resumed after a crash rebuilds exactly the requests it made before. A strategy has
 *   no memory between calls; what it decided at an earlier call it recomputes from the history.
 * - **Prefix-stable.** Provider prompt caches bill a request's longest prefix shared with an
 *   earlier request at a tenth of the price or less. A strategy that rewrites an early message
 *   differently at each call throws that away, so rewrites happen the same way every time, and
 *   a rewrite that must change old messages (masking, summarizing) does it rarely, in batches.
 */
import type { ModelMessage, ModelResponse, ModelToolDefinition } from '../models/spec.js';
import type { ArtifactInput } from '../tools/tool.js';

/** What the loop hands a strategy before a model call. */
export interface ContextInput {
  /** The full history, in order; never mutated by a strategy. */
  messages: readonly ModelMessage[];
  /** The tool definitions the request carries (they count towards its size). */
  tools: readonly ModelToolDefinition[];
  /** The model about to be called, as `provider:modelId`, for token counting. */
  modelName: string;
  /** The run's workspace directory; strategies that write files do nothing without one. */
  workspace: string | undefined;
  runId: string;
  /** Journal index of the model step about to run. */
  stepIndex: number;
  /** Record a file the strategy wrote as an artifact of the run. */
  recordArtifact?: (artifact: ArtifactInput) => void;
}

/** A model call a strategy made (e.g. to summarize), for the loop to price and record. */
export interface ContextModelCall {
  purpose: 'summary';
  /** `provider:modelId` of the model called. */
  model: string;
  /** Digest of what the call was about (for a summary, the name of its cache file). */
  digest: string;
  response: ModelResponse;
}

/** What a strategy returns: the messages to send, and notes on what it changed (for events). */
export interface ContextOutput {
  messages: ModelMessage[];
  notes: string[];
  /** Model calls the strategy made for this call; absent or empty when it made none. */
  modelCalls?: ContextModelCall[];
}

/** Decides what the model sees of the history before each call. */
export interface ContextStrategy {
  /** Short name for notes and events, e.g. `offload-large-tool-results`. */
  readonly name: string;
  prepare(input: ContextInput): Promise<ContextOutput>;
}

/**
 * Strategies applied in order, each to the messages the previous one returned. Put strategies
 * that rewrite each message on its own (offloading) first, then summarizing, then masking:
 * summarizing and masking recompute their earlier decisions from the history they are given,
 * which is only exact when what comes before them rewrites every message the same way at every
 * call.
 */
export function composeStrategies(...strategies: ContextStrategy[]): ContextStrategy {
  return {
    name: strategies.map((strategy) => strategy.name).join('+') || 'none',
    async prepare(input) {
      let messages: ModelMessage[] = [...input.messages];
      const notes: string[] = [];
      const modelCalls: ContextModelCall[] = [];
      for (const strategy of strategies) {
        const output = await strategy.prepare({ ...input, messages });
        messages = output.messages;
        notes.push(...output.notes);
        modelCalls.push(...(output.modelCalls ?? []));
      }
      return { messages, notes, modelCalls };
    },
  };
}

/** The strategy that sends the history as it is. */
export const sendEverything: ContextStrategy = {
  name: 'send-everything',
  async prepare(input) {
    return { messages: [...input.messages], notes: [] };
  },
};

/**
 * The history lengths at which the model was called: each model call appends one assistant
 * message, so a call was made with every prefix that ends just before an assistant message,
 * and the coming call is made with the whole history. Strategies replay their decisions over
 * these points to decide now exactly as they decided then.
 */
export function modelCallPoints(messages: readonly ModelMessage[]): number[] {
  const points: number[] = [];
  for (const [index, message] of messages.entries()) {
    if (message.role === 'assistant') points.push(index);
  }
  points.push(messages.length);
  return points;
}

/** The tool-call part that a tool result at `position` answers, searched backwards. */
export function callOfToolResult(
  messages: readonly ModelMessage[],
  position: number,
): { name: string; arguments: string } | undefined {
  const result = messages[position];
  if (result?.role !== 'tool') return undefined;
  for (let index = position - 1; index >= 0; index--) {
    const message = messages[index];
    if (message?.role !== 'assistant') continue;
    for (const part of message.content) {
      if (part.type === 'tool-call' && part.id === result.toolCallId) return part;
    }
  }
  return undefined;
}
