/** Waiting, in the process, for the decisions on the approvals a run asked for. */
import type { ApprovalRecord, Engine } from '../engine/engine.js';

/** Wait until none of `approvals` is pending any more (a person decided, or a deadline passed). */
export async function waitForDecisions(
  engine: Engine,
  approvals: ApprovalRecord[],
  pollMs: number,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    // Reads never write: a deadline that passed is applied here, by the one who waits for it.
    await engine.expireApprovalDeadlines();
    let pending = false;
    for (const approval of approvals) {
      const current = await engine.getApproval(approval.runId, approval.stepIndex);
      if (current?.status === 'pending') pending = true;
    }
    if (!pending) return;
    if (signal.aborted) throw signal.reason ?? new Error('aborted');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
