/**
 * The database handle every part of the SQLite journal shares: one better-sqlite3 connection
 * (WAL), the executor it writes as, its clock, and the two ways a write is committed.
 *
 * Every write is committed with synchronous=NORMAL, which survives the process being killed (the
 * WAL frame is in the operating system's cache). What happens on top depends on `durability`
 * (docs/durability.md):
 * - `process` (the default): nothing more. The database stays intact through a power cut, but
 *   the commits since the last checkpoint may be lost.
 * - `power`: group commit. Before anything that depends on earlier steps leaves the process
 *   (`sync()`, a durable step, a final result, an approval decision), one write under
 *   synchronous=FULL fsyncs the WAL and with it every frame before it; one fsync covers many
 *   steps.
 *
 * Checkpoints (copying the WAL into the database file, which fsyncs both) run every
 * `walCheckpointPages` pages rather than SQLite's 1,000, so that a step rarely pays for one.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { JournalError, LeaseLostError, UserError } from '../../errors.js';
import { defaultJournalDurability, type JournalDurability } from '../durability.js';
import { type FaultPoints, noFaultPoints } from '../fault-points.js';
import { migrate } from './schema.js';

export interface SqliteEngineOptions {
  /** Database file; created with its directory when missing. `:memory:` for a throwaway engine. */
  path: string;
  /** This executor's id (default: random). */
  executorId?: string;
  /** How long a run stays owned without a heartbeat, in milliseconds (default 30,000). */
  leaseMs?: number;
  /** Heartbeat period (default a third of the lease); 0 disables the timer. */
  heartbeatMs?: number;
  /** Milliseconds to wait on a database locked by another process (default 10,000). */
  busyTimeoutMs?: number;
  /** What a committed step survives: `process` (default) or `power`; see docs/durability.md. */
  durability?: JournalDurability | undefined;
  /** Clock, for tests. */
  now?: () => number;
  faults?: FaultPoints;
}

/** WAL pages between automatic checkpoints (SQLite's default is 1,000). */
const walCheckpointPages = 10_000;

/** Statuses of a run that has not ended, as an SQL list. */
export const openStatuses = "('pending', 'waiting')";

export interface JournalDatabase {
  readonly db: Database.Database;
  readonly path: string;
  readonly executorId: string;
  readonly leaseMs: number;
  /** Heartbeat period as given (undefined: a third of the lease). */
  readonly heartbeatMs: number | undefined;
  readonly now: () => number;
  readonly faults: FaultPoints;
  /** When a lease taken now expires. */
  lease(): number;
  /** Run `action` in one write transaction; under `power`, its commit fsyncs the WAL. */
  durably<T>(action: () => T): T;
  /** Wait until every write so far is on disk (under `power`; at once under `process`). */
  sharedSync(): Promise<void>;
  /** Run `action`, turning a failure into a one-line `JournalError` that names `what`. */
  guard<T>(what: string, action: () => T): Promise<T>;
}

export function openJournalDatabase(options: SqliteEngineOptions): JournalDatabase {
  const now = options.now ?? Date.now;
  const executorId = options.executorId ?? `executor_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  if (!(leaseMs > 0)) throw new RangeError('openSqliteEngine: `leaseMs` must be positive');
  const durability = options.durability ?? defaultJournalDurability;
  const busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
  let database: Database.Database;
  try {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    database = new Database(options.path, { timeout: busyTimeoutMs });
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma(`wal_autocheckpoint = ${walCheckpointPages}`);
    database.pragma('foreign_keys = ON');
    migrate(database, options.path);
  } catch (error) {
    if (error instanceof JournalError) throw error;
    throw new JournalError('journal_error', `cannot open the journal at ${options.path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const db = database;
  const synchronousFull = db.prepare('PRAGMA synchronous = FULL');
  const synchronousNormal = db.prepare('PRAGMA synchronous = NORMAL');
  const markSynced = db.prepare<[string]>(
    "INSERT INTO meta (key, value) VALUES ('synced_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );

  function durably<T>(action: () => T): T {
    if (durability === 'process') return db.transaction(action).immediate();
    synchronousFull.run();
    try {
      return db.transaction(action).immediate();
    } finally {
      synchronousNormal.run();
    }
  }

  /**
   * Group commit: everyone who needs their writes on disk in this turn of the event loop waits
   * for one fsync, made at the end of the turn. Writes themselves are already committed (they
   * survive the process being killed); this makes them survive a power cut too.
   */
  let pendingSync: Promise<void> | undefined;
  function sharedSync(): Promise<void> {
    // Under `process`, a commit is as durable as it gets: nothing to wait for.
    if (durability === 'process') return Promise.resolve();
    pendingSync ??= new Promise<void>((resolveSync, rejectSync) => {
      setImmediate(() => {
        pendingSync = undefined;
        if (!db.open) return resolveSync();
        try {
          durably(() => markSynced.run(String(now())));
          resolveSync();
        } catch (error) {
          rejectSync(
            new JournalError('journal_error', `journal: syncing to disk failed: ${(error as Error).message}`, {
              cause: error,
            }),
          );
        }
      });
    });
    return pendingSync;
  }

  function guard<T>(what: string, action: () => T): Promise<T> {
    try {
      return Promise.resolve(action());
    } catch (error) {
      if (error instanceof JournalError || error instanceof LeaseLostError || error instanceof UserError) {
        return Promise.reject(error);
      }
      const busy = (error as { code?: string }).code?.startsWith('SQLITE_BUSY');
      const message = busy
        ? `journal: ${what} failed: another process held the journal's write lock (${options.path}) for longer than ${busyTimeoutMs} ms; the run can be resumed once it is released.`
        : `journal: ${what} failed: ${(error as Error).message}`;
      return Promise.reject(new JournalError('journal_error', message, { cause: error }));
    }
  }

  return {
    db,
    path: options.path,
    executorId,
    leaseMs,
    heartbeatMs: options.heartbeatMs,
    now,
    faults: options.faults ?? noFaultPoints,
    lease: () => now() + leaseMs,
    durably,
    sharedSync,
    guard,
  };
}
