/**
 * The ledger's off-heap batch of JSON values: what goes in comes out, in order, whatever its
 * size and characters, across the buffer growing, and each batch taken stands on its own.
 */
import { describe, expect, it } from 'vitest';
import { createJsonBatch, parseJsonBatch } from './json-batch.js';

describe('createJsonBatch', () => {
  it('gives back the values appended, in order, as one JSON array', () => {
    const batch = createJsonBatch();
    const values = [{ id: 'a', text: 'plain' }, { id: 'b', text: 'é 日本 🙂 "quoted" \\ \n' }, 42, null, 'last'];
    for (const value of values) batch.append(JSON.stringify(value));
    expect(batch.count).toBe(values.length);
    const bytes = batch.take();
    expect(batch.count).toBe(0);
    expect(parseJsonBatch(bytes)).toEqual(values);
  });

  it('grows past its first buffer without losing or cutting a value', () => {
    const batch = createJsonBatch();
    // Multi-byte characters, so that characters and bytes differ, across many doublings.
    const values = Array.from({ length: 300 }, (_, index) => ({
      index,
      text: `${'日本語'.repeat(index * 10)}${index}`,
    }));
    for (const value of values) batch.append(JSON.stringify(value));
    const bytes = batch.take();
    expect(bytes.byteLength).toBeGreaterThan(64 * 1024);
    expect(parseJsonBatch(bytes)).toEqual(values);
  });

  it('keeps a batch taken intact while the next one is filled, and an empty batch is an empty array', () => {
    const batch = createJsonBatch();
    expect(parseJsonBatch(batch.take())).toEqual([]);
    batch.append(JSON.stringify({ first: true }));
    const first = batch.take();
    for (let index = 0; index < 1000; index += 1) batch.append(JSON.stringify({ index, padding: 'x'.repeat(100) }));
    expect(parseJsonBatch(first)).toEqual([{ first: true }]);
    expect(parseJsonBatch(batch.take())).toHaveLength(1000);
  });

  it('survives being copied to another thread, as the ledger worker receives it', () => {
    const batch = createJsonBatch();
    batch.append(JSON.stringify({ id: 'gw_1', cost: 0.0014 }));
    const copied = structuredClone(batch.take());
    expect(parseJsonBatch(copied)).toEqual([{ id: 'gw_1', cost: 0.0014 }]);
  });
});
