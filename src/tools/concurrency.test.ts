import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapWithConcurrency, mapWithExclusive } from './concurrency.js';

describe('mapWithConcurrency', () => {
  it('never runs more than the limit at once, and does reach it', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const results = await mapWithConcurrency([30, 5, 20, 10, 1, 15, 25, 2], 3, async (delay, index) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await sleep(delay);
      inFlight -= 1;
      return `${index}:${delay}`;
    });
    expect(mostInFlight).toBe(3);
    expect(results).toEqual(['0:30', '1:5', '2:20', '3:10', '4:1', '5:15', '6:25', '7:2']);
  });

  it('runs one at a time with a limit of 1', async () => {
    const order: string[] = [];
    await mapWithConcurrency(['a', 'b', 'c'], 1, async (item) => {
      order.push(`start ${item}`);
      await sleep(1);
      order.push(`end ${item}`);
    });
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs everything at once with an unlimited limit', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    await mapWithConcurrency([1, 2, 3, 4, 5], Number.POSITIVE_INFINITY, async () => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await sleep(5);
      inFlight -= 1;
    });
    expect(mostInFlight).toBe(5);
  });

  it('resolves an empty list to an empty list', async () => {
    expect(await mapWithConcurrency([], 4, async () => 1)).toEqual([]);
  });

  it('finishes every item before rejecting with a single failure', async () => {
    const finished: number[] = [];
    const failure = new Error('item 1 failed');
    const outcome = mapWithConcurrency([0, 1, 2, 3], 2, async (item) => {
      await sleep(item === 1 ? 1 : 10);
      if (item === 1) throw failure;
      finished.push(item);
    });
    await expect(outcome).rejects.toBe(failure);
    expect(finished.sort()).toEqual([0, 2, 3]);
  });

  it('rejects with every failure, in item order, when several fail', async () => {
    const outcome = mapWithConcurrency([0, 1, 2], 3, async (item) => {
      await sleep(item === 0 ? 20 : 1);
      if (item !== 1) throw new Error(`item ${item} failed`);
      return item;
    });
    const error = await outcome.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((inner: Error) => inner.message)).toEqual([
      'item 0 failed',
      'item 2 failed',
    ]);
  });

  it('catches a worker that throws synchronously', async () => {
    const failure = new Error('sync');
    await expect(
      mapWithConcurrency([1], 1, () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a limit of %s with a RangeError', async (limit) => {
    await expect(mapWithConcurrency([1], limit, async (item) => item)).rejects.toThrow(RangeError);
  });
});

describe('mapWithExclusive', () => {
  it('runs an exclusive item alone, keeps the order of results, and still runs every item when some fail', async () => {
    const running = new Set<number>();
    const overlaps: string[] = [];
    const exclusive = new Set([2, 5]);
    const work = mapWithExclusive(
      [0, 1, 2, 3, 4, 5, 6],
      { limit: 3, isExclusive: (item) => exclusive.has(item) },
      async (item) => {
        for (const other of running) {
          if (exclusive.has(item) || exclusive.has(other)) overlaps.push(`${item} with ${other}`);
        }
        running.add(item);
        await sleep(5);
        running.delete(item);
        if (item === 4 || item === 6) throw new Error(`item ${item} failed`);
        return item * 10;
      },
    );
    const error = await work.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(overlaps).toEqual([]);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((cause) => (cause as Error).message)).toEqual([
      'item 4 failed',
      'item 6 failed',
    ]);
    const results = await mapWithExclusive(
      [1, 2, 3],
      { limit: 2, isExclusive: (item) => item === 2 },
      async (item) => item,
    );
    expect(results).toEqual([1, 2, 3]);
  });
});
