/**
 * Kill at each boundary of a step: a real process runs an agent with a side-effect tool and is
 * killed (SIGKILL) by an armed fault point (HATARAKU_FAULTS) before a step body, after a tool's
 * side effect but before its checkpoint, right after a checkpoint, or while the final result is
 * written. A fresh process resumes the run; it must end exactly as a run that never crashed, and
 * the side-effect ledger must show that no committed step ran again.
 *
 * Also: a step renamed between crash and resume is a non-determinism error, and nothing runs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkRepeats,
  committedSideEffectKeys,
  countLines,
  countSteps,
  createWorkspace,
  errorsOf,
  journalKinds,
  type Reference,
  readJournal,
  readLedger,
  referenceRun,
  resultsOf,
  runWorker,
  startWorker,
  stepTrace,
} from './__fixtures__/worker-processes.js';

const turns = 4;
const runId = 'run_boundary';
// A run of 4 turns has 13 steps: per turn a model step, then `record` (step 1, 4, 7, 10) and
// `square` started in that order, and a final model step. `record`'s body is synchronous, so it
// has run by the time `square` reaches its own boundaries. `repeats` is how many side effects
// were in flight at the kill, so ran again on resume: 1 where the kill falls after `record`'s
// body and before its checkpoint, 0 everywhere else.
const scenarios: Array<{ faults: string; repeats: number }> = [
  { faults: 'before-step-body@1', repeats: 0 },
  { faults: 'before-step-body@2', repeats: 0 },
  { faults: 'before-step-body@3', repeats: 1 },
  { faults: 'before-step-body@8', repeats: 0 },
  { faults: 'before-step-body@13', repeats: 0 },
  { faults: 'after-step-body@1', repeats: 0 },
  { faults: 'after-step-body@2', repeats: 1 },
  { faults: 'after-step-body@3', repeats: 0 },
  { faults: 'after-step-body@8', repeats: 1 },
  { faults: 'after-step-body@11', repeats: 1 },
  { faults: 'after-step-body@13', repeats: 0 },
  { faults: 'after-checkpoint@1', repeats: 0 },
  { faults: 'after-checkpoint@2', repeats: 0 },
  { faults: 'after-checkpoint@7', repeats: 0 },
  { faults: 'after-checkpoint@13', repeats: 0 },
  { faults: 'during-final-write@1', repeats: 0 },
];

let reference: Reference;
beforeAll(async () => {
  reference = await referenceRun([runId], turns);
});

describe.concurrent.each(journalKinds)(
  '%s: a process killed at a step boundary, resumed in a fresh process',
  (kind) => {
    it.each(scenarios)('$faults', async ({ faults, repeats: expectedRepeats }) => {
      const workspace = createWorkspace(faults.replace('@', '-'), kind);
      const job = {
        mode: 'run' as const,
        database: workspace.database,
        ledger: workspace.ledger,
        runIds: [runId],
        turns,
      };

      const crashed = startWorker(job, { faults });
      const { executorId } = await crashed.ready();
      const crash = await crashed.exited;
      expect(crash.signal).toBe('SIGKILL');
      expect(resultsOf(crash)).toEqual([]);

      const atCrash = readJournal(workspace.database);
      expect(atCrash.runs.get(runId)?.status).toBe('pending');
      const committedAtCrash = committedSideEffectKeys(atCrash);
      const ledgerAtCrash = readLedger(workspace.ledger);
      const expectedSteps = stepTrace(reference.journal, runId);
      const allCommitted = faults === 'during-final-write@1' || faults === `after-checkpoint@${expectedSteps.length}`;
      if (allCommitted) expect(countSteps(atCrash, runId)).toBe(expectedSteps.length);
      else expect(countSteps(atCrash, runId)).toBeLessThan(expectedSteps.length);

      const requests = workspace.file('resume-requests.jsonl');
      const resumed = await runWorker({ ...job, requests });
      expect(errorsOf(resumed)).toEqual([]);
      const [result] = resultsOf(resumed);
      expect(result).toEqual(reference.results.get(runId));

      const final = readJournal(workspace.database);
      expect(final.runs.get(runId)?.status).toBe('completed');
      expect(stepTrace(final, runId)).toEqual(expectedSteps);
      // Committed model steps were replayed from the journal, not asked of the model again.
      expect(countLines(requests)).toBe(
        countSteps(reference.journal, runId, 'model') - countSteps(atCrash, runId, 'model'),
      );

      const ledger = readLedger(workspace.ledger);
      expect([...ledger.keys()].sort()).toEqual([...reference.ledger.keys()].sort());
      for (const key of committedAtCrash) expect(ledger.get(key)).toEqual(ledgerAtCrash.get(key));
      // At most the one side effect in flight at the crash ran again, with the same key.
      // SQLite commits synchronously, so what is in flight at each boundary is exact. A PostgreSQL
      // commit is a round trip during which the parallel tool call can reach its boundary, so at
      // most one uncommitted side effect may be in flight at any kill (and never a committed one:
      // checked just below).
      if (kind === 'sqlite') expect(checkRepeats(ledger, new Set([executorId]))).toBe(expectedRepeats);
      else expect(checkRepeats(ledger, new Set([executorId]))).toBeLessThanOrEqual(1);
      for (const [key, entry] of ledger) {
        if (entry.attempts > 1) expect(committedAtCrash.has(key) || !ledgerAtCrash.has(key)).toBe(false);
      }
    });
  },
);

describe.each(journalKinds)('%s: a step renamed between crash and resume', (kind) => {
  it('fails with a non-determinism error naming both names, and executes nothing', async () => {
    const workspace = createWorkspace('renamed', kind);
    const job = {
      mode: 'run' as const,
      database: workspace.database,
      ledger: workspace.ledger,
      runIds: [runId],
      turns,
    };
    // The 4th checkpoint is the second model step: `record` (step 1) is committed by then.
    const crash = await startWorker(job, { faults: 'after-checkpoint@4' }).exited;
    expect(crash.signal).toBe('SIGKILL');
    const atCrash = readJournal(workspace.database);
    expect(stepTrace(atCrash, runId).map(([name]) => name)).toEqual(['model', 'tool:record', 'tool:square', 'model']);
    const ledgerAtCrash = readLedger(workspace.ledger);

    // The tool is now registered as `Record`: the recorded call `record` resolves to it.
    const requests = workspace.file('renamed-requests.jsonl');
    const renamed = await runWorker({ ...job, renamed: true, requests });
    expect(resultsOf(renamed)).toEqual([]);
    const [error] = errorsOf(renamed);
    expect(error).toMatchObject({ runId, name: 'NonDeterminismError', code: 'non_determinism' });
    expect(error?.message).toMatch(/step 1 was recorded as "tool:record" but replay reached "tool:Record"/);
    expect(error?.message).not.toContain('\n');

    expect(countLines(requests)).toBe(0);
    expect(readLedger(workspace.ledger)).toEqual(ledgerAtCrash);
    const after = readJournal(workspace.database);
    expect(stepTrace(after, runId)).toEqual(stepTrace(atCrash, runId));
    expect(after.runs.get(runId)?.status).toBe('failed');

    // With the code restored, the run resumes and ends as if nothing had happened.
    const restored = await runWorker(job);
    expect(resultsOf(restored)).toEqual([reference.results.get(runId)]);
    expect(stepTrace(readJournal(workspace.database), runId)).toEqual(stepTrace(reference.journal, runId));
    expect(checkRepeats(readLedger(workspace.ledger), new Set())).toBe(0);
  });
});
