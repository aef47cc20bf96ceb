/**
 * Running tool calls (or any async work) side by side, with a cap on how many run at once.
 *
 * A model may ask for several tool calls in one turn; they are independent, so they run in
 * parallel, but a cap keeps a burst from opening a hundred connections or processes.
 */

/**
 * Map `items` through `worker`, at most `limit` at a time, and resolve with the results in the
 * order of `items`.
 *
 * Every item is run even when an earlier one fails: tool calls are independent, and one that has
 * already started writing should not be abandoned mid-way by another's failure. Once all have
 * settled, a single failure rejects with that error; several reject with an `AggregateError`
 * holding them in item order.
 *
 * @throws RangeError when `limit` is not a positive integer (or `Infinity`).
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  worker: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!(Number.isInteger(limit) && limit >= 1) && limit !== Number.POSITIVE_INFINITY) {
    throw new RangeError(`mapWithConcurrency(): \`limit\` must be a positive integer or Infinity, got ${limit}`);
  }
  const results = new Array<R>(items.length);
  const failures: Array<{ index: number; error: unknown }> = [];
  let next = 0;

  async function runLane(): Promise<void> {
    while (next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await worker(items[index] as T, index);
      } catch (error) {
        failures.push({ index, error });
      }
    }
  }

  const laneCount = Math.min(limit, items.length);
  await Promise.all(Array.from({ length: laneCount }, runLane));

  if (failures.length === 1) throw failures[0]?.error;
  if (failures.length > 1) {
    failures.sort((left, right) => left.index - right.index);
    throw new AggregateError(
      failures.map((failure) => failure.error),
      `${failures.length} of ${items.length} tasks failed (items ${failures.map((failure) => failure.index).join(', ')})`,
    );
  }
  return results;
}

/**
 * Like {@link mapWithConcurrency} (at most `schedule.limit` at a time), but an item for which
 * `schedule.isExclusive` holds runs alone: the items before it finish first, and those after it
 * start once it has finished. Results keep the order of `items`; failures are gathered the same
 * way, once every item has run.
 */
export async function mapWithExclusive<T, R>(
  items: readonly T[],
  schedule: { limit: number; isExclusive: (item: T, index: number) => boolean },
  worker: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const { limit, isExclusive } = schedule;
  const batches: number[][] = [];
  for (const [index, item] of items.entries()) {
    const last = batches.at(-1);
    if (isExclusive(item, index)) batches.push([index], []);
    else if (last === undefined) batches.push([index]);
    else last.push(index);
  }
  const results = new Array<R>(items.length);
  const failures: Array<{ index: number; error: unknown }> = [];
  for (const batch of batches) {
    await mapWithConcurrency(batch, limit, async (index) => {
      try {
        results[index] = await worker(items[index] as T, index);
      } catch (error) {
        failures.push({ index, error });
      }
    });
  }
  if (failures.length === 1) throw failures[0]?.error;
  if (failures.length > 1) {
    failures.sort((left, right) => left.index - right.index);
    throw new AggregateError(
      failures.map((failure) => failure.error),
      `${failures.length} of ${items.length} tasks failed (items ${failures.map((failure) => failure.index).join(', ')})`,
    );
  }
  return results;
}
