/**
 * The engine on PostgreSQL (node-postgres), for several workers on several machines sharing
 * one journal. Same interface, same records and the same guarantees as the SQLite engine;
 * docs/scale-out.md explains the choices.
 *
 * Sessions commit asynchronously (`synchronous_commit = off`), so a step is committed in one
 * round trip and survives this process being killed (it is in the server); the server flushes
 * its WAL on its own within a few hundred milliseconds. Under `durability: 'power'` (group
 * commit), a step is also made durable on disk by the next durable commit from any session
 * (`sync()`, a durable step, a final result, an approval decision: `synchronous_commit = on` for
 * that transaction), which flushes the WAL up to itself and so every commit before it. Under
 * `process` (the default) no commit waits for the flush. A server crash loses at most the
 * asynchronous commits no flush has covered yet.
 *
 * Leases use the database's clock, so machines with skewed clocks agree on who owns a run.
 * Claiming a run bumps its `lease_epoch`; a step commits only while the run's row still names
 * this executor at the epoch it claimed, checked under a row lock in the committing statement.
 * A worker paused past its lease and resumed after another took the run over thus cannot
 * commit, whatever the timing.
 *
 * A dropped connection or a restarting server is retried (every operation is idempotent or
 * checks its own earlier attempt) for up to `reconnectTimeoutMs`, then fails with one line. When
 * the server restarted, the steps this process committed since its last durable commit are
 * checked before a run writes again: a server crash may have lost them, and then the run stops
 * with a `JournalError` and resumes from what the journal kept, rather than run ahead of it.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { JournalError, LeaseLostError, UserError } from '../../errors.js';
import { defaultJournalDurability, type JournalDurability } from '../durability.js';
import type {
  ApprovalDecision,
  ApprovalRequest,
  AuditEntry,
  BudgetReservation,
  BudgetScope,
  DecisionResult,
  Engine,
  RunTotals,
} from '../engine.js';
import { type FaultPoints, noFaultPoints } from '../fault-points.js';
import {
  type ApprovalRow,
  type ArtifactRow,
  type AuditRow,
  approvalFromRow,
  artifactFromRow,
  auditFromRow,
  type RunRow,
  runFromRow,
  type StepRow,
  stepFromRow,
  stepToRow,
} from '../sqlite/rows.js';
import { createPool, describeUrl, isConnectionError } from './connection.js';
import { createLostStepGuard, ServerRestarted } from './lost-step-guard.js';
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
  /** What a committed step survives: `process` (default) or `power`; see docs/durability.md. */
  durability?: JournalDurability | undefined;
  /** Clock for record times (not leases, which use the database's clock), for tests. */
  now?: () => number;
  faults?: FaultPoints;
}

type Row = Record<string, unknown>;
type Queryable = Pick<pg.PoolClient, 'query'>;

const openStatuses = "('pending', 'waiting')";
/** The database's clock in milliseconds since the epoch. */
const databaseNow = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
const recoverableCondition = `r.status IN ${openStatuses}
  AND (r.owner IS NULL OR r.lease_expires_at < ${databaseNow})
  AND (r.status = 'pending' OR NOT EXISTS (
    SELECT 1 FROM approvals a WHERE a.run_id = r.id AND a.status = 'pending'
      AND (a.deadline IS NULL OR a.deadline > $1)))`;

export function openPostgresEngine(options: PostgresEngineOptions): Engine {
  const now = options.now ?? Date.now;
  const faults = options.faults ?? noFaultPoints;
  const executorId = options.executorId ?? `executor_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  if (!(leaseMs > 0)) throw new RangeError('openPostgresEngine: `leaseMs` must be positive');
  const durability = options.durability ?? defaultJournalDurability;
  const reconnectTimeoutMs = options.reconnectTimeoutMs ?? 30_000;
  const where = describeUrl(options.url);
  const pool = createPool({ url: options.url, size: options.poolSize, idleInTransactionMs: leaseMs });
  /** The epoch at which this executor claimed each run it owns: the fence of its commits. */
  const epochs = new Map<string, number>();
  let closed = false;
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
        if (isConnectionError(error) && Date.now() < deadline && !closed) {
          await pause(backoff(attempt));
          continue;
        }
        throw new JournalError('journal_error', `cannot open the journal at ${where}: ${oneLine(error)}`, {
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
        if ((error instanceof ServerRestarted || isConnectionError(error)) && Date.now() < deadline && !closed) {
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
    return (await client.query('SELECT * FROM runs WHERE id = $1', [runId])).rows[0] as RunRow | undefined;
  }

  async function insertAudit(client: Queryable, entry: Omit<AuditEntry, 'id' | 'at' | 'costUsdSoFar'>): Promise<void> {
    await client.query(
      `INSERT INTO audit (run_id, step_index, action, actor, at, tool_name, input_digest, cost_usd_so_far, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT COALESCE(SUM(cost_usd), 0) FROM steps WHERE run_id = $1), $8)`,
      [
        entry.runId,
        entry.stepIndex ?? null,
        entry.action,
        entry.actor,
        now(),
        entry.toolName ?? null,
        entry.inputDigest ?? null,
        entry.note ?? null,
      ],
    );
  }

  const decideStatement = `UPDATE approvals SET status = $1, decided_by = $2, decided_at = $3, note = $4
    WHERE run_id = $5 AND step_index = $6 AND status = 'pending'`;

  /** Apply the default outcome of approvals whose deadline has passed by `at`; how many were decided. */
  async function expireDeadlines(at: number = now()): Promise<number> {
    const expired = (
      await pool.query("SELECT * FROM approvals WHERE status = 'pending' AND deadline IS NOT NULL AND deadline <= $1", [
        at,
      ])
    ).rows as ApprovalRow[];
    if (expired.length === 0) return 0;
    let decided = 0;
    await transaction(async (client) => {
      for (const row of expired) {
        const status = row.default_outcome === 'approve' ? 'approved' : 'denied';
        const note = 'deadline passed: default outcome applied';
        const changed = await client.query(decideStatement, [
          status,
          'system',
          now(),
          note,
          row.run_id,
          row.step_index,
        ]);
        if (changed.rowCount === 1) {
          decided++;
          await insertAudit(client, {
            runId: row.run_id,
            stepIndex: row.step_index,
            action: status,
            actor: 'system',
            toolName: row.tool_name,
            inputDigest: row.input_digest,
            note,
          });
        }
      }
    }, true);
    return decided;
  }

  /**
   * Release the runs of executors on this machine whose process has died, without waiting for
   * their leases to expire. Executors on other machines are left to their leases.
   */
  async function reapDeadLocalExecutors(): Promise<void> {
    const local = (
      await pool.query<{ id: string; pid: number }>('SELECT id, pid FROM executors WHERE host = $1 AND id != $2', [
        hostname(),
        executorId,
      ])
    ).rows;
    for (const executor of local) {
      if (processIsAlive(executor.pid)) continue;
      await transaction(async (client) => {
        await client.query('UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE owner = $1', [executor.id]);
        await client.query('DELETE FROM executors WHERE id = $1', [executor.id]);
      });
    }
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

  let renewing = false;
  async function renew(): Promise<void> {
    if (closed || renewing) return;
    renewing = true;
    try {
      await pool.query(
        `UPDATE runs SET lease_expires_at = ${databaseNow} + $2 WHERE owner = $1 AND status IN ${openStatuses}`,
        [executorId, leaseMs],
      );
      await pool.query('UPDATE executors SET heartbeat_at = $2 WHERE id = $1', [executorId, now()]);
    } finally {
      renewing = false;
    }
  }
  const heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.floor(leaseMs / 3));
  const heartbeatTimer =
    heartbeatMs > 0
      ? setInterval(() => {
          // A missed beat (the database restarting) only shortens the lease; the next one tries again.
          ready.then(renew).catch(() => {});
        }, heartbeatMs)
      : undefined;
  heartbeatTimer?.unref();

  const spentFilters: Record<BudgetScope['scope'], string> = {
    run: `l.run_id IN (WITH RECURSIVE tree(id) AS (SELECT $1::text UNION ALL
            SELECT child.id FROM runs child JOIN tree ON child.parent_run_id = tree.id) SELECT id FROM tree)`,
    agent: 'r.agent_name = $1',
    tenant: 'r.tenant = $1',
    global: '$1::text IS NOT NULL',
  };
  async function spentIn(client: Queryable, budget: BudgetScope): Promise<number> {
    const row = (
      await client.query(
        `SELECT COALESCE(SUM(l.cost_usd), 0) AS spent FROM ledger l JOIN runs r ON r.id = l.run_id
         WHERE l.at >= $2 AND ${spentFilters[budget.scope]}`,
        [budget.key, budget.since],
      )
    ).rows[0] as { spent: number };
    return Number(row.spent);
  }

  return {
    executorId,
    createRun(run) {
      return operation('creating a run', async (attempt) => {
        const owner = run.queued ? null : executorId;
        const inserted = (
          await pool.query(
            `INSERT INTO runs (id, agent_name, model, input, spec, status, workspace, tenant, parent_run_id, owner,
               lease_expires_at, lease_epoch, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9::text,
               CASE WHEN $9::text IS NULL THEN NULL ELSE ${databaseNow} + $10 END, 1, $11, $11)
             ON CONFLICT (id) DO NOTHING RETURNING *`,
            [
              run.id,
              run.agentName,
              run.model,
              run.input,
              JSON.stringify(run.spec),
              run.workspace ?? null,
              run.tenant ?? null,
              run.parentRunId ?? null,
              owner,
              leaseMs,
              now(),
            ],
          )
        ).rows[0] as (RunRow & { lease_epoch: number }) | undefined;
        const row = inserted ?? (attempt > 0 ? await getRunRow(pool, run.id) : undefined);
        // A retry finds the run its first attempt created.
        if (!row || (!inserted && (row.owner !== owner || row.input !== run.input))) {
          throw new JournalError(
            'journal_error',
            `journal: creating a run failed: a run with id ${run.id} already exists`,
          );
        }
        if (owner) epochs.set(run.id, Number((row as { lease_epoch?: number }).lease_epoch ?? 1));
        return runFromRow(row);
      });
    },
    getRun(runId) {
      return operation('reading a run', async () => {
        const row = await getRunRow(pool, runId);
        return row ? runFromRow(row) : undefined;
      });
    },
    listRuns(query = {}) {
      return operation('listing runs', async () => {
        const limit = query.limit ?? 50;
        const result = await pool.query(
          `SELECT * FROM runs WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR tenant = $2)
             AND ($3::text IS NULL OR agent_name = $3) AND ($4::text IS NULL OR agent_name <> $4)
           ORDER BY created_at DESC, seq DESC LIMIT $5`,
          [query.status ?? null, query.tenant ?? null, query.agentName ?? null, query.excludeAgentName ?? null, limit],
        );
        return (result.rows as RunRow[]).map(runFromRow);
      });
    },
    listChildRuns(runId) {
      return operation('listing child runs', async () => {
        const result = await pool.query('SELECT * FROM runs WHERE parent_run_id = $1 ORDER BY created_at, seq', [
          runId,
        ]);
        return (result.rows as RunRow[]).map(runFromRow);
      });
    },
    listSteps(runId) {
      return operation('listing steps', async () =>
        (
          (await pool.query('SELECT * FROM steps WHERE run_id = $1 ORDER BY step_index', [runId])).rows as StepRow[]
        ).map(stepFromRow),
      );
    },
    totals(runId): Promise<RunTotals> {
      return operation('summing a run', async () => {
        const row = (
          await pool.query(
            `SELECT COUNT(*) AS steps,
                    COUNT(*) FILTER (WHERE kind = 'model') AS model_calls,
                    COUNT(*) FILTER (WHERE kind = 'tool') AS tool_calls,
                    COALESCE(SUM(input_tokens), 0) AS input_tokens,
                    COALESCE(SUM(output_tokens), 0) AS output_tokens,
                    COALESCE(SUM(cached_input_tokens), 0) AS cached_input_tokens,
                    COALESCE(SUM(cost_usd), 0) AS cost_usd,
                    COUNT(*) FILTER (WHERE kind = 'model' AND cost_usd IS NULL) AS unpriced
             FROM steps WHERE run_id = $1`,
            [runId],
          )
        ).rows[0] as Record<string, number>;
        return {
          steps: Number(row.steps ?? 0),
          modelCalls: Number(row.model_calls ?? 0),
          toolCalls: Number(row.tool_calls ?? 0),
          inputTokens: Number(row.input_tokens ?? 0),
          outputTokens: Number(row.output_tokens ?? 0),
          cachedInputTokens: Number(row.cached_input_tokens ?? 0),
          costUsd: Number(row.cost_usd ?? 0),
          unpricedModelCalls: Number(row.unpriced ?? 0),
        };
      });
    },
    commitStep(step, commitOptions = {}) {
      return operation(`committing step ${step.index} of run ${step.runId}`, async () => {
        await guard.checkStepsKept(step.runId);
        const row = stepToRow(step);
        const ledger = (step.ledger ?? []).map((entry) => ({
          model: entry.model,
          input_tokens: entry.usage.inputTokens ?? null,
          output_tokens: entry.usage.outputTokens ?? null,
          cached_input_tokens: entry.usage.cachedInputTokens ?? null,
          cache_write_tokens: entry.usage.cacheWriteTokens ?? null,
          cost_usd: entry.costUsd ?? null,
        }));
        // One statement, so one round trip and atomic: the fence (the run's row, locked and
        // checked), the step, and its ledger rows.
        // Named, so each connection parses and plans it once: it is the statement of every step.
        const result = await pool.query({
          name: 'hataraku-commit-step',
          text: `WITH fence AS (
             SELECT id FROM runs WHERE id = $1 AND owner = $15 AND ($16::bigint IS NULL OR lease_epoch = $16)
               AND pg_postmaster_start_time()::text = $18
             FOR SHARE
           ), step AS (
             INSERT INTO steps (run_id, step_index, name, kind, request_digest, output, model, input_tokens,
               output_tokens, cached_input_tokens, cache_write_tokens, cost_usd, started_at, finished_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 FROM fence
             ON CONFLICT (run_id, step_index) DO NOTHING
             RETURNING run_id, step_index
           ), ledger_rows AS (
             INSERT INTO ledger (run_id, step_index, model, input_tokens, output_tokens, cached_input_tokens,
               cache_write_tokens, cost_usd, at)
             SELECT step.run_id, step.step_index, entry.model, entry.input_tokens, entry.output_tokens,
               entry.cached_input_tokens, entry.cache_write_tokens, entry.cost_usd, $14
             FROM step, jsonb_to_recordset($17::jsonb) AS entry(model text, input_tokens bigint, output_tokens bigint,
               cached_input_tokens bigint, cache_write_tokens bigint, cost_usd double precision)
             ON CONFLICT (run_id, step_index, model) DO NOTHING
           )
           SELECT (SELECT COUNT(*) FROM step) AS inserted, pg_postmaster_start_time()::text AS started`,
          values: [
            row.run_id,
            row.step_index,
            row.name,
            row.kind,
            row.request_digest,
            row.output,
            row.model,
            row.input_tokens,
            row.output_tokens,
            row.cached_input_tokens,
            row.cache_write_tokens,
            row.cost_usd,
            row.started_at,
            row.finished_at,
            executorId,
            epochs.get(step.runId) ?? null,
            JSON.stringify(ledger),
            guard.serverStartedAt,
          ],
        });
        const outcome = result.rows[0] as { inserted: number; started: string };
        // The server restarted since this process last looked: nothing was written; check what
        // the restart kept of this run before committing on top of it.
        if (outcome.started !== guard.serverStartedAt) throw new ServerRestarted();
        if (Number(outcome.inserted) === 1) {
          guard.committedAsynchronously(step.runId, step.index);
          return step;
        }
        const existing = (
          await pool.query('SELECT * FROM steps WHERE run_id = $1 AND step_index = $2', [step.runId, step.index])
        ).rows[0] as StepRow | undefined;
        if (existing) return stepFromRow(existing);
        throw new LeaseLostError(
          'lease_lost',
          `run ${step.runId}: this process (${executorId}) no longer owns the run, so step ${step.index} was not committed; another process took it over after this one's lease expired.`,
        );
      }).then(async (record) => {
        if (commitOptions.durable) await sharedSync();
        return record;
      });
    },
    sync() {
      return sharedSync();
    },
    finishRun(runId, outcome) {
      return operation('finishing a run', async (attempt) => {
        // A failure is recorded whatever was lost: resuming replays from what the journal kept.
        if (outcome.status !== 'failed') await guard.checkStepsKept(runId);
        const finished = await transaction(async (client) => {
          const result = await client.query(
            `UPDATE runs SET status = $2, stop_reason = $3, output = $4, error = $5, updated_at = $6,
               owner = NULL, lease_expires_at = NULL
             WHERE id = $1 AND status IN ${openStatuses}
               AND (owner IS NULL OR (owner = $7 AND ($8::bigint IS NULL OR lease_epoch = $8)))`,
            [
              runId,
              outcome.status,
              outcome.stopReason,
              outcome.output === undefined ? null : JSON.stringify(outcome.output),
              outcome.error ?? null,
              now(),
              executorId,
              epochs.get(runId) ?? null,
            ],
          );
          faults.reach('during-final-write');
          return result.rowCount === 1;
        }, true);
        if (finished || attempt === 0) return finished;
        // A retry: the first attempt may have committed before the connection dropped.
        const row = await getRunRow(pool, runId);
        return row?.status === outcome.status && row.stop_reason === outcome.stopReason && row.owner === null;
      }).then((finished) => {
        epochs.delete(runId);
        guard.forget(runId);
        return finished;
      });
    },
    setRunStatus(runId, status) {
      return operation('setting a run status', async () => {
        await transaction(async (client) => {
          await client.query(
            `UPDATE runs SET status = $2, updated_at = $3 WHERE id = $1 AND status IN ${openStatuses}`,
            [runId, status, now()],
          );
        }, true);
      });
    },
    reopenRun(runId) {
      return operation('reopening a run', async () => {
        await transaction(async (client) => {
          await client.query(
            `UPDATE runs SET status = 'pending', stop_reason = NULL, output = NULL, error = NULL, updated_at = $2
             WHERE id = $1`,
            [runId, now()],
          );
        }, true);
      });
    },
    claimRun(runId) {
      return operation('claiming a run', async () => {
        await reapDeadLocalExecutors();
        // Named: the runtime claims before every tool with an effect.
        const row = (
          await pool.query({
            name: 'hataraku-claim-run',
            text: `UPDATE runs SET owner = $2, lease_expires_at = ${databaseNow} + $3,
               lease_epoch = CASE WHEN owner = $2 THEN lease_epoch ELSE lease_epoch + 1 END
             WHERE id = $1 AND status IN ${openStatuses}
               AND (owner IS NULL OR owner = $2 OR lease_expires_at < ${databaseNow})
             RETURNING lease_epoch`,
            values: [runId, executorId, leaseMs],
          })
        ).rows[0] as { lease_epoch: number } | undefined;
        if (!row) return false;
        epochs.set(runId, Number(row.lease_epoch));
        return true;
      });
    },
    releaseRun(runId) {
      return operation('releasing a run', async () => {
        await pool.query('UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE id = $1 AND owner = $2', [
          runId,
          executorId,
        ]);
        epochs.delete(runId);
      });
    },
    heartbeat() {
      return operation('renewing leases', renew);
    },
    recoverableRuns(query = {}) {
      return operation('finding recoverable runs', async () => {
        await reapDeadLocalExecutors();
        const rows = (
          await pool.query(`SELECT * FROM runs r WHERE ${recoverableCondition} ORDER BY r.created_at, r.seq LIMIT $2`, [
            now(),
            query.limit ?? 1000,
          ])
        ).rows as RunRow[];
        return rows.map(runFromRow);
      });
    },
    takeRuns(query) {
      return operation('taking runs', async () => {
        await reapDeadLocalExecutors();
        if (query.limit <= 0) return [];
        const taken = await transaction(async (client) => {
          // Rows another worker is claiming right now are skipped, not waited for.
          const candidates = (
            await client.query(
              `SELECT r.id, r.tenant FROM runs r WHERE ${recoverableCondition}
               ORDER BY r.created_at, r.seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
              [now(), query.perTenant === undefined ? query.limit : Math.max(query.limit * 4, 64)],
            )
          ).rows as Array<{ id: string; tenant: string | null }>;
          let chosen = candidates.map((candidate) => candidate.id);
          if (query.perTenant !== undefined) {
            const tenants = [
              ...new Set(candidates.flatMap((candidate) => (candidate.tenant ? [candidate.tenant] : []))),
            ].sort();
            // Counting and claiming under one lock per tenant, taken in a fixed order: two
            // workers cannot both see room for the last slot.
            for (const tenant of tenants) {
              await client.query("SELECT pg_advisory_xact_lock(hashtextextended('hataraku-tenant:' || $1, 0))", [
                tenant,
              ]);
            }
            const owned = new Map<string, number>();
            for (const row of (
              await client.query(
                `SELECT tenant, COUNT(*) AS count FROM runs WHERE tenant = ANY($1) AND status IN ${openStatuses}
                   AND owner IS NOT NULL AND lease_expires_at >= ${databaseNow} GROUP BY tenant`,
                [tenants],
              )
            ).rows as Array<{ tenant: string; count: number }>) {
              owned.set(row.tenant, Number(row.count));
            }
            chosen = [];
            for (const candidate of candidates) {
              if (candidate.tenant !== null) {
                const count = owned.get(candidate.tenant) ?? 0;
                if (count >= query.perTenant) continue;
                owned.set(candidate.tenant, count + 1);
              }
              chosen.push(candidate.id);
            }
          }
          chosen = chosen.slice(0, query.limit);
          if (chosen.length === 0) return [];
          return (
            await client.query(
              `UPDATE runs SET owner = $2, lease_expires_at = ${databaseNow} + $3, lease_epoch = lease_epoch + 1
               WHERE id = ANY($1) RETURNING *`,
              [chosen, executorId, leaseMs],
            )
          ).rows as Array<RunRow & { lease_epoch: number; seq: number }>;
        });
        taken.sort((left, right) => left.created_at - right.created_at || left.seq - right.seq);
        for (const row of taken) epochs.set(row.id, Number(row.lease_epoch));
        return taken.map(runFromRow);
      });
    },
    recordArtifact(artifact) {
      return operation('recording an artifact', async () => {
        await pool.query(
          `INSERT INTO artifacts (run_id, path, step_index, media_type, description, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (run_id, path) DO UPDATE SET step_index = excluded.step_index,
             media_type = excluded.media_type, description = excluded.description, created_at = excluded.created_at`,
          [
            artifact.runId,
            artifact.path,
            artifact.stepIndex,
            artifact.mediaType,
            artifact.description ?? null,
            artifact.createdAt,
          ],
        );
      });
    },
    listArtifacts(runId) {
      return operation('listing artifacts', async () =>
        (
          (await pool.query('SELECT * FROM artifacts WHERE run_id = $1 ORDER BY created_at, path', [runId]))
            .rows as ArtifactRow[]
        ).map(artifactFromRow),
      );
    },
    requestApproval(request: ApprovalRequest) {
      return operation('requesting an approval', () =>
        transaction(async (client) => {
          const inserted = await client.query(
            `INSERT INTO approvals (run_id, step_index, tool_name, input, input_digest, reason, status, deadline,
               default_outcome, requested_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9)
             ON CONFLICT (run_id, step_index) DO NOTHING`,
            [
              request.runId,
              request.stepIndex,
              request.toolName,
              JSON.stringify(request.input),
              request.inputDigest,
              request.reason,
              request.deadline ?? null,
              request.defaultOutcome ?? 'deny',
              now(),
            ],
          );
          if (inserted.rowCount === 1) {
            await insertAudit(client, {
              runId: request.runId,
              stepIndex: request.stepIndex,
              action: 'approval-requested',
              actor: 'policy',
              toolName: request.toolName,
              inputDigest: request.inputDigest,
              note: request.reason,
            });
          }
          const row = (
            await client.query('SELECT * FROM approvals WHERE run_id = $1 AND step_index = $2', [
              request.runId,
              request.stepIndex,
            ])
          ).rows[0] as ApprovalRow;
          return approvalFromRow(row);
        }, true),
      );
    },
    getApproval(runId, stepIndex) {
      return operation('reading an approval', async () => {
        const row = (
          await pool.query('SELECT * FROM approvals WHERE run_id = $1 AND step_index = $2', [runId, stepIndex])
        ).rows[0] as ApprovalRow | undefined;
        return row ? approvalFromRow(row) : undefined;
      });
    },
    listApprovals(query = {}) {
      return operation('listing approvals', async () => {
        return (
          (
            await pool.query(
              `SELECT * FROM approvals WHERE ($1::text IS NULL OR run_id = $1) AND ($2::text IS NULL OR status = $2)
               ORDER BY requested_at, run_id, step_index`,
              [query.runId ?? null, query.status ?? null],
            )
          ).rows as ApprovalRow[]
        ).map(approvalFromRow);
      });
    },
    expireApprovalDeadlines(at) {
      return operation('applying approval deadlines', () => expireDeadlines(at));
    },
    decideApproval(decision: ApprovalDecision): Promise<DecisionResult> {
      return operation('deciding an approval', async () => {
        await expireDeadlines();
        return transaction(async (client): Promise<DecisionResult> => {
          let row: ApprovalRow | undefined;
          if (decision.stepIndex === undefined) {
            const pending = (
              await client.query(
                "SELECT * FROM approvals WHERE run_id = $1 AND status = 'pending' ORDER BY step_index",
                [decision.runId],
              )
            ).rows as ApprovalRow[];
            if (pending.length > 1) {
              throw new UserError(
                'usage',
                `run ${decision.runId} has ${pending.length} approvals waiting (steps ${pending.map((item) => item.step_index).join(', ')}); name one with --step.`,
              );
            }
            row =
              pending[0] ??
              (
                (
                  await client.query('SELECT * FROM approvals WHERE run_id = $1 ORDER BY requested_at, step_index', [
                    decision.runId,
                  ])
                ).rows as ApprovalRow[]
              ).at(-1);
          } else {
            row = (
              await client.query('SELECT * FROM approvals WHERE run_id = $1 AND step_index = $2', [
                decision.runId,
                decision.stepIndex,
              ])
            ).rows[0] as ApprovalRow | undefined;
          }
          if (!row) {
            throw new UserError(
              'approval_not_found',
              `run ${decision.runId} has no approval${decision.stepIndex === undefined ? '' : ` at step ${decision.stepIndex}`} to decide; see \`hataraku runs show ${decision.runId}\`.`,
            );
          }
          const status = decision.outcome === 'approve' ? 'approved' : 'denied';
          const changed = await client.query(decideStatement, [
            status,
            decision.actor,
            now(),
            decision.note ?? null,
            row.run_id,
            row.step_index,
          ]);
          const base = {
            runId: row.run_id,
            stepIndex: row.step_index,
            actor: decision.actor,
            toolName: row.tool_name,
            inputDigest: row.input_digest,
            note: decision.note,
          };
          const approval = approvalFromRow(
            (
              await client.query('SELECT * FROM approvals WHERE run_id = $1 AND step_index = $2', [
                row.run_id,
                row.step_index,
              ])
            ).rows[0] as ApprovalRow,
          );
          if (changed.rowCount === 1) {
            await insertAudit(client, { ...base, action: status });
            return { kind: 'applied', approval };
          }
          const current = (
            await client.query('SELECT status FROM approvals WHERE run_id = $1 AND step_index = $2', [
              row.run_id,
              row.step_index,
            ])
          ).rows[0] as { status: string };
          await insertAudit(client, {
            ...base,
            action: 'decision-ignored',
            note: `already ${current.status}; ${decision.outcome} ignored`,
          });
          return { kind: 'ignored', approval };
        }, true);
      });
    },
    audit(entry) {
      return operation('writing the audit log', () => transaction((client) => insertAudit(client, entry), true));
    },
    listAudit(query = {}) {
      return operation('reading the audit log', async () =>
        (
          (
            await pool.query('SELECT * FROM audit WHERE ($1::text IS NULL OR run_id = $1) ORDER BY id', [
              query.runId ?? null,
            ])
          ).rows as AuditRow[]
        ).map(auditFromRow),
      );
    },
    costReport(query) {
      return operation('reporting costs', async () => {
        const groupings: Record<string, string> = {
          model: 'l.model',
          agent: 'r.agent_name',
          day: "to_char(to_timestamp(l.at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
          tenant: "COALESCE(r.tenant, '(none)')",
          run: 'roots.root',
        };
        const key = groupings[query.by];
        if (key === undefined) throw new UserError('usage', `cannot group costs by ${query.by}`);
        const rows = (
          await pool.query(
            `WITH RECURSIVE roots(id, root) AS (
               SELECT id, id FROM runs WHERE parent_run_id IS NULL
               UNION ALL SELECT child.id, roots.root FROM runs child JOIN roots ON child.parent_run_id = roots.id)
             SELECT ${key} AS key, COUNT(*) AS calls,
                    COALESCE(SUM(l.input_tokens), 0) AS input_tokens, COALESCE(SUM(l.output_tokens), 0) AS output_tokens,
                    COALESCE(SUM(l.cached_input_tokens), 0) AS cached_input_tokens,
                    COALESCE(SUM(l.cost_usd), 0) AS cost_usd, COUNT(*) FILTER (WHERE l.cost_usd IS NULL) AS unpriced
             FROM ledger l JOIN runs r ON r.id = l.run_id JOIN roots ON roots.id = l.run_id
             WHERE l.at >= $1 AND ($2::text IS NULL OR roots.root = $2) AND ($3::text IS NULL OR r.tenant = $3)
             GROUP BY 1 ORDER BY cost_usd DESC, key`,
            [query.since ?? 0, query.runId ?? null, query.tenant ?? null],
          )
        ).rows as Row[];
        return rows.map((row) => ({
          key: String(row.key),
          calls: Number(row.calls),
          inputTokens: Number(row.input_tokens),
          outputTokens: Number(row.output_tokens),
          cachedInputTokens: Number(row.cached_input_tokens),
          costUsd: Number(row.cost_usd),
          unpricedCalls: Number(row.unpriced),
        }));
      });
    },
    spentUsd(budget) {
      return operation('summing spend', () => spentIn(pool, budget));
    },
    reserveBudget(request) {
      return operation('reserving budget', () =>
        transaction(async (client): Promise<BudgetReservation> => {
          // One lock per budget, in a fixed order: parallel reservations under one budget take turns.
          const keys = [...new Set(request.budgets.map((budget) => `${budget.scope}:${budget.key}`))].sort();
          for (const key of keys) {
            await client.query("SELECT pg_advisory_xact_lock(hashtextextended('hataraku-budget:' || $1, 0))", [key]);
          }
          const time = now();
          await client.query('DELETE FROM budget_reservations WHERE expires_at <= $1', [time]);
          for (const budget of request.budgets) {
            const spent = await spentIn(client, budget);
            const reserved = Number(
              (
                (
                  await client.query(
                    `SELECT COALESCE(SUM(amount_usd), 0) AS amount FROM budget_reservations
                     WHERE scope = $1 AND scope_key = $2 AND expires_at > $3`,
                    [budget.scope, budget.key, time],
                  )
                ).rows[0] as { amount: number }
              ).amount,
            );
            if (spent + reserved + request.amountUsd > budget.limitUsd) {
              return { ok: false, budget, spentUsd: spent, reservedUsd: reserved };
            }
          }
          const id = `reservation_${randomUUID()}`;
          for (const budget of request.budgets) {
            await client.query(
              `INSERT INTO budget_reservations (id, reservation_id, run_id, step_index, scope, scope_key, amount_usd,
                 expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
              [
                `${id}:${budget.scope}:${budget.key}`,
                id,
                request.runId,
                request.stepIndex,
                budget.scope,
                budget.key,
                request.amountUsd,
                time + request.ttlMs,
              ],
            );
          }
          return { ok: true, id };
        }),
      );
    },
    releaseReservation(id) {
      return operation('releasing a reservation', async () => {
        await pool.query('DELETE FROM budget_reservations WHERE reservation_id = $1', [id]);
      });
    },
    async close() {
      if (closed) return;
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      try {
        await ready;
        await pool.query('UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE owner = $1', [executorId]);
        await pool.query('DELETE FROM executors WHERE id = $1', [executorId]);
      } catch {
        // Closing must not fail because the database is away; leases expire on their own.
      }
      closed = true;
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

/** Whether a process with this id runs on this machine (signal 0 only checks). */
function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
