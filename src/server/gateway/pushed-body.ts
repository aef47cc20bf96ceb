/**
 * A streamed response body that text is pushed into as model events arrive. What is pushed in
 * one turn of the event loop (all the events parsed from one upstream read) goes out as one
 * chunk, so one socket write, instead of one write per event.
 */
export interface PushedBody {
  readonly body: ReadableStream<Uint8Array>;
  send(text: string): void;
  /** Send the last text and end the body. */
  end(text?: string): void;
}

export function createPushedBody(): PushedBody {
  const encoder = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let buffered = '';
  let scheduled = false;
  let ended = false;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(started) {
      controller = started;
    },
    cancel() {
      cancelled = true;
    },
  });
  const flush = () => {
    scheduled = false;
    if (cancelled || !controller) return;
    if (buffered !== '') controller.enqueue(encoder.encode(buffered));
    buffered = '';
    if (ended) controller.close();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  return {
    body,
    send(text) {
      if (ended) return;
      buffered += text;
      schedule();
    },
    end(text = '') {
      if (ended) return;
      buffered += text;
      ended = true;
      schedule();
    },
  };
}
