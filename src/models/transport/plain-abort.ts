/**
 * An abort signal without `EventTarget`, for code that makes one or more per request on a hot
 * path (the gateway's relay and its fast lane).
 *
 * On Node 20 every `AbortSignal` is built by setting the prototype of a fresh `EventTarget`, and
 * V8 gives each one a map (hidden class) of its own, in old space. Until the next full
 * collection those dead maps hold the young objects they point to, so every young collection
 * promotes them: about 0.4 MB per collection, and young-collection pauses of 1.5 to 2.5 ms
 * instead of about 0.5 ms, at 16 calls in flight (measured with `--trace-gc-nvp`; the notes in
 * `bench/gateway/RESULTS.md`). A plain object has none of that.
 *
 * `AbortSignal` itself satisfies `AbortSignalLike`, so code taking one accepts both.
 */

/** What the transport and the relay use of an abort signal. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** The signal of a `PlainAbortController`. Each listener runs at most once, on the first abort. */
export class PlainAbortSignal implements AbortSignalLike {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> | undefined = undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    if (this.listeners === undefined) this.listeners = [listener];
    else this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners?.indexOf(listener) ?? -1;
    if (index >= 0) this.listeners?.splice(index, 1);
  }

  /** Called by the controller. */
  fire(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners ?? [];
    this.listeners = undefined;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        // As `EventTarget` does: a listener's failure does not stop the others, and surfaces as
        // an uncaught exception.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

export class PlainAbortController {
  readonly signal = new PlainAbortSignal();

  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    this.signal.fire(reason);
  }
}
