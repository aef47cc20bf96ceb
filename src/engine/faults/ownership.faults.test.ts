/**
 * Who may execute a run, tested with real processes: two processes started at once on the same
 * pending run give one execution; a run whose owner was SIGKILLed is claimed at once by another
 * process on this machine (its lease has not expired), and a live owner's run cannot be claimed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkRepeats,
  countLines,
  countSteps,
  createWorkspace,
  errorsOf,
  journalKinds,
  openJournal,
  type Reference,
  readJournal,
  readLedger,
  referenceRun,
  resultsOf,
  runWorker,
  startWorker,
  stepTrace,
  type WorkerExit,
  waitUntil,
} from './__fixtures__/worker-processes.js';

const turns = 4;
const runId = 'run_owned';

let reference: Reference;
beforeAll(async () => {
  reference = await referenceRun([runId], turns);
});

describe.concurrent.each(journalKinds)('%s: two processes starting the same run at once', (kind) => {
  it.each(['run', 'recover'] as const)('gives one execution (both by %s)', async (mode) => {
    const workspace = createWorkspace(`twice-${mode}`, kind);
    const base = { database: workspace.database, ledger: workspace.ledger, runIds: [runId], turns };
    // A pending run: its process was killed after the second model step's checkpoint.
    const crash = await startWorker({ mode: 'run', ...base }, { faults: 'after-checkpoint@4' }).exited;
    expect(crash.signal).toBe('SIGKILL');
    const crashedExecutor = crash.events.find((event) => event.event === 'ready');
    const atCrash = readJournal(workspace.database);

    const requests = [workspace.file('first-requests.jsonl'), workspace.file('second-requests.jsonl')];
    const workers = requests.map((file) =>
      startWorker({
        mode,
        ...base,
        runIds: mode === 'run' ? [runId] : [],
        delayMs: 20,
        requests: file,
        waitForGo: true,
      }),
    );
    await Promise.all(workers.map((worker) => worker.ready()));
    for (const worker of workers) worker.go();
    const exits: WorkerExit[] = await Promise.all(workers.map((worker) => worker.exited));
    for (const exit of exits) {
      expect(exit.stderr).toBe('');
      expect(exit.code).toBe(0);
    }

    // One process executed the rest of the run; the other was refused, found nothing to take,
    // or (starting after the first had finished) read the finished result from the journal.
    const executedBy = requests.map((file) => countLines(file));
    expect(executedBy.filter((count) => count > 0)).toEqual([
      countSteps(reference.journal, runId, 'model') - countSteps(atCrash, runId, 'model'),
    ]);
    const results = exits.flatMap((exit) => resultsOf(exit));
    expect(results.length).toBeGreaterThanOrEqual(1);
    for (const result of results) expect(result).toEqual(reference.results.get(runId));
    for (const error of exits.flatMap((exit) => errorsOf(exit))) {
      expect(error).toMatchObject({ code: 'run_not_resumable' });
      expect(error.message).toMatch(new RegExp(`^run ${runId} is being executed by executor_\\w+; `));
    }
    for (const exit of exits) {
      for (const skipped of exit.events.filter((event) => event.event === 'skipped')) {
        expect(skipped).toMatchObject({ runId, reason: expect.stringMatching(/is being executed by/) });
      }
    }

    expect(stepTrace(readJournal(workspace.database), runId)).toEqual(stepTrace(reference.journal, runId));
    const ledger = readLedger(workspace.ledger);
    expect([...ledger.keys()].sort()).toEqual([...reference.ledger.keys()].sort());
    // The crash was after a checkpoint, so nothing was in flight: every step ran exactly once.
    expect(checkRepeats(ledger, new Set(crashedExecutor ? [crashedExecutor.executorId] : []))).toBe(0);
  });
});

describe.each(journalKinds)('%s: dead-executor reaping', (kind) => {
  it("claims a SIGKILLed process's run at once, but never a live owner's", async () => {
    const workspace = createWorkspace('reaping', kind);
    const job = {
      mode: 'run' as const,
      database: workspace.database,
      ledger: workspace.ledger,
      runIds: [runId],
      turns,
      // Slow model turns keep the owner alive (and its run open) through the checks below.
      delayMs: 1_500,
    };
    const owner = startWorker(job);
    const { executorId } = await owner.ready();
    await waitUntil(() => readJournal(workspace.database).runs.has(runId), 15_000, 'the run to be created');

    const observer = openJournal(workspace.database);
    try {
      // A live owner keeps its run: neither this process nor another one can take it.
      expect(await observer.claimRun(runId)).toBe(false);
      const refused = await runWorker(job);
      expect(resultsOf(refused)).toEqual([]);
      const [error] = errorsOf(refused);
      expect(error).toMatchObject({ runId, code: 'run_not_resumable' });
      expect(error?.message).toContain(`is being executed by ${executorId}`);
      expect(owner.child.exitCode).toBeNull();

      expect((await owner.kill()).signal).toBe('SIGKILL');
      const orphan = await observer.getRun(runId);
      expect(orphan?.owner).toBe(executorId);
      // Its lease (30 s by default) has not expired; the owner's process is gone, so the run is free.
      expect(orphan?.leaseExpiresAt ?? 0).toBeGreaterThan(Date.now());
      expect(await observer.claimRun(runId)).toBe(true);
      expect((await observer.getRun(runId))?.owner).toBe(observer.executorId);
      await observer.releaseRun(runId);
    } finally {
      await observer.close();
    }

    const resumed = await runWorker({ ...job, delayMs: 0 });
    expect(errorsOf(resumed)).toEqual([]);
    expect(resultsOf(resumed)).toEqual([reference.results.get(runId)]);
    expect(stepTrace(readJournal(workspace.database), runId)).toEqual(stepTrace(reference.journal, runId));
    expect(checkRepeats(readLedger(workspace.ledger), new Set([executorId]))).toBeLessThanOrEqual(1);
  });
});
