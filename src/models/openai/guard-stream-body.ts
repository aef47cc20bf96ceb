/**
 * Wraps a streaming response body so that silence and aborts end it promptly.
 *
 * The fetch timeout in the transport only covers the time to the response headers; a server
 * that stalls mid-stream would otherwise hang the caller forever. Aborts are also enforced
 * here rather than trusting the fetch implementation to honour its signal once the body has
 * started, so a custom `fetch` cannot keep a cancelled call alive.
 */

export interface StreamBodyGuard {
  /** Longest silence allowed between two chunks, in milliseconds. */
  idleTimeoutMs: number;
  abortSignal?: AbortSignal | undefined;
  /** The error the stream fails with when `idleTimeoutMs` passes without data. */
  idleError: () => Error;
  /** The error the stream fails with when `abortSignal` fires. */
  abortError: () => Error;
}

/** Return a stream with the same bytes as `body` that errors on silence or abort. */
export function guardStreamBody(body: ReadableStream<Uint8Array>, guard: StreamBodyGuard): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  // Set once the consumer cancels; a read still pending then must not touch the controller.
  let cancelled = false;
  let stopPendingPull: (() => void) | undefined;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      return new Promise<void>((resolve) => {
        let settled = false;
        const settle = (): boolean => {
          if (settled || cancelled) return false;
          settled = true;
          stopPendingPull = undefined;
          clearTimeout(timer);
          guard.abortSignal?.removeEventListener('abort', onAbort);
          resolve();
          return true;
        };
        const fail = (error: Error): void => {
          if (!settle()) return;
          controller.error(error);
          // Cancelling releases the connection; its own rejection is of no further interest.
          reader.cancel(error).catch(() => {});
        };
        const onAbort = (): void => fail(guard.abortError());
        const timer = setTimeout(() => fail(guard.idleError()), guard.idleTimeoutMs);
        stopPendingPull = () => {
          clearTimeout(timer);
          guard.abortSignal?.removeEventListener('abort', onAbort);
          resolve();
        };
        if (guard.abortSignal?.aborted) return onAbort();
        guard.abortSignal?.addEventListener('abort', onAbort, { once: true });
        reader.read().then(
          (result) => {
            if (!settle()) return;
            if (result.done) controller.close();
            else controller.enqueue(result.value);
          },
          (error: unknown) => {
            if (!settle()) return;
            controller.error(guard.abortSignal?.aborted ? guard.abortError() : error);
          },
        );
      });
    },
    cancel(reason) {
      cancelled = true;
      stopPendingPull?.();
      return reader.cancel(reason);
    },
  });
}
