/**
 * Reads a streaming response body so that silence and aborts end it promptly.
 *
 * The fetch timeout in the transport only covers the time to the response headers; a server
 * that stalls mid-stream would otherwise hang the caller forever. Aborts are also enforced
 * here rather than trusting the fetch implementation to honour its signal once the body has
 * started, so a custom `fetch` cannot keep a cancelled call alive.
 *
 * The guard is a reader over the body's own reader, not a second stream piped from the first:
 * a gateway reads one body per call, and a stream of its own (its queue, its controller, a
 * promise and a listener per chunk) was a large share of what each call allocated.
 */
import type { ByteReader, ByteSource } from '../transport/sse.js';

export interface StreamBodyGuard {
  /** Longest silence allowed between two chunks, in milliseconds. */
  idleTimeoutMs: number;
  abortSignal?: AbortSignal | undefined;
  /** The error the stream fails with when `idleTimeoutMs` passes without data. */
  idleError: () => Error;
  /** The error the stream fails with when `abortSignal` fires. */
  abortError: () => Error;
}

/** A source with the same bytes as `body` whose reads fail on silence or abort. */
export function guardStreamBody(body: ReadableStream<Uint8Array>, guard: StreamBodyGuard): ByteSource {
  return { getReader: () => guardedReader(body.getReader(), guard) };
}

function guardedReader(reader: ReadableStreamDefaultReader<Uint8Array>, guard: StreamBodyGuard): ByteReader {
  const signal = guard.abortSignal;
  /** Set once the read failed for silence or abort: every later read fails the same way. */
  let failure: Error | undefined;
  /** Set once the consumer cancelled or let go: nothing may fail or settle after that. */
  let closed = false;
  /** The pending read's rejection, while one is pending. */
  let rejectPending: ((error: Error) => void) | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  const stopWatching = () => {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = undefined;
    signal?.removeEventListener('abort', onAbort);
  };
  const fail = (error: Error): void => {
    if (failure !== undefined || closed) return;
    failure = error;
    stopWatching();
    const reject = rejectPending;
    rejectPending = undefined;
    reject?.(error);
    // Cancelling releases the connection; its own rejection is of no further interest.
    reader.cancel(error).catch(() => {});
  };
  function onAbort(): void {
    fail(guard.abortError());
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  return {
    read() {
      if (failure === undefined && signal?.aborted) onAbort();
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise<ReadableStreamReadResult<Uint8Array>>((resolve, reject) => {
        rejectPending = reject;
        idleTimer = setTimeout(() => fail(guard.idleError()), guard.idleTimeoutMs);
        reader.read().then(
          (result) => {
            // Failed (and rejected) meanwhile, or the consumer let go: this read is no longer awaited.
            if (rejectPending !== reject) return;
            rejectPending = undefined;
            clearTimeout(idleTimer);
            idleTimer = undefined;
            if (result.done) stopWatching();
            resolve(result);
          },
          (error: unknown) => {
            if (rejectPending !== reject) return;
            rejectPending = undefined;
            stopWatching();
            reject(signal?.aborted ? guard.abortError() : error);
          },
        );
      });
    },
    // A read still pending settles as the body's own does: done after a cancel, failed after a release.
    cancel(reason) {
      closed = true;
      stopWatching();
      return reader.cancel(reason);
    },
    releaseLock() {
      closed = true;
      stopWatching();
      reader.releaseLock();
    },
  };
}
