/**
 * Another writer holds the journal (SQLITE_BUSY): a second connection takes the write lock with
 * `BEGIN IMMEDIATE` while a worker process is in the middle of a run. Within the busy timeout
 * the run waits and finishes correctly; past it, the run stops with one clear `JournalError`
 * line and is resumed afterwards by a fresh process, ending as a run that was never blocked.
 */
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkRepeats,
  committedSideEffectKeys,
  countSteps,
  createWorkspace,
  errorsOf,
  type Reference,
  readJournal,
  readLedger,
  referenceRun,
  resultsOf,
  runWorker,
  startWorker,
  stepTrace,
  waitUntil,
} from './__fixtures__/worker-processes.js';

const turns = 6;
const runId = 'run_contention';

let reference: Reference;
beforeAll(async () => {
  reference = await referenceRun([runId], turns);
});

/** Take the journal's write lock from another connection, as a second writer would. */
function holdWriteLock(path: string): { release(): void } {
  const holder = new Database(path, { timeout: 10_000 });
  holder.exec('BEGIN IMMEDIATE');
  return {
    release() {
      holder.exec('COMMIT');
      holder.close();
    },
  };
}

describe('a concurrent writer holding the journal', () => {
  it('makes the run wait within the busy timeout, then finish correctly', async () => {
    const workspace = createWorkspace('busy-wait');
    const job = {
      mode: 'run' as const,
      database: workspace.database,
      ledger: workspace.ledger,
      runIds: [runId],
      turns,
      delayMs: 30,
      busyTimeoutMs: 10_000,
    };
    const worker = startWorker(job);
    await worker.ready();
    await waitUntil(() => countSteps(readJournal(workspace.database), runId) >= 3, 15_000, 'three committed steps');

    const lock = holdWriteLock(workspace.database);
    const lockedAt = Date.now();
    const stepsWhenLocked = countSteps(readJournal(workspace.database), runId);
    const holdMs = 1_000;
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    // Nothing was committed while the lock was held, and the worker is still alive, waiting.
    const whileLocked = readJournal(workspace.database);
    expect(countSteps(whileLocked, runId)).toBe(stepsWhenLocked);
    expect(whileLocked.runs.get(runId)?.status).toBe('pending');
    expect(worker.child.exitCode).toBeNull();
    lock.release();

    const exit = await worker.exited;
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(holdMs);
    expect(errorsOf(exit)).toEqual([]);
    expect(resultsOf(exit)).toEqual([reference.results.get(runId)]);
    const final = readJournal(workspace.database);
    expect(stepTrace(final, runId)).toEqual(stepTrace(reference.journal, runId));
    expect(checkRepeats(readLedger(workspace.ledger), new Set())).toBe(0);
  });

  it('past the busy timeout, fails with one clear JournalError line; the run resumes afterwards', async () => {
    const workspace = createWorkspace('busy-timeout');
    const job = {
      mode: 'run' as const,
      database: workspace.database,
      ledger: workspace.ledger,
      runIds: [runId],
      turns,
      delayMs: 30,
      busyTimeoutMs: 250,
    };
    const worker = startWorker(job);
    const { executorId } = await worker.ready();
    await waitUntil(() => countSteps(readJournal(workspace.database), runId) >= 3, 15_000, 'three committed steps');

    const lock = holdWriteLock(workspace.database);
    let exit: Awaited<typeof worker.exited>;
    try {
      exit = await worker.exited;
    } finally {
      lock.release();
    }
    expect(exit.stderr).toBe('');
    expect(resultsOf(exit)).toEqual([]);
    const [error] = errorsOf(exit);
    expect(error).toMatchObject({ runId, name: 'JournalError', code: 'journal_error' });
    expect(error?.message).toMatch(
      /^journal: .+ failed: another process held the journal's write lock \(.+\) for longer than 250 ms; the run can be resumed once it is released\.$/,
    );
    expect(error?.message).not.toContain('\n');

    const atFailure = readJournal(workspace.database);
    expect(['pending', 'failed']).toContain(atFailure.runs.get(runId)?.status);
    const committedAtFailure = committedSideEffectKeys(atFailure);
    const ledgerAtFailure = readLedger(workspace.ledger);

    const resumed = await runWorker({ ...job, busyTimeoutMs: 10_000 });
    expect(errorsOf(resumed)).toEqual([]);
    expect(resultsOf(resumed)).toEqual([reference.results.get(runId)]);
    const final = readJournal(workspace.database);
    expect(stepTrace(final, runId)).toEqual(stepTrace(reference.journal, runId));
    const ledger = readLedger(workspace.ledger);
    for (const key of committedAtFailure) expect(ledger.get(key)).toEqual(ledgerAtFailure.get(key));
    // The step whose commit hit the lock may run again; nothing else does.
    expect(checkRepeats(ledger, new Set([executorId]))).toBeLessThanOrEqual(1);
  });
});
