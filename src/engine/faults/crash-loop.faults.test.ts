/**
 * The crash loop: 200 short runs executed by worker processes that the test kills with SIGKILL at
 * random moments. Each new worker first recovers what dead workers left (`hataraku.recover`:
 * dead executors on this machine are released at once), then starts the runs it was given.
 * Workers are restarted until every run has finished. Every run must end as it does without a
 * crash, and the side-effect ledger must show no committed step executed again.
 */
import { describe, expect, it } from 'vitest';
import {
  checkRepeats,
  committedSideEffectKeys,
  createWorkspace,
  journalKinds,
  type LedgerEntry,
  type Reference,
  readJournal,
  readLedger,
  referenceRun,
  runWorker,
  startWorker,
  stepTrace,
  type WorkerProcess,
} from './__fixtures__/worker-processes.js';

const runCount = 200;
const turns = 4;
const workersAtOnce = 3;
const runsPerWorker = 8;
const runsAtOncePerWorker = 8;
const maxKills = 30;

/** After a kill: what was committed, then (read second) what the ledger held. */
interface CrashSnapshot {
  committed: Set<string>;
  ledger: Map<string, LedgerEntry>;
}

describe.each(journalKinds)('%s: crash loop: random SIGKILLs and restarts until every run finishes', (kind) => {
  it(`finishes ${runCount} runs exactly as without crashes`, async () => {
    const runIds = Array.from({ length: runCount }, (_, n) => `run_loop_${String(n).padStart(3, '0')}`);
    const reference: Reference = await referenceRun(runIds, turns, 'loop-reference');
    const workspace = createWorkspace('crash-loop', kind);
    const queue = [...runIds];
    const killed = new Set<string>();
    const snapshots: CrashSnapshot[] = [];
    let kills = 0;
    let spawned = 0;
    // Kills come at a random moment below this ceiling after a worker is ready. A worker that
    // finishes first halves it, so a fast machine (or a slow one's scheduling) still gets its
    // crashes, rather than the loop ending with too few of them to mean anything.
    let killCeilingMs = 150;

    const job = (ids: string[]) => ({
      mode: 'recover' as const,
      database: workspace.database,
      ledger: workspace.ledger,
      runIds: ids,
      turns,
      concurrency: runsAtOncePerWorker,
    });

    async function superviseOne(worker: WorkerProcess, ids: string[]): Promise<void> {
      const { executorId } = await worker.ready();
      let killTimer: NodeJS.Timeout | undefined;
      if (kills < maxKills) {
        kills++;
        killTimer = setTimeout(() => worker.child.kill('SIGKILL'), Math.floor(Math.random() * killCeilingMs));
      }
      const exit = await worker.exited;
      if (killTimer) clearTimeout(killTimer);
      if (exit.signal === 'SIGKILL') {
        killed.add(executorId);
        // Journal first, ledger second: a side effect always precedes its step's checkpoint.
        const committed = committedSideEffectKeys(readJournal(workspace.database));
        snapshots.push({ committed, ledger: readLedger(workspace.ledger) });
        const journal = readJournal(workspace.database);
        for (const id of ids) if (!journal.runs.has(id)) queue.push(id);
        return;
      }
      if (exit.code !== 0 || exit.stderr !== '') throw new Error(`worker failed (${exit.code}): ${exit.stderr}`);
      if (killTimer) {
        kills--; // the worker finished before its kill came
        killCeilingMs = Math.max(5, Math.floor(killCeilingMs / 2));
      }
      const errors = exit.events.filter((event) => event.event === 'error');
      expect(errors).toEqual([]);
    }

    async function slot(): Promise<void> {
      while (queue.length > 0) {
        const ids = queue.splice(0, runsPerWorker);
        spawned++;
        await superviseOne(startWorker(job(ids)), ids);
      }
    }
    await Promise.all(Array.from({ length: workersAtOnce }, slot));

    // The last workers may have been killed: recover what they left, without killing.
    for (let attempt = 0; attempt < 3; attempt++) {
      const open = [...readJournal(workspace.database).runs.values()].filter((run) => run.status !== 'completed');
      if (open.length === 0) break;
      spawned++;
      await runWorker(job([]));
    }

    const final = readJournal(workspace.database);
    const finalLedger = readLedger(workspace.ledger);
    expect(final.runs.size).toBe(runCount);
    for (const runId of runIds) {
      const run = final.runs.get(runId);
      expect(run?.status, runId).toBe('completed');
      expect(run?.output, runId).toEqual(reference.results.get(runId)?.output);
      expect(stepTrace(final, runId), runId).toEqual(stepTrace(reference.journal, runId));
    }

    expect([...finalLedger.keys()].sort()).toEqual([...reference.ledger.keys()].sort());
    // A step committed before a crash never ran again: its executions are as they were then.
    for (const snapshot of snapshots) {
      for (const key of snapshot.committed) expect(finalLedger.get(key), key).toEqual(snapshot.ledger.get(key));
    }
    // Repeats are only in-flight steps of killed workers, at most one per run per crash.
    const repeats = checkRepeats(finalLedger, killed);
    expect(repeats).toBeLessThanOrEqual(killed.size * runsAtOncePerWorker);

    expect(killed.size).toBeGreaterThanOrEqual(20);
    // Many runs were interrupted and continued by another process: their side effects were
    // executed by more than one executor.
    const executorsOfRun = new Map<string, Set<string>>();
    for (const [key, entry] of finalLedger) {
      const runId = key.slice(0, key.lastIndexOf(':'));
      const executors = executorsOfRun.get(runId) ?? new Set<string>();
      for (const executor of entry.executors) executors.add(executor);
      executorsOfRun.set(runId, executors);
    }
    const recoveredRuns = new Set([...executorsOfRun].filter(([, executors]) => executors.size > 1).map(([id]) => id));
    expect(recoveredRuns.size).toBeGreaterThan(0);
    console.info(
      `${kind} crash loop: ${runCount} runs, ${spawned} worker processes, ${killed.size} killed, ${repeats} in-flight side effects repeated, ${recoveredRuns.size} runs continued by another process`,
    );
  }, 240_000);
});
