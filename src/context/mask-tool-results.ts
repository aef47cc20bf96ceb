/**
 * `maskUsedToolResults`: tool results the model has already used (a later assistant turn
 * follows them) are replaced by a one-line placeholder that says how to get them back, except
 * the last `keepLast` results.
 *
 * Masking rewrites old messages, and a rewritten message ends the prefix the provider has
 * cached: the rest of the prompt is billed again at the full rate (OpenAI), or written to the
 * cache again at 1.25 times the rate (Anthropic). Masking each result as soon as it is used
 * would do that at every call. So masks are applied in batches: the strategy keeps a boundary,
 * masks every result before it, and moves the boundary forward, over all used results at once,
 * only when the used results waiting past it add up to `batchCharacters`. Between two moves the
 * prompt only grows and stays cached. A larger batch breaks the cache less often but sends the
 * waiting results for longer; `bench/context` measures the trade-off.
 *
 * The boundary is not remembered between calls: it is recomputed from the history by replaying
 * the rule over every earlier model call (see `modelCallPoints`), so the result is the same in a
 * process that resumes the run after a crash.
 */
import type { ModelMessage, ToolResultMessage } from '../models/spec.js';
import { type ContextStrategy, modelCallPoints } from './context-strategy.js';
import { offloadedResultPrefix } from './offload-tool-results.js';

export interface MaskOptions {
  /** The most recent tool results that are never masked (default 3). */
  keepLast?: number;
  /**
   * Characters of used, unmasked results that must be waiting before the boundary moves
   * (default 20,000). 0 masks every used result at once, at the cost of a cache break per call.
   */
  batchCharacters?: number;
}

/** Marks a placeholder, so that a masked result is never masked twice. */
export const maskedResultPrefix = '[Tool result of ';

/** Create the strategy. */
export function maskUsedToolResults(options: MaskOptions = {}): ContextStrategy {
  const keepLast = options.keepLast ?? 3;
  const batchCharacters = options.batchCharacters ?? 20_000;
  if (!Number.isInteger(keepLast) || keepLast < 0)
    throw new RangeError(`maskUsedToolResults: keepLast must be a non-negative integer (got ${keepLast})`);
  if (!Number.isFinite(batchCharacters) || batchCharacters < 0)
    throw new RangeError(`maskUsedToolResults: batchCharacters must be a non-negative number (got ${batchCharacters})`);
  const placeholders = new WeakMap<ModelMessage, ToolResultMessage>();

  return {
    name: 'mask-used-tool-results',
    async prepare(input) {
      const boundary = maskBoundary(input.messages, keepLast, batchCharacters);
      const messages: ModelMessage[] = [];
      let masked = 0;
      for (const [position, message] of input.messages.entries()) {
        if (position >= boundary || message.role !== 'tool' || !worthMasking(message)) {
          messages.push(message);
          continue;
        }
        let placeholder = placeholders.get(message);
        if (placeholder === undefined) {
          placeholder = placeholderFor(message);
          placeholders.set(message, placeholder);
        }
        messages.push(placeholder);
        masked++;
      }
      const notes = masked > 0 ? [`mask-used-tool-results: ${masked} used tool results masked`] : [];
      return { messages, notes };
    },
  };
}

/**
 * The position before which every tool result is masked, found by replaying the batching rule
 * over each model call the history records.
 */
export function maskBoundary(messages: readonly ModelMessage[], keepLast: number, batchCharacters: number): number {
  const toolPositions: number[] = [];
  for (const [position, message] of messages.entries()) if (message.role === 'tool') toolPositions.push(position);
  let boundary = 0;
  let lastAssistant = -1;
  let toolsSeen = 0;
  for (const point of modelCallPoints(messages)) {
    while (toolsSeen < toolPositions.length && (toolPositions[toolsSeen] as number) < point) toolsSeen++;
    for (let position = point - 1; position > lastAssistant; position--) {
      if (messages[position]?.role === 'assistant') {
        lastAssistant = position;
        break;
      }
    }
    // Used: before the last assistant turn in this call's history; and not among the last `keepLast`.
    let lastCandidate = -1;
    let waiting = 0;
    for (let index = 0; index < toolsSeen - keepLast; index++) {
      const position = toolPositions[index] as number;
      if (position > lastAssistant) break;
      lastCandidate = position;
      const message = messages[position] as ToolResultMessage;
      if (position >= boundary && worthMasking(message)) waiting += message.content.length;
    }
    if (lastCandidate >= boundary && waiting > 0 && waiting >= batchCharacters) boundary = lastCandidate + 1;
  }
  return boundary;
}

function worthMasking(message: ToolResultMessage): boolean {
  return (
    !message.content.startsWith(maskedResultPrefix) && message.content.length > placeholderFor(message).content.length
  );
}

function placeholderFor(message: ToolResultMessage): ToolResultMessage {
  let text: string;
  if (message.content.startsWith(offloadedResultPrefix)) {
    const described = /^\[Tool result stored in the workspace: (\S+) \((\d+) characters/.exec(message.content);
    const path = described?.[1] ?? 'the file named earlier';
    const size = described?.[2] ?? String(message.content.length);
    text = `${maskedResultPrefix}${message.toolName} (${size} characters) elided; it is stored at ${path}: read it with files.read if needed]`;
  } else {
    text = `${maskedResultPrefix}${message.toolName} (${message.content.length} characters) elided; call the tool again with the same arguments if needed]`;
  }
  return {
    role: 'tool',
    toolCallId: message.toolCallId,
    toolName: message.toolName,
    content: text,
    ...(message.isError === undefined ? {} : { isError: message.isError }),
  };
}
