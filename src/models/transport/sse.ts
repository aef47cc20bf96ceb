/**
 * Server-sent events parser over a fetch body. Yields one `{ event, data }` per dispatched
 * event, following the WHATWG rules that OpenAI- and Anthropic-style streams rely on:
 * `data:` lines are joined with newlines, comments (`:`) are skipped, and a blank line ends an
 * event. Handles CRLF, CR and chunk boundaries anywhere, including inside UTF-8 sequences.
 */

export interface ServerSentEvent {
  event: string | undefined;
  data: string;
}

/** What the parser reads from: a reader's three methods (a `ReadableStream` of bytes has them). */
export interface ByteReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

export interface ByteSource {
  getReader(): ByteReader;
}

export async function* parseServerSentEvents(body: ByteSource): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  /** What is left of the text after its last complete line. */
  let buffer = '';
  let eventName: string | undefined;
  /** The event's `data:` lines joined by newlines; undefined while it has none. */
  let data: string | undefined;

  /**
   * Dispatch the complete lines of `buffer` and keep the rest. One pass: the next line feed and
   * the next carriage return are each searched for again only once the scan has passed them, so
   * a read of many lines costs no more than its length.
   */
  function* flushLines(final: boolean): Generator<ServerSentEvent> {
    const text = buffer;
    const length = text.length;
    let start = 0;
    let nextFeed = text.indexOf('\n');
    let nextReturn = text.indexOf('\r');
    for (;;) {
      if (nextFeed !== -1 && nextFeed < start) nextFeed = text.indexOf('\n', start);
      if (nextReturn !== -1 && nextReturn < start) nextReturn = text.indexOf('\r', start);
      let end: number;
      let breakLength = 1;
      if (nextReturn !== -1 && (nextFeed === -1 || nextReturn < nextFeed)) {
        end = nextReturn;
        if (end + 1 < length) breakLength = text.charCodeAt(end + 1) === 10 ? 2 : 1;
        // A lone CR at the very end may be the first half of CRLF split across reads.
        else if (!final) break;
      } else if (nextFeed !== -1) {
        end = nextFeed;
      } else {
        break;
      }
      const lineStart = start;
      start = end + breakLength;
      if (end === lineStart) {
        if (data !== undefined) yield { event: eventName, data };
        eventName = undefined;
        data = undefined;
        continue;
      }
      if (text.charCodeAt(lineStart) === 58 /* : */) continue;
      const colon = text.indexOf(':', lineStart);
      const hasValue = colon !== -1 && colon < end;
      const field = text.slice(lineStart, hasValue ? colon : end);
      if (field !== 'data' && field !== 'event') continue;
      let valueStart = hasValue ? colon + 1 : end;
      if (valueStart < end && text.charCodeAt(valueStart) === 32 /* space */) valueStart += 1;
      const value = text.slice(valueStart, end);
      if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
      else eventName = value;
    }
    buffer = start === 0 ? text : text.slice(start);
  }

  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      yield* flushLines(false);
    }
    finished = true;
    buffer += decoder.decode();
    buffer += '\n\n';
    yield* flushLines(true);
  } finally {
    // A consumer that stops early (break, return, a thrown error) must not leave the
    // connection open: cancelling the body tells fetch to drop it.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
