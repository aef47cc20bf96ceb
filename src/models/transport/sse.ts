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

export async function* parseServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let eventName: string | undefined;
  let dataLines: string[] = [];

  function* flushLines(final: boolean): Generator<ServerSentEvent> {
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      if (match === null) break;
      // A lone CR at the very end may be the first half of CRLF split across chunks.
      if (match[0] === '\r' && match.index === buffer.length - 1 && !final) break;
      const line = buffer.slice(0, match.index);
      buffer = buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (dataLines.length > 0) yield { event: eventName, data: dataLines.join('\n') };
        eventName = undefined;
        dataLines = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') dataLines.push(value);
      else if (field === 'event') eventName = value;
    }
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
