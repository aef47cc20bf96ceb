import { describe, expect, it } from 'vitest';
import { createParseSlots } from './document-parser.js';

describe('createParseSlots', () => {
  it('runs at most the given number of parses at once, the others in order', async () => {
    const slots = createParseSlots(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const works = Array.from({ length: 5 }, (_, index) =>
      slots.run(async () => {
        running++;
        most = Math.max(most, running);
        order.push(index);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return index;
      }),
    );
    while (order.length < 5) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    for (const release of releases.splice(0)) release();
    expect(await Promise.all(works)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('frees a slot when a parse fails', async () => {
    const slots = createParseSlots(1);
    await expect(slots.run(async () => Promise.reject(new Error('bomb')))).rejects.toThrow('bomb');
    expect(await slots.run(async () => 'next')).toBe('next');
  });
});
