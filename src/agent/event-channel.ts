/**
 * A single-producer channel of run events that any number of async iterators can read. Each
 * iterator sees the events published after it was created, buffered until it reads them; when
 * nobody iterates, events are not kept.
 */

export interface EventChannel<Event> extends AsyncIterable<Event> {
  publish(event: Event): void;
  close(): void;
}

export function createEventChannel<Event>(): EventChannel<Event> {
  const subscribers = new Set<{ buffer: Event[]; wake: (() => void) | undefined }>();
  let closed = false;

  return {
    publish(event) {
      for (const subscriber of subscribers) {
        subscriber.buffer.push(event);
        subscriber.wake?.();
      }
    },
    close() {
      closed = true;
      for (const subscriber of subscribers) subscriber.wake?.();
    },
    [Symbol.asyncIterator](): AsyncIterator<Event> {
      const subscriber: { buffer: Event[]; wake: (() => void) | undefined } = { buffer: [], wake: undefined };
      subscribers.add(subscriber);
      return {
        async next(): Promise<IteratorResult<Event>> {
          for (;;) {
            const event = subscriber.buffer.shift();
            if (event !== undefined) return { value: event, done: false };
            if (closed) {
              subscribers.delete(subscriber);
              return { value: undefined, done: true };
            }
            await new Promise<void>((resolve) => {
              subscriber.wake = resolve;
            });
            subscriber.wake = undefined;
          }
        },
        async return(): Promise<IteratorResult<Event>> {
          subscribers.delete(subscriber);
          return { value: undefined, done: true };
        },
      };
    },
  };
}
