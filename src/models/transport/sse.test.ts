import { describe, expect, it } from 'vitest';
import { parseServerSentEvents, type ServerSentEvent } from './sse.js';

/** A body that delivers the given pieces one read at a time. */
function bodyOf(pieces: Array<string | Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const queue = pieces.map((piece) => (typeof piece === 'string' ? encoder.encode(piece) : piece));
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

async function parseAll(body: ReadableStream<Uint8Array>): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of parseServerSentEvents(body)) events.push(event);
  return events;
}

describe('parseServerSentEvents', () => {
  it('dispatches one event per blank line, with its event name', async () => {
    const events = await parseAll(bodyOf(['event: message_start\ndata: {"a":1}\n\ndata: {"b":2}\n\n']));
    expect(events).toEqual([
      { event: 'message_start', data: '{"a":1}' },
      { event: undefined, data: '{"b":2}' },
    ]);
  });

  it('joins multi-line data with newlines and skips comments', async () => {
    const events = await parseAll(bodyOf([': keep-alive\n\ndata: first\ndata:second\n: note\ndata\n\n']));
    expect(events).toEqual([{ event: undefined, data: 'first\nsecond\n' }]);
  });

  it('handles CRLF and CR line endings, including a CRLF split between reads', async () => {
    const events = await parseAll(bodyOf(['data: one\r', '\n\r', '\ndata: two\r\rdata: three\r\n\r\n']));
    expect(events.map((event) => event.data)).toEqual(['one', 'two', 'three']);
  });

  it('decodes UTF-8 sequences split across reads', async () => {
    const bytes = new TextEncoder().encode('data: wörld 👋\n\n');
    const pieces = Array.from(bytes, (byte) => Uint8Array.of(byte));
    const events = await parseAll(bodyOf(pieces));
    expect(events).toEqual([{ event: undefined, data: 'wörld 👋' }]);
  });

  it('dispatches a last event that lacks its closing blank line', async () => {
    const events = await parseAll(bodyOf(['data: a\n\ndata: b']));
    expect(events.map((event) => event.data)).toEqual(['a', 'b']);
  });

  it('cancels the body when the consumer stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('data: tick\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const event of parseServerSentEvents(body)) {
      expect(event.data).toBe('tick');
      break;
    }
    expect(cancelled).toBe(true);
    expect(body.locked).toBe(false);
  });

  it('passes a read error through', async () => {
    let reads = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        reads++;
        if (reads === 1) controller.enqueue(new TextEncoder().encode('data: ok\n\n'));
        else controller.error(new TypeError('terminated'));
      },
    });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of parseServerSentEvents(body)) seen.push(event.data);
      })(),
    ).rejects.toThrow('terminated');
    expect(seen).toEqual(['ok']);
  });

  it('gives the same events however the text is split into reads (random streams against a whole-text reading)', async () => {
    // A small deterministic generator, so a failure can be replayed.
    let seed = 20261129;
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % below;
    };
    const breaks = ['\n', '\r', '\r\n'];
    const lineKinds = ['data: x', 'data:y', 'data', 'event: e', ': comment', 'id: 7', '', '', 'data: ü 🌊 :'];
    for (let round = 0; round < 200; round++) {
      let text = '';
      for (let line = 0; line < 1 + random(30); line++) {
        text += `${lineKinds[random(lineKinds.length)]}${random(3) === 0 ? random(100) : ''}${breaks[random(3)]}`;
      }
      const bytes = new TextEncoder().encode(text);
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + random(12);
        pieces.push(bytes.slice(at, at + size));
        at += size;
      }
      const expected: ServerSentEvent[] = [];
      let name: string | undefined;
      let lines: string[] = [];
      for (const line of `${text}\n\n`.split(/\r\n|\r|\n/)) {
        if (line === '') {
          if (lines.length > 0) expected.push({ event: name, data: lines.join('\n') });
          name = undefined;
          lines = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') lines.push(value);
          if (field === 'event') name = value;
        }
      }
      expect(await parseAll(bodyOf(pieces)), JSON.stringify(text)).toEqual(expected);
    }
  });
});
