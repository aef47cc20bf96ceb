/**
 * Steps a server crash may have lost. A step is committed asynchronously (in the server's WAL
 * buffers, not yet on disk) until a durable commit flushes the WAL past it. If the server
 * crashes and restarts in between, the step is gone while this process, which lives on, thinks
 * it is committed. The guard remembers such steps per run. When a connection fails it compares
 * the server's start time with the one it knew, and after a restart it checks, before the run
 * writes again, that the steps are still there. If one is missing, the run stops with a
 * `JournalError` and resumes from what the journal kept, rather than running ahead of it.
 */
import type pg from 'pg';
import { JournalError } from '../../errors.js';

export interface LostStepGuard {
  /** The server run (its start time) this process last saw; commits check it in their statement. */
  readonly serverStartedAt: string | undefined;
  /** Learn the server's start time, once connected. */
  start(): Promise<void>;
  /** A connection failed or the server restarted: check before the next write. */
  connectionLost(): void;
  /** A step of `runId` committed asynchronously. */
  committedAsynchronously(runId: string, index: number): void;
  /** The run ended: nothing of it needs checking any more. */
  forget(runId: string): void;
  /**
   * Run a durable commit: the steps committed before it started are on disk once it returns,
   * provided it commits on the same server run (`action` is given the start time to check).
   */
  covering<T>(action: (serverStart: string | undefined) => Promise<T>): Promise<T>;
  /** Throw a `JournalError` if a restart lost steps of `runId` this process committed. */
  checkStepsKept(runId: string): Promise<void>;
}

/** A durable commit found the server restarted since this process last looked: retry after checking. */
export class ServerRestarted extends Error {
  constructor() {
    super('the database server restarted');
  }
}

export function createLostStepGuard(pool: pg.Pool, where: string): LostStepGuard {
  /** Steps committed asynchronously that no durable commit has covered yet, by run. */
  const unsynced = new Map<string, Set<number>>();
  /** Such steps of runs whose server restarted since: checked before the run's next write. */
  const suspect = new Map<string, Set<number>>();
  let lost = false;
  let serverStartedAt: string | undefined;

  function addAll(target: Map<string, Set<number>>, runId: string, indices: Iterable<number>): void {
    const current = target.get(runId) ?? new Set<number>();
    for (const index of indices) current.add(index);
    target.set(runId, current);
  }

  async function serverStartTime(): Promise<string> {
    return (await pool.query<{ started: string }>('SELECT pg_postmaster_start_time()::text AS started')).rows[0]
      ?.started as string;
  }

  /** After a lost connection: if the server restarted, its unflushed commits are suspect. */
  async function checkServerRestart(): Promise<void> {
    if (!lost) return;
    lost = false;
    const started = await serverStartTime();
    if (started === serverStartedAt) return;
    serverStartedAt = started;
    for (const [runId, indices] of unsynced) addAll(suspect, runId, indices);
    unsynced.clear();
  }

  return {
    get serverStartedAt() {
      return serverStartedAt;
    },
    async start() {
      serverStartedAt = await serverStartTime();
    },
    connectionLost() {
      lost = true;
    },
    committedAsynchronously(runId, index) {
      addAll(unsynced, runId, [index]);
    },
    forget(runId) {
      unsynced.delete(runId);
      suspect.delete(runId);
    },
    async covering(action) {
      await checkServerRestart();
      const covered = [...unsynced];
      unsynced.clear();
      try {
        return await action(serverStartedAt);
      } catch (error) {
        for (const [runId, indices] of covered) addAll(unsynced, runId, indices);
        throw error;
      }
    },
    async checkStepsKept(runId) {
      await checkServerRestart();
      const indices = suspect.get(runId);
      if (!indices) return;
      const kept = new Set(
        (
          await pool.query<{ step_index: number }>(
            'SELECT step_index FROM steps WHERE run_id = $1 AND step_index = ANY($2)',
            [runId, [...indices]],
          )
        ).rows.map((row) => row.step_index),
      );
      const missing = [...indices].filter((index) => !kept.has(index)).sort((left, right) => left - right);
      if (missing.length === 0) {
        suspect.delete(runId);
        return;
      }
      throw new JournalError(
        'journal_error',
        `journal: the database at ${where} restarted and lost step${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of run ${runId} (committed but not yet flushed to disk); the run stops here and resumes from what the journal kept with \`hataraku runs resume ${runId}\`.`,
      );
    },
  };
}
