/**
 * A provider's tool calls put into the form OpenAI's clients read, for the relay (`relay.ts`),
 * which otherwise passes an answer on as the provider wrote it. The model layer reads the same
 * quirks for agents (`models/openai/openai-model.ts`); a relayed answer goes to a client that
 * does not:
 *
 * - Ollama streams parallel calls all at `index` 0, each with an id of its own. OpenAI's SDKs
 *   assemble a stream's calls by index, so the second call's arguments were appended to the
 *   first's (`{"a":2}{"a":10}`) and the second call was lost. A new id at a used index now starts
 *   a new index.
 * - Some llama.cpp server builds send `arguments` as a JSON object rather than its text; clients
 *   expect text (the openai SDK appends it to a string, as `[object Object]`).
 * - A few servers leave out a call's id; clients need one to answer the call (the AI SDK refuses
 *   a streamed call without one). An id is made up, as the model layer does.
 * - A streamed call without `index` gets one: a new id starts a new call, and a delta without
 *   an id continues the last.
 *
 * Calls already in OpenAI's form are left exactly as they are.
 */
import { randomToolCallId } from '../../models/tool-call-id.js';

export interface ToolCallDeltaNormalizer {
  /** Put one delta's `tool_calls` into OpenAI's form, in place; true when anything changed. */
  normalize(toolCalls: unknown[]): boolean;
}

export function createToolCallDeltaNormalizer(): ToolCallDeltaNormalizer {
  // Every lookup is constant-time: a provider's stream may carry any number of calls (an event
  // of up to 8 Mi characters holds hundreds of thousands), and a scan per call would hold the
  // server's thread for minutes.
  /** The id of each call, by the index the client sees. */
  const idAtIndex = new Map<number, string>();
  /** The index the client sees of each id. */
  const indexOfId = new Map<string, number>();
  /** The index the client sees for each index the provider sends. */
  const indexOfWireIndex = new Map<number, number>();
  /** Indexes the client has seen. */
  const used = new Set<number>();
  /** One past the highest index the client has seen. */
  let nextFree = 0;
  let lastIndex: number | undefined;

  const remember = (index: number, id: string) => {
    idAtIndex.set(index, id);
    if (!indexOfId.has(id)) indexOfId.set(id, index);
  };

  const indexOf = (call: Record<string, unknown>, id: string | undefined): number => {
    if (typeof call.index === 'number') {
      const current = indexOfWireIndex.get(call.index);
      if (current === undefined) {
        const index = used.has(call.index) ? nextFree : call.index;
        indexOfWireIndex.set(call.index, index);
        return index;
      }
      const known = idAtIndex.get(current);
      if (id === undefined || known === undefined || known === id) return current;
      // Another id at an index in use: another call (Ollama's parallel calls).
      const index = nextFree;
      indexOfWireIndex.set(call.index, index);
      return index;
    }
    if (id !== undefined) return indexOfId.get(id) ?? nextFree;
    return lastIndex ?? 0;
  };

  return {
    normalize(toolCalls) {
      let changed = false;
      for (const raw of toolCalls) {
        if (typeof raw !== 'object' || raw === null) continue;
        const call = raw as Record<string, unknown>;
        const id = typeof call.id === 'string' && call.id !== '' ? call.id : undefined;
        const index = indexOf(call, id);
        if (call.index !== index) {
          call.index = index;
          changed = true;
        }
        used.add(index);
        if (index >= nextFree) nextFree = index + 1;
        lastIndex = index;
        const fn = call.function as Record<string, unknown> | null | undefined;
        if (id !== undefined) {
          if (!idAtIndex.has(index)) remember(index, id);
        } else if (!idAtIndex.has(index) && typeof fn?.name === 'string' && fn.name !== '') {
          // The call's first delta, without an id.
          const madeUp = randomToolCallId();
          call.id = madeUp;
          remember(index, madeUp);
          changed = true;
        }
        if (argumentsAsText(fn)) changed = true;
      }
      return changed;
    },
  };
}

/**
 * Put a whole message's `tool_calls` into OpenAI's form, in place (arguments as text, every call
 * with an id); true when anything changed.
 */
export function normalizeMessageToolCalls(toolCalls: unknown[]): boolean {
  let changed = false;
  for (const raw of toolCalls) {
    if (typeof raw !== 'object' || raw === null) continue;
    const call = raw as Record<string, unknown>;
    if (typeof call.id !== 'string' || call.id === '') {
      call.id = randomToolCallId();
      changed = true;
    }
    if (argumentsAsText(call.function as Record<string, unknown> | null | undefined)) changed = true;
  }
  return changed;
}

/** A call's `arguments` sent as a JSON object (or array) turned into its text; true when it was. */
function argumentsAsText(fn: Record<string, unknown> | null | undefined): boolean {
  if (typeof fn !== 'object' || fn === null) return false;
  if (typeof fn.arguments !== 'object' || fn.arguments === null) return false;
  fn.arguments = JSON.stringify(fn.arguments);
  return true;
}
