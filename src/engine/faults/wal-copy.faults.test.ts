/**
 * A copy of the journal taken mid-run (the database file, then its WAL and shared-memory files,
 * copied while the worker writes), as a backup or a snapshot of a lost machine would be. The
 * original process is then killed, and a new process recovers the run from the copy alone: it
 * finishes with the reference output and executes only the steps the copy had not committed.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkRepeats,
  committedSideEffectKeys,
  countLines,
  countSteps,
  createLedger,
  createWorkspace,
  errorsOf,
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
const runId = 'run_wal_copy';

describe('a copy of the database and its WAL taken mid-run', () => {
  it('recovers from the copy in a new process and finishes as the uninterrupted run', async () => {
    const reference = await referenceRun([runId], turns);
    const original = createWorkspace('wal-original');
    const worker = startWorker({
      mode: 'run',
      database: original.database,
      ledger: original.ledger,
      runIds: [runId],
      turns,
      delayMs: 30,
    });
    await worker.ready();
    await waitUntil(() => countSteps(readJournal(original.database), runId) >= 5, 15_000, 'five committed steps');

    const copy = createWorkspace('wal-copy');
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(original.database + suffix)) copyFileSync(original.database + suffix, copy.database + suffix);
    }
    expect(existsSync(`${copy.database}-wal`)).toBe(true);
    // The machine is lost: only the copy remains.
    expect((await worker.kill()).signal).toBe('SIGKILL');

    const inCopy = readJournal(copy.database);
    expect(inCopy.runs.get(runId)?.status).toBe('pending');
    const committedInCopy = countSteps(inCopy, runId);
    expect(committedInCopy).toBeGreaterThanOrEqual(5);
    expect(committedInCopy).toBeLessThan(countSteps(reference.journal, runId));
    const committedKeys = committedSideEffectKeys(inCopy);

    const ledger = copy.file('recovery-ledger.db');
    createLedger(ledger);
    const requests = copy.file('recovery-requests.jsonl');
    const recovered = await runWorker({ mode: 'recover', database: copy.database, ledger, turns, requests });
    expect(errorsOf(recovered)).toEqual([]);
    expect(resultsOf(recovered)).toEqual([reference.results.get(runId)]);
    const final = readJournal(copy.database);
    expect(final.runs.get(runId)?.status).toBe('completed');
    expect(stepTrace(final, runId)).toEqual(stepTrace(reference.journal, runId));

    // Only what the copy had not committed was executed: no committed step is repeated.
    const executed = readLedger(ledger);
    for (const key of committedKeys) expect(executed.has(key), key).toBe(false);
    expect([...executed.keys()].sort()).toEqual(
      [...reference.ledger.keys()].filter((key) => !committedKeys.has(key)).sort(),
    );
    expect(checkRepeats(executed, new Set())).toBe(0);
    expect(countLines(requests)).toBe(
      countSteps(reference.journal, runId, 'model') - countSteps(inCopy, runId, 'model'),
    );
  });
});
