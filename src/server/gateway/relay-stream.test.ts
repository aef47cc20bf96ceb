/**
 * The relay's event framer: a provider's stream cut into complete events wherever its pieces
 * end, CRLF and CR read as LF, and an event that never ends refused past its bound.
 */
import { describe, expect, it } from 'vitest';
import { createEventFramer } from './relay-stream.js';

const events = 'data: {"a":1}\n\ndata: {"b":2}\n\n: comment\n\ndata: [DONE]\n\n';

/** What the framer makes of `text` cut into pieces of `size` characters. */
function framed(text: string, size: number, maxEventChars?: number): string[] {
  const framer = createEventFramer(maxEventChars);
  const out: string[] = [];
  for (let offset = 0; offset < text.length; offset += size) {
    const complete = framer.push(text.slice(offset, offset + size));
    if (complete !== '') out.push(complete);
  }
  const rest = framer.rest();
  if (rest !== '') out.push(rest);
  return out;
}

describe('createEventFramer', () => {
  it('gives back the same events however the stream is cut, and only whole events', () => {
    for (const size of [1, 2, 3, 5, 7, 13, events.length]) {
      const pieces = framed(events, size);
      expect(pieces.join('')).toBe(events);
      for (const piece of pieces) expect(piece.endsWith('\n\n')).toBe(true);
    }
  });

  it('reads CRLF and lone CR line ends as LF, wherever a piece ends', () => {
    for (const ending of ['\r\n', '\r']) {
      const text = events.replaceAll('\n', ending);
      for (const size of [1, 2, 3, 4, text.length]) expect(framed(text, size).join('')).toBe(events);
    }
  });

  it('keeps an event cut short for the end of the stream', () => {
    expect(framed('data: {"a":1}\n\ndata: {"b"', 4)).toEqual(['data: {"a":1}\n\n', 'data: {"b"']);
  });

  it('refuses an event that grows past its bound without ending, and only then', () => {
    const framer = createEventFramer(100);
    expect(framer.push(`data: ${'x'.repeat(90)}`)).toBe('');
    expect(() => framer.push('x'.repeat(20))).toThrow(/over 100 characters/);
    // Many events, each within the bound, may pass in one piece of any length.
    const many = 'data: {"x":1}\n\n'.repeat(50);
    expect(createEventFramer(100).push(many)).toBe(many);
  });
});
