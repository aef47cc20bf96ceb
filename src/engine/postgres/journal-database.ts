/**
 * The database handle every part of the PostgreSQL journal shares: one connection pool, the
 * executor it writes as, its clock, the epochs that fence its commits, the lost-step guard, and
 * the ways a write is committed (an operation retried while the server is away; a transaction,
 * durable under `power`; group commit).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { JournalError, LeaseLostError, UserError } from '../../errors.js';
import { defaultJournalDurability, type JournalDurability } from '../durability.js';
import { type FaultPoints, noFaultPoints } from '../fault-points.js';
import type { RunRow } from '../sqlite/rows.js';
import { createPool, describeUrl, isConnectionError } from './connection.js';
import { createLostStepGuard, type LostStepGuard, ServerRestarted } from './lost-step-guard.js';
import { applyMigrations } from './migrations.js';

export interface PostgresEngineOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** This executor's id (default: random). */
  executorId?: string;
  /** How long a run stays owned without a heartbeat, in milliseconds (default 30,000). */
  leaseMs?: number;
  /** Heartbeat period (default a third of the lease); 0 disables the timer. */
  heartbeatMs?: number;
  /** Most connections this process opens (default 10). */
  poolSize?: number;
  /** How long to keep retrying while the database is unreachable, in milliseconds (default 30,000). */
  reconnectTimeoutMs?: number;
  /**
   * Told once, in one line, when the database cannot be reached on opening and the engine goes on
   * trying (for up to `reconnectTimeoutMs`), so that a command does not sit silent meanwhile.
   */
  onUnreachable?: (message: string) => void;
  /** What a committed step survives: `process` (default) or `power`; see docs/durability.md. */
  durability?: JournalDurability | undefined;
  /** Clock for record times (not leases, which use the database's clock), for tests. */
  now?: () => number;
  faults?: FaultPoints;
}

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** Statuses of a run that has not ended, as an SQL list. */
export const openStatuses = "('pending', 'waiting')";
/** The database's clock in milliseconds since the epoch. */
export const databaseNow = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

export interface PostgresJournalDatabase {
  readonly pool: pg.Pool;
  readonly executorId: string;
  readonly leaseMs: number;
  /** Heartbeat period as given (undefined: a third of the lease). */
  readonly heartbeatMs: number | undefined;
  readonly now: () => number;
  readonly faults: FaultPoints;
  /** The epoch at which this executor claimed each run it owns: the fence of its commits. */
  readonly epochs: Map<string, number>;
  readonly guard: LostStepGuard;
  /** Settles once the schema is migrated and this executor registered. */
  readonly ready: Promise<void>;
  /** Whether `end()` ran. */
  readonly closed: boolean;
  /**
   * Run an operation, retrying while the connection or the server is away. `attempt` (0 first)
   * lets an operation whose earlier attempt may have committed recognize its own write.
   */
  operation<T>(what: string, action: (attempt: number) => Promise<T>): Promise<T>;
  /**
   * Run `action` in a transaction; `durable` (under `power` only): its commit flushes the WAL (and
   * every commit before it).
   */
  transaction<T>(action: (client: Queryable) => Promise<T>, durable?: boolean): Promise<T>;
  /** Wait until every write so far is on disk (under `power`; at once under `process`). */
  sharedSync(): Promise<void>;
  getRunRow(client: Queryable, runId: string): Promise<RunRow | undefined>;
  /** Close the pool. */
  end(): Promise<void>;
}

export function openJournalDatabase(options: PostgresEngineOptions): PostgresJournalDatabase {
  const now = options.now ?? Date.now;
  const executorId = options.executorId ?? `executor_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  if (!(leaseMs > 0)) throw new RangeError('openPostgresEngine: `leaseMs` must be positive');
  const durability = options.durability ?? defaultJournalDurability;
  const reconnectTimeoutMs = options.reconnectTimeoutMs ?? 30_000;
  const where = describeUrl(options.url);
  const pool = createPool({ url: options.url, size: options.poolSize, idleInTransactionMs: leaseMs });
  const state = { closed: false };
  const guard = createLostStepGuard(pool, where);
  pool.on('error', () => guard.connectionLost());

  async function withClient<T>(action: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    // The server can go away while this client is checked out between two statements; the
    // next statement then fails (and is retried), so the event itself needs no handling.
    const onError = () => guard.connectionLost();
    client.on('error', onError);
    let failure: unknown;
    try {
      return await action(client);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      client.off('error', onError);
      client.release(failure !== undefined && isConnectionError(failure) ? (failure as Error) : undefined);
    }
  }

  /**
   * Run `action` in a transaction; `durable` (under `power` only): its commit flushes the WAL (and
   * every commit before it).
   */
  function transaction<T>(action: (client: Queryable) => Promise<T>, durable = false): Promise<T> {
    if (durable && durability === 'power')
      return guard.covering((serverStart) => plainTransaction(action, serverStart));
    return plainTransaction(action, false);
  }

  /** `durable`: false, or the server run (start time) this durable commit must happen on. */
  function plainTransaction<T>(
    action: (client: Queryable) => Promise<T>,
    durable: string | undefined | false,
  ): Promise<T> {
    return withClient(async (client) => {
      await client.query('BEGIN');
      try {
        if (durable !== false) {
          const started = (
            await client.query<{ started: string }>(
              "SELECT set_config('synchronous_commit', 'on', true), pg_postmaster_start_time()::text AS started",
            )
          ).rows[0]?.started;
          if (durable !== undefined && started !== durable) throw new ServerRestarted();
        }
        const result = await action(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (!isConnectionError(error)) await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }

  const ready: Promise<void> = (async () => {
    const deadline = Date.now() + reconnectTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await withClient((client) => applyMigrations(client, where));
        await pool.query(
          `INSERT INTO executors (id, pid, host, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $4)
           ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
          [executorId, process.pid, hostname(), now()],
        );
        await guard.start();
        return;
      } catch (error) {
        if (error instanceof JournalError) throw error;
        if (isConnectionError(error) && Date.now() < deadline && !state.closed) {
          if (attempt === 0) {
            options.onUnreachable?.(
              `journal: cannot reach the PostgreSQL database at ${where} (${oneLine(error)}); trying again for up to ${Math.round(reconnectTimeoutMs / 1000)} s. Check that the server is up, and journal.url or HATARAKU_DATABASE_URL.`,
            );
          }
          await pause(backoff(attempt));
          continue;
        }
        const tried = isConnectionError(error) ? ` (tried for ${Math.round(reconnectTimeoutMs / 1000)} s)` : '';
        throw new JournalError('journal_error', `cannot open the journal at ${where}: ${oneLine(error)}${tried}`, {
          cause: error,
        });
      }
    }
  })();
  // Each operation reports a failed start itself; this only keeps it from being unhandled.
  ready.catch(() => {});

  /**
   * Run an operation, retrying while the connection or the server is away. `attempt` (0 first)
   * lets an operation whose earlier attempt may have committed recognize its own write.
   */
  async function operation<T>(what: string, action: (attempt: number) => Promise<T>): Promise<T> {
    await ready;
    const deadline = Date.now() + reconnectTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await action(attempt);
      } catch (error) {
        if (error instanceof JournalError || error instanceof LeaseLostError || error instanceof UserError) {
          throw error;
        }
        if (error instanceof ServerRestarted || isConnectionError(error)) guard.connectionLost();
        if ((error instanceof ServerRestarted || isConnectionError(error)) && Date.now() < deadline && !state.closed) {
          await pause(backoff(attempt));
          continue;
        }
        const message = isConnectionError(error)
          ? `journal: ${what} failed: the database at ${where} was unreachable for longer than ${reconnectTimeoutMs} ms (${oneLine(error)}); the run can be resumed once it is back.`
          : `journal: ${what} failed: ${oneLine(error)}`;
        throw new JournalError('journal_error', message, { cause: error });
      }
    }
  }

  async function getRunRow(client: Queryable, runId: string): Promise<RunRow | undefined> {
    return (await client.query<RunRow>('SELECT * FROM runs WHERE id = $1', [runId])).rows[0];
  }

  /**
   * Group commit: everyone who needs their writes on disk in this turn of the event loop waits
   * for one durable commit, made at the end of the turn.
   */
  let pendingSync: Promise<void> | undefined;
  function sharedSync(): Promise<void> {
    // Under `process`, a commit in the server is as durable as it gets: nothing to wait for.
    if (durability === 'process') return Promise.resolve();
    pendingSync ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      pendingSync = undefined;
      return operation('syncing to disk', () =>
        transaction(async (client) => {
          await client.query(
            `INSERT INTO meta (key, value) VALUES ('synced_at', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
            [String(now())],
          );
        }, true),
      );
    });
    return pendingSync;
  }

  return {
    pool,
    executorId,
    leaseMs,
    heartbeatMs: options.heartbeatMs,
    now,
    faults: options.faults ?? noFaultPoints,
    epochs: new Map<string, number>(),
    guard,
    ready,
    get closed() {
      return state.closed;
    },
    operation,
    transaction,
    sharedSync,
    getRunRow,
    async end() {
      state.closed = true;
      await pool.end();
    },
  };
}

function backoff(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 1_000);
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}
