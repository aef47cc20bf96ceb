/**
 * Faults only a database server has, against the PostgreSQL journal with real worker processes:
 * the server restarted mid-run (cleanly, and as a crash that loses unflushed commits), a
 * connection dropped in the middle of a transaction, a worker paused (SIGSTOP) past its lease
 * and resumed after another took its run over, and executors racing to claim one run.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PrivateCluster,
  privateClusterAvailable,
  privateClusterSkipReason,
  startPrivateCluster,
} from '../postgres/__fixtures__/private-cluster.js';
import {
  createTestDatabase,
  postgresSkipReason,
  psql,
  testDatabaseUrl,
  withDatabase,
} from '../postgres/__fixtures__/test-database.js';
import {
  checkRepeats,
  committedSideEffectKeys,
  countSteps,
  createLedger,
  createWorkspace,
  errorsOf,
  openJournal,
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
const runId = 'run_server';

let reference: Reference;
beforeAll(async () => {
  if (testDatabaseUrl || privateClusterAvailable) reference = await referenceRun([runId], turns);
});

async function pollUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.skipIf(!privateClusterAvailable)('the database server restarted mid-run', () => {
  let cluster: PrivateCluster;
  beforeAll(async () => {
    cluster = await startPrivateCluster();
  }, 60_000);
  afterAll(() => cluster?.stop());

  function workspaceOnCluster(name: string) {
    const workspace = createWorkspace(name);
    const database = `hataraku_${name.replaceAll('-', '_')}`;
    psql(cluster.url, `CREATE DATABASE ${database}`);
    return { ...workspace, database: withDatabase(cluster.url, database) };
  }

  it('cleanly (a fast shutdown): the run waits, reconnects and finishes in the same process, nothing repeated', async () => {
    const workspace = workspaceOnCluster('restart-fast');
    const job = {
      mode: 'run' as const,
      database: workspace.database,
      ledger: workspace.ledger,
      runIds: [runId],
      turns,
    };
    const worker = startWorker({ ...job, delayMs: 40 });
    await worker.ready();
    await waitUntil(() => countSteps(readJournal(workspace.database), runId) >= 3, 20_000, 'three committed steps');
    cluster.restart('fast');
    const exit = await worker.exited;
    expect(exit.stderr).toBe('');
    expect(exit.code).toBe(0);
    expect(errorsOf(exit)).toEqual([]);
    expect(resultsOf(exit)).toEqual([reference.results.get(runId)]);
    expect(stepTrace(readJournal(workspace.database), runId)).toEqual(stepTrace(reference.journal, runId));
    expect(checkRepeats(readLedger(workspace.ledger), new Set())).toBe(0);
  });

  it('as a crash (immediate): finishes, or stops on lost steps and resumes; no step the journal kept runs again', async () => {
    const workspace = workspaceOnCluster('restart-crash');
    const job = {
      mode: 'run' as const,
      database: workspace.database,
      ledger: workspace.ledger,
      runIds: [runId],
      turns,
    };
    const worker = startWorker({ ...job, delayMs: 40 });
    const { executorId } = await worker.ready();
    await waitUntil(() => countSteps(readJournal(workspace.database), runId) >= 3, 20_000, 'three committed steps');
    cluster.restart('immediate');
    const exit = await worker.exited;
    expect(exit.stderr).toBe('');
    const errors = errorsOf(exit);
    console.info(
      `server crash mid-run: ${errors.length > 0 ? 'steps were lost; the run stopped and was resumed' : 'nothing was lost; the run finished'}`,
    );
    if (errors.length > 0) {
      // The crash lost writes this process had committed: it must say so and stop, not run ahead.
      // Either the lost-step check catches it (journal_error), or the lost writes reach back to the
      // run's claim, and the fence refuses the next commit (lease_lost). Both stop the run here.
      expect(errors).toHaveLength(1);
      const [stop] = errors;
      expect(['journal_error', 'lease_lost'], JSON.stringify(stop)).toContain(stop?.code);
      expect(stop).toMatchObject({ runId });
      if (stop?.code === 'journal_error') {
        expect(stop.message).toMatch(
          /restarted and lost steps? [\d, ]+ of run run_server .+ resumes from what the journal kept/,
        );
      }
      const kept = committedSideEffectKeys(readJournal(workspace.database));
      const ledgerAtStop = readLedger(workspace.ledger);
      await runWorker(job);
      const ledger = readLedger(workspace.ledger);
      // A step the journal kept never ran again; only lost (uncommitted) ones did.
      for (const key of kept) expect(ledger.get(key), key).toEqual(ledgerAtStop.get(key));
      for (const [key, entry] of ledger) {
        if (entry.attempts > 1) {
          expect(kept.has(key)).toBe(false);
          expect(entry.executors.slice(0, -1).every((executor) => executor === executorId)).toBe(true);
        }
      }
    } else {
      expect(resultsOf(exit)).toEqual([reference.results.get(runId)]);
      expect(checkRepeats(readLedger(workspace.ledger), new Set())).toBe(0);
    }
    const final = readJournal(workspace.database);
    expect(final.runs.get(runId)?.status).toBe('completed');
    expect(final.runs.get(runId)?.output).toEqual(reference.results.get(runId)?.output);
    expect(stepTrace(final, runId)).toEqual(stepTrace(reference.journal, runId));
  });
});
if (!privateClusterAvailable) {
  describe('the database server restarted mid-run', () => {
    it.skip(privateClusterSkipReason, () => {});
  });
}

describe.skipIf(!testDatabaseUrl)('connections and leases on a shared PostgreSQL', () => {
  it('a connection dropped in the middle of a transaction is retried; the run finishes with nothing repeated', async () => {
    const workspace = createWorkspace('dropped', 'postgres');
    const job = {
      mode: 'run' as const,
      database: workspace.database,
      ledger: workspace.ledger,
      runIds: [runId],
      turns,
    };
    // Slow turns, so that the run is still going when the row below is locked: with 30 ms turns a
    // loaded machine could take the lock only after the run had ended (once seen under CI).
    const worker = startWorker({ ...job, delayMs: 300 });
    await worker.ready();
    await waitUntil(() => countSteps(readJournal(workspace.database), runId) >= 3, 20_000, 'three committed steps');

    // Hold the run's row: the worker's next write stops inside its transaction, waiting on the
    // lock. Its connection is then terminated there, twice.
    const blocker = new pg.Client({ connectionString: workspace.database });
    const observer = new pg.Client({ connectionString: workspace.database });
    await Promise.all([blocker.connect(), observer.connect()]);
    const terminated = new Set<number>();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM runs WHERE id = $1 FOR UPDATE', [runId]);
      for (let round = 0; round < 2; round++) {
        let waiting: number[] = [];
        await pollUntil(
          async () => {
            waiting = (
              await observer.query<{ pid: number }>(
                `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hataraku'
                   AND wait_event_type = 'Lock'`,
              )
            ).rows
              .map((row) => row.pid)
              .filter((pid) => !terminated.has(pid));
            return waiting.length > 0;
          },
          20_000,
          'the worker to wait on the locked row inside a transaction',
        );
        for (const pid of waiting) {
          const row = (await observer.query('SELECT pg_terminate_backend($1) AS done', [pid])).rows[0] as {
            done: boolean;
          };
          if (row.done) terminated.add(pid);
        }
      }
      await blocker.query('COMMIT');
    } finally {
      await Promise.all([blocker.end(), observer.end()]);
    }
    expect(terminated.size).toBeGreaterThanOrEqual(2);

    const exit = await worker.exited;
    expect(exit.stderr).toBe('');
    expect(errorsOf(exit)).toEqual([]);
    expect(resultsOf(exit)).toEqual([reference.results.get(runId)]);
    expect(stepTrace(readJournal(workspace.database), runId)).toEqual(stepTrace(reference.journal, runId));
    expect(checkRepeats(readLedger(workspace.ledger), new Set())).toBe(0);
  });

  it('a worker paused (SIGSTOP) past its lease and resumed after a takeover commits nothing more', async () => {
    const workspace = createWorkspace('paused', 'postgres');
    const base = { database: workspace.database, ledger: workspace.ledger, runIds: [runId], turns, leaseMs: 1_000 };
    const paused = startWorker({ mode: 'run', ...base, delayMs: 60 });
    const { executorId } = await paused.ready();
    await waitUntil(() => countSteps(readJournal(workspace.database), runId) >= 3, 20_000, 'three committed steps');
    paused.child.kill('SIGSTOP');
    try {
      // Another worker waits for the lease to run out (the paused process is alive, so it is not
      // reaped), takes the run over and finishes it.
      const ledger = workspace.file('takeover-ledger.db');
      createLedger(ledger);
      const takeover = await runWorker({ mode: 'queue', ...base, ledger, runIds: [] });
      expect(errorsOf(takeover)).toEqual([]);
      expect(resultsOf(takeover)).toEqual([reference.results.get(runId)]);
    } finally {
      paused.child.kill('SIGCONT');
    }
    const finished = readJournal(workspace.database);
    const exit = await paused.exited;
    expect(exit.stderr).toBe('');
    expect(resultsOf(exit)).toEqual([]);
    const [error] = errorsOf(exit);
    expect(error).toMatchObject({ runId, code: 'lease_lost' });
    expect(error?.message).toMatch(/no longer owns the run/);
    // Nothing the resumed process did reached the journal.
    const final = readJournal(workspace.database);
    expect(stepTrace(final, runId)).toEqual(stepTrace(finished, runId));
    expect(stepTrace(final, runId)).toEqual(stepTrace(reference.journal, runId));
    expect(final.runs.get(runId)?.status).toBe('completed');
    // The paused worker executed no side effect after it was resumed.
    expect(checkRepeats(readLedger(workspace.ledger), new Set([executorId]))).toBeLessThanOrEqual(1);
  });

  it('executors racing to claim one run: exactly one wins, and only its commits count', async () => {
    const location = createTestDatabase('race');
    const creator = openJournal(location, { leaseMs: 200 });
    const racers = Array.from({ length: 6 }, () => openJournal(location, { leaseMs: 60_000 }));
    try {
      await creator.createRun({ id: 'raced', agentName: 'a', model: 'scripted:x', input: 'x', spec: {} });
      await pollUntil(
        async () => ((await creator.getRun('raced'))?.leaseExpiresAt ?? 0) < Date.now() - 50,
        10_000,
        'the lease to expire',
      );
      const claims = await Promise.all(racers.map((racer) => racer.claimRun('raced')));
      expect(claims.filter(Boolean)).toHaveLength(1);
      const winner = racers[claims.indexOf(true)];
      expect((await creator.getRun('raced'))?.owner).toBe(winner?.executorId);
      const step = (engine: typeof creator, text: string) =>
        engine.commitStep({
          runId: 'raced',
          index: 0,
          name: 'model',
          kind: 'model',
          requestDigest: 'd',
          output: text,
          model: undefined,
          usage: undefined,
          costUsd: undefined,
          startedAt: 1,
          finishedAt: 2,
        });
      const commits = await Promise.allSettled(
        [creator, ...racers].map((engine, index) => step(engine, `by ${index}`)),
      );
      const committed = await creator.listSteps('raced');
      expect(committed.map((record) => record.output)).toEqual([`by ${claims.indexOf(true) + 1}`]);
      for (const [index, outcome] of commits.entries()) {
        const isWinner = index === claims.indexOf(true) + 1;
        // Losers are refused (lease lost) or, once the winner committed, read its step.
        if (isWinner) expect(outcome).toMatchObject({ status: 'fulfilled' });
        else if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'lease_lost' });
        else expect(outcome.value.output).toBe(`by ${claims.indexOf(true) + 1}`);
      }
    } finally {
      await Promise.all([creator, ...racers].map((engine) => engine.close()));
    }
  });
});
if (!testDatabaseUrl) {
  describe('connections and leases on a shared PostgreSQL', () => {
    it.skip(postgresSkipReason, () => {});
  });
}
