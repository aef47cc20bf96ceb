/**
 * A provider's event stream passed through to the relay's client as it arrives (`relay.ts`).
 * Complete events are forwarded untouched, except those that carry usage (priced, the cost added;
 * left out when the client did not ask for usage), an error (its message redacted) or tool calls
 * a provider did not write in OpenAI's form (`tool-call-wire.ts`). The stream is cut into events
 * by `createEventFramer`, which bounds an event's size.
 */
import type http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { ModelCallError } from '../../errors.js';
import type { OpenAIUsage } from '../../models/openai/openai-wire.js';
import type { Usage } from '../../models/spec.js';
import { dataOf, reportedUsageOf } from './chat-stream.js';
import type { GatewayCall } from './gateway-ledger.js';
import { usageWithCost } from './relay-answer.js';
import type { RelayCall, RelaySink, RelayTarget } from './relay-call.js';
import { badAnswer, brokenAnswer } from './relay-upstream.js';
import { createToolCallDeltaNormalizer } from './tool-call-wire.js';

/** How much of a streamed answer the ledger keeps, to record its text (the usage is kept whole). */
const maxRecordedStreamChars = 4 * 1024 * 1024;
/** Largest event a provider may send (an event this long is not a chunk of an answer). */
export const defaultMaxEventChars = 8 * 1024 * 1024;

/** Cuts a stream's text into complete events (blank-line separated, CRLF read as LF). */
export interface EventFramer {
  /**
   * Take the next piece of text; returns the events it completes (ending in a blank line), or ''.
   * Throws when an event grows past the bound without ending.
   */
  push(text: string): string;
  /** What is left once the stream ended (an event cut short, or ''). */
  rest(): string;
}

export function createEventFramer(maxEventChars: number = defaultMaxEventChars): EventFramer {
  let pending = '';
  /** A CR ending the last piece: whether it is a line end of its own or half of a CRLF is told by the next. */
  let carriedReturn = false;
  return {
    push(text) {
      let piece = carriedReturn ? `\r${text}` : text;
      carriedReturn = piece.endsWith('\r');
      if (carriedReturn) piece = piece.slice(0, -1);
      if (piece.includes('\r')) piece = piece.replace(/\r\n?/g, '\n');
      // Only the new text, and the one character before it, can hold a new boundary.
      const searchFrom = Math.max(0, pending.length - 1);
      pending += piece;
      if (pending.indexOf('\n\n', searchFrom) < 0) {
        if (pending.length > maxEventChars) {
          throw new Error(`an event of over ${maxEventChars} characters, not ended`);
        }
        return '';
      }
      const end = pending.lastIndexOf('\n\n');
      const complete = pending.slice(0, end + 2);
      pending = pending.slice(end + 2);
      return complete;
    },
    rest() {
      const rest = pending + (carriedReturn ? '\n' : '');
      pending = '';
      carriedReturn = false;
      return rest;
    },
  };
}

/**
 * Text an event carrying usage (an object: OpenAI sends `"usage":null` in every other event), an
 * error or tool calls must contain; the others are not parsed. Inside a JSON string a quote is
 * escaped, so `"usage"` followed by a colon is always a key.
 */
const mayNeedRewriting = /"usage"\s*:\s*\{|"error"|"tool_calls"/;

/**
 * Pass a provider's event stream through to the client as it arrives. Complete events are
 * forwarded untouched, except the ones that carry usage (priced, with the cost added; dropped
 * when the client did not ask for usage), an error (its message redacted) or tool calls not in
 * OpenAI's form.
 */
export function relayStream(init: {
  call: RelayCall;
  target: RelayTarget;
  incoming: http.IncomingMessage;
  sink: RelaySink;
  runId: string;
  idleTimeoutMs: number;
  /** Largest event the provider may send, in characters (default 8 Mi). */
  maxEventChars?: number | undefined;
  price: (
    target: RelayTarget,
    usage: OpenAIUsage | undefined,
  ) => { usage: Usage; costUsd: number | undefined; ledger: GatewayCall['ledger'] };
  finish: (
    fields: Pick<GatewayCall, 'text' | 'toolCalls' | 'usage' | 'costUsd' | 'ledger'> & { answerStream?: string },
  ) => void;
  redact: (message: string) => string;
}): Promise<void> {
  const { call, target, incoming, sink, idleTimeoutMs, redact } = init;
  const options = call.body.stream_options as { include_usage?: unknown } | null | undefined;
  const clientWantsUsage = options?.include_usage === true;
  sink.head(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-hataraku-run-id': init.runId,
  });
  return new Promise<void>((resolve) => {
    const decoder = new StringDecoder('utf8');
    const framer = createEventFramer(init.maxEventChars);
    const toolCallDeltas = createToolCallDeltaNormalizer();
    /** Put the tool calls of a chunk's first choice into OpenAI's form; true when that changed it. */
    const normalizeToolCalls = (document: Record<string, unknown>): boolean => {
      if (!Array.isArray(document.choices)) return false;
      let changed = false;
      for (const choice of document.choices as Array<{ delta?: { tool_calls?: unknown } } | null>) {
        const toolCalls = choice?.delta?.tool_calls;
        if (Array.isArray(toolCalls) && toolCallDeltas.normalize(toolCalls)) changed = true;
      }
      return changed;
    };
    let recorded = '';
    let usage: OpenAIUsage | undefined;
    let priced: ReturnType<typeof init.price> | undefined;
    let ended = false;
    /** Events read but not yet written (`flush`). */
    let unsent = '';
    let flushScheduled = false;

    const rewrite = (event: string): string => {
      const payload = dataOf(event);
      if (payload === undefined) return event;
      let document: Record<string, unknown>;
      try {
        const parsed = JSON.parse(payload) as unknown;
        if (typeof parsed !== 'object' || parsed === null) return event;
        document = parsed as Record<string, unknown>;
      } catch {
        return event;
      }
      // Tool calls in OpenAI's form (`tool-call-wire.ts`): Ollama's parallel calls at one index.
      const toolCallsChanged = normalizeToolCalls(document);
      if (document.error !== undefined && document.error !== null) {
        const error = document.error as Record<string, unknown> | string;
        if (typeof error === 'string') document.error = redact(error);
        else if (typeof error.message === 'string') error.message = redact(error.message);
        return `data: ${JSON.stringify(document)}\n\n`;
      }
      const reported = reportedUsageOf(document);
      if (reported !== undefined) {
        usage = reported;
        priced = init.price(target, usage);
        // Given to a client that asked for it as `usage` (Groq's too, which it sends in `x_groq`).
        if (clientWantsUsage) {
          document.usage = usageWithCost(usage, priced.costUsd);
          return `data: ${JSON.stringify(document)}\n\n`;
        }
        // Left out for one that did not: the usage-only event, or the field (Groq's stays).
        if (document.usage === reported) {
          if (!Array.isArray(document.choices) || document.choices.length === 0) return '';
          delete document.usage;
          return `data: ${JSON.stringify(document)}\n\n`;
        }
      }
      return toolCallsChanged ? `data: ${JSON.stringify(document)}\n\n` : event;
    };

    const forward = (complete: string) => {
      let out = complete;
      if (mayNeedRewriting.test(complete)) {
        out = complete
          .split('\n\n')
          .map((event) => (event === '' ? '' : mayNeedRewriting.test(event) ? rewrite(`${event}\n\n`) : `${event}\n\n`))
          .join('');
      }
      if (out === '') return;
      // What the client got is what the ledger reads (the same tool-call ids, errors redacted).
      if (recorded.length < maxRecordedStreamChars) recorded += out;
      unsent += out;
      if (!flushScheduled) {
        flushScheduled = true;
        process.nextTick(afterRead);
      }
    };

    /**
     * What a read from the provider completed goes out right after it: not after the other
     * sockets' reads of the same turn of the event loop (`setImmediate`), which after any pause
     * (a collection, a wait for a core) held each stream's write until every backlogged read was
     * done. By then the parser has read all the read held: when that was the provider's end (as
     * it mostly is: a provider ends its stream with its last event), the answer ends here, its
     * last events and its end in one write, rather than waiting for the `end` event and sending
     * the end in a second packet.
     */
    const afterRead = () => {
      flushScheduled = false;
      if (incoming.complete && incoming.readableLength === 0) done(undefined);
      else flush();
    };

    const flush = () => {
      if (ended || unsent === '') return;
      const text = unsent;
      unsent = '';
      if (!sink.write(text)) {
        incoming.pause();
        sink.onDrain(() => incoming.resume());
      }
    };

    const done = (failure: ModelCallError | undefined) => {
      if (ended) return;
      ended = true;
      clearTimeout(idle);
      if (failure === undefined) {
        const rest = framer.push(decoder.end()) + framer.rest();
        if (rest !== '') forward(rest);
      }
      const last = unsent;
      unsent = '';
      if (failure !== undefined && !call.signal.aborted) {
        sink.end(
          `${last}data: ${JSON.stringify({ error: { code: failure.code, message: redact(failure.message), type: 'server_error' } })}\n\n`,
        );
      } else sink.end(last === '' ? undefined : last);
      const final = priced ?? init.price(target, usage);
      // The text and tool calls are read from the stream by the ledger's batch writer.
      init.finish({
        text: '',
        toolCalls: [],
        answerStream: recorded,
        usage: final.usage,
        costUsd: final.costUsd,
        ledger: final.ledger,
      });
      resolve();
    };

    const idle = setTimeout(() => {
      incoming.destroy();
      done(badAnswer(target, `the stream went silent for ${idleTimeoutMs} ms.`, 'model_timeout'));
    }, idleTimeoutMs);

    incoming.on('data', (piece: Buffer) => {
      idle.refresh();
      let complete: string;
      try {
        complete = framer.push(decoder.write(piece));
      } catch (error) {
        incoming.destroy();
        done(badAnswer(target, `sent ${error instanceof Error ? error.message : String(error)}.`));
        return;
      }
      if (complete === '') return;
      try {
        forward(complete);
      } catch (error) {
        // Whatever a provider's events hold, a failure to pass them on ends this answer, never
        // the server (an exception here would be uncaught).
        incoming.destroy();
        done(
          badAnswer(
            target,
            `sent an event the gateway could not pass on (${error instanceof Error ? error.message : String(error)}).`,
          ),
        );
      }
    });
    incoming.on('end', () => done(undefined));
    incoming.on('error', (error) => done(brokenAnswer(target, error)));
    incoming.on('close', () => {
      if (!incoming.complete) done(brokenAnswer(target, new Error('the connection closed')));
    });
  });
}
