/**
 * A gate that lets at most `limit` runs execute at once in a process; the others wait in order
 * of arrival. Runs are asynchronous, so a slow run (waiting on its model) does not hold up the
 * others beyond the slot it occupies.
 */

export interface ConcurrencyGate {
  /** Wait for a slot; call the returned function to give it back. */
  acquire(): Promise<() => void>;
  readonly active: number;
  readonly waiting: number;
}

export function createConcurrencyGate(limit: number): ConcurrencyGate {
  if (!(Number.isInteger(limit) && limit >= 1))
    throw new RangeError('the concurrency limit must be a positive integer');
  let active = 0;
  const queue: Array<() => void> = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else active--;
  };
  return {
    acquire() {
      if (active < limit) {
        active++;
        return Promise.resolve(once(release));
      }
      return new Promise((resolve) => queue.push(() => resolve(once(release))));
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
