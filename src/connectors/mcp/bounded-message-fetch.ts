/**
 * A `fetch` for the MCP HTTP transports that bounds each message a server sends. Over stdio the
 * SDK refuses a message over 10 MiB; over HTTP it reads a JSON answer, or one event of a stream,
 * however long it is, so a server could make the host hold gigabytes for one answer. A JSON
 * answer is one message; a stream of events (`text/event-stream`) may go on for as long as the
 * session lasts, so there the bound is per event (bytes since the last blank line).
 */
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

const lineFeed = 10;
const carriageReturn = 13;

/** Wraps `base` so a response's body fails once one message passes `maxMessageBytes`. */
export function boundedMessageFetch(maxMessageBytes: number, base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    if (response.body === null) return response;
    const perEvent = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    const tooLarge = () =>
      new Error(
        `the MCP server sent a message over ${maxMessageBytes} bytes, more than Hataraku reads from a server; make the tool answer with less`,
      );
    /** Bytes of the message (the event, for a stream) being read. */
    let messageBytes = 0;
    /** Bytes of the current line of a stream, and the byte before (to see CRLF as one break). */
    let lineBytes = 0;
    let previous = 0;
    const bounded = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (!perEvent) {
            messageBytes += chunk.length;
          } else {
            for (const byte of chunk) {
              if (byte === carriageReturn || (byte === lineFeed && previous !== carriageReturn)) {
                // A blank line ends an event.
                if (lineBytes === 0) messageBytes = 0;
                lineBytes = 0;
              } else if (byte !== lineFeed) {
                lineBytes += 1;
                messageBytes += 1;
              }
              previous = byte;
            }
          }
          if (messageBytes > maxMessageBytes) controller.error(tooLarge());
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(bounded, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
