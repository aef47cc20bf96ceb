/**
 * A batch of JSON values kept as UTF-8 bytes outside the JavaScript heap, for the gateway's
 * ledger: each recorded call is appended as it is recorded, and the batch goes to the ledger's
 * worker thread as one buffer (copied into the message by `postMessage`, outside the heap too).
 *
 * Why not strings: a call's JSON held as a string until the next write (up to 100 ms) is live
 * when a young collection runs, so the collector copies it, and these strings were about a third
 * of what survived each young collection of a busy gateway; the batch's text joined into one string
 * for the worker was a large object of the old generation ten times a second. Here a call's JSON
 * string dies as soon as it is copied into the buffer, and the buffer is memory the collector
 * does not move.
 */

/** The first buffer's size; it doubles as needed. */
const initialBytes = 64 * 1024;

export interface JsonBatch {
  /** Values appended since the last `take`. */
  readonly count: number;
  /** Append one value's JSON text (as `JSON.stringify` makes it). */
  append(json: string): void;
  /**
   * The batch so far as the UTF-8 text of a JSON array, in a buffer of its own that later
   * appends leave intact (it may wait for an earlier write before it is sent), and a new empty
   * batch begins.
   */
  take(): Uint8Array;
}

export function createJsonBatch(): JsonBatch {
  let buffer = Buffer.allocUnsafeSlow(initialBytes);
  // Byte 0 holds the array's '['; values start after it.
  let used = 1;
  let count = 0;
  return {
    get count() {
      return count;
    },
    append(json) {
      // A separator, the value, and room for the closing ']'.
      const needed = used + 1 + Buffer.byteLength(json, 'utf8') + 1;
      if (needed > buffer.length) {
        const grown = Buffer.allocUnsafeSlow(Math.max(buffer.length * 2, needed));
        buffer.copy(grown, 0, 0, used);
        buffer = grown;
      }
      if (count > 0) buffer[used++] = 0x2c; // ','
      used += buffer.write(json, used, 'utf8');
      count += 1;
    },
    take() {
      buffer[0] = 0x5b; // '['
      buffer[used++] = 0x5d; // ']'
      const taken = new Uint8Array(buffer.buffer, buffer.byteOffset, used);
      buffer = Buffer.allocUnsafeSlow(Math.max(initialBytes, Math.min(buffer.length, 4 * used)));
      used = 1;
      count = 0;
      return taken;
    },
  };
}

/** The values of a batch taken from `createJsonBatch`. */
export function parseJsonBatch(bytes: Uint8Array): unknown[] {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown[];
}
