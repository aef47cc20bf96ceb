/// <reference lib="dom" />
/**
 * Orders the answers to one view's repeated reads (a poll, a refresh after an event, a new
 * filter): an answer is shown only if no newer read has been shown or superseded before it, so
 * a slow answer never overwrites a newer one, and nothing is shown once the view is gone.
 */
export function createResponseOrder(signal: AbortSignal) {
  let asked = 0;
  let settled = 0;
  return {
    /** A ticket for a read about to be sent. */
    ask: () => ++asked,
    /** Whether the answer to `ticket` may be shown; if so, older answers no longer may. */
    take(ticket: number): boolean {
      if (signal.aborted || ticket <= settled) return false;
      settled = ticket;
      return true;
    },
    /** The question changed (new filters): no answer to a read sent before now may be shown. */
    supersede() {
      settled = asked;
    },
  };
}
