/**
 * The embedded engine on SQLite (better-sqlite3, WAL).
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
 *
 * Each engine is an executor: it registers itself, renews the leases of the runs it owns on a
 * heartbeat, and may commit steps only for runs it owns (a fence against a process that lost
 * its lease while paused).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { JournalError, LeaseLostError, UserError } from '../../errors.js';
import { defaultJournalDurability, type JournalDurability } from '../durability.js';
import type {
  ApprovalDecision,
  ApprovalRequest,
  ArtifactRecord,
  AuditEntry,
  BudgetReservation,
  BudgetScope,
  DecisionResult,
  Engine,
  NewRun,
  RunOutcome,
  RunStatus,
  RunTotals,
  StepRecord,
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
} from './rows.js';
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

export function openSqliteEngine(options: SqliteEngineOptions): Engine {
  const now = options.now ?? Date.now;
  const faults = options.faults ?? noFaultPoints;
  const executorId = options.executorId ?? `executor_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  if (!(leaseMs > 0)) throw new RangeError('openSqliteEngine: `leaseMs` must be positive');
  const durability = options.durability ?? defaultJournalDurability;
  let database: Database.Database;
  try {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    database = new Database(options.path, { timeout: options.busyTimeoutMs ?? 10_000 });
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
  const openStatuses = "('pending', 'waiting')";

  const statements = {
    registerExecutor: db.prepare(
      `INSERT INTO executors (id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
    ),
    executorHeartbeat: db.prepare('UPDATE executors SET heartbeat_at = ? WHERE id = ?'),
    localExecutors: db.prepare('SELECT id, pid FROM executors WHERE host = ? AND id != ?'),
    releaseRunsOf: db.prepare('UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE owner = ?'),
    forgetExecutor: db.prepare('DELETE FROM executors WHERE id = ?'),
    insertRun: db.prepare(
      `INSERT INTO runs (id, agent_name, model, input, spec, status, workspace, tenant, parent_run_id, owner,
         lease_expires_at, created_at, updated_at)
       VALUES (@id, @agent_name, @model, @input, @spec, 'pending', @workspace, @tenant, @parent_run_id, @owner, @lease,
         @now, @now)`,
    ),
    getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
    listRuns: db.prepare('SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listRunsByStatus: db.prepare('SELECT * FROM runs WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listChildRuns: db.prepare('SELECT * FROM runs WHERE parent_run_id = ? ORDER BY created_at, rowid'),
    listRunsFiltered: db.prepare(
      `SELECT * FROM runs WHERE (@status IS NULL OR status = @status) AND (@tenant IS NULL OR tenant = @tenant)
         AND (@agent IS NULL OR agent_name = @agent) AND (@excluded IS NULL OR agent_name != @excluded)
       ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
    ),
    getStep: db.prepare('SELECT * FROM steps WHERE run_id = ? AND step_index = ?'),
    listSteps: db.prepare('SELECT * FROM steps WHERE run_id = ? ORDER BY step_index'),
    insertStep: db.prepare(
      `INSERT INTO steps (run_id, step_index, name, kind, request_digest, output, model, input_tokens, output_tokens,
         cached_input_tokens, cache_write_tokens, cost_usd, started_at, finished_at)
       SELECT @run_id, @step_index, @name, @kind, @request_digest, @output, @model, @input_tokens, @output_tokens,
         @cached_input_tokens, @cache_write_tokens, @cost_usd, @started_at, @finished_at
       WHERE EXISTS (SELECT 1 FROM runs WHERE id = @run_id AND owner = @owner)
       ON CONFLICT (run_id, step_index) DO NOTHING`,
    ),
    finishRun: db.prepare(
      `UPDATE runs SET status = @status, stop_reason = @stop_reason, output = @output, error = @error, updated_at = @now,
         owner = NULL, lease_expires_at = NULL
       WHERE id = @id AND status IN ${openStatuses} AND (owner IS NULL OR owner = @owner)`,
    ),
    setStatus: db.prepare(
      `UPDATE runs SET status = @status, updated_at = @now WHERE id = @id AND status IN ${openStatuses}`,
    ),
    reopenRun: db.prepare(
      `UPDATE runs SET status = 'pending', stop_reason = NULL, output = NULL, error = NULL, updated_at = ? WHERE id = ?`,
    ),
    claimRun: db.prepare(
      `UPDATE runs SET owner = @owner, lease_expires_at = @lease
       WHERE id = @id AND status IN ${openStatuses}
         AND (owner IS NULL OR owner = @owner OR lease_expires_at < @now)`,
    ),
    releaseRun: db.prepare('UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE id = ? AND owner = ?'),
    renewLeases: db.prepare(
      `UPDATE runs SET lease_expires_at = @lease WHERE owner = @owner AND status IN ${openStatuses}`,
    ),
    recoverable: db.prepare(
      `SELECT * FROM runs r
       WHERE r.status IN ${openStatuses}
         AND (r.owner IS NULL OR r.lease_expires_at < @now)
         AND (r.status = 'pending' OR NOT EXISTS (
           SELECT 1 FROM approvals a WHERE a.run_id = r.id AND a.status = 'pending'
             AND (a.deadline IS NULL OR a.deadline > @now)))
       ORDER BY r.created_at LIMIT @limit`,
    ),
    liveOwnedOfTenant: db.prepare(
      `SELECT COUNT(*) AS count FROM runs WHERE tenant = ? AND status IN ${openStatuses}
         AND owner IS NOT NULL AND lease_expires_at >= ?`,
    ),
    totals: db.prepare(
      `SELECT COUNT(*) AS steps,
              COALESCE(SUM(kind = 'model'), 0) AS model_calls,
              COALESCE(SUM(kind = 'tool'), 0) AS tool_calls,
              COALESCE(SUM(input_tokens), 0) AS input_tokens,
              COALESCE(SUM(output_tokens), 0) AS output_tokens,
              COALESCE(SUM(cached_input_tokens), 0) AS cached_input_tokens,
              COALESCE(SUM(cost_usd), 0) AS cost_usd,
              COALESCE(SUM(kind = 'model' AND cost_usd IS NULL), 0) AS unpriced
       FROM steps WHERE run_id = ?`,
    ),
    insertLedger: db.prepare(
      `INSERT INTO ledger (run_id, step_index, model, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens,
         cost_usd, at)
       VALUES (@run_id, @step_index, @model, @input_tokens, @output_tokens, @cached_input_tokens, @cache_write_tokens,
         @cost_usd, @at)
       ON CONFLICT (run_id, step_index, model) DO NOTHING`,
    ),
    reservedFor: db.prepare(
      'SELECT COALESCE(SUM(amount_usd), 0) AS amount FROM budget_reservations WHERE scope = ? AND scope_key = ? AND expires_at > ?',
    ),
    insertReservation: db.prepare(
      `INSERT INTO budget_reservations (id, reservation_id, run_id, step_index, scope, scope_key, amount_usd, expires_at)
       VALUES (@id, @reservation_id, @run_id, @step_index, @scope, @scope_key, @amount_usd, @expires_at)`,
    ),
    deleteReservation: db.prepare('DELETE FROM budget_reservations WHERE reservation_id = ?'),
    deleteExpiredReservations: db.prepare('DELETE FROM budget_reservations WHERE expires_at <= ?'),
    costSoFar: db.prepare('SELECT COALESCE(SUM(cost_usd), 0) AS cost FROM steps WHERE run_id = ?'),
    markSynced: db.prepare(
      "INSERT INTO meta (key, value) VALUES ('synced_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
    upsertArtifact: db.prepare(
      `INSERT INTO artifacts (run_id, path, step_index, media_type, description, created_at)
       VALUES (@run_id, @path, @step_index, @media_type, @description, @created_at)
       ON CONFLICT (run_id, path) DO UPDATE SET step_index = excluded.step_index, media_type = excluded.media_type,
         description = excluded.description, created_at = excluded.created_at`,
    ),
    listArtifacts: db.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY created_at, path'),
    insertApproval: db.prepare(
      `INSERT INTO approvals (run_id, step_index, tool_name, input, input_digest, reason, status, deadline,
         default_outcome, requested_at)
       VALUES (@run_id, @step_index, @tool_name, @input, @input_digest, @reason, 'pending', @deadline,
         @default_outcome, @requested_at)
       ON CONFLICT (run_id, step_index) DO NOTHING`,
    ),
    getApproval: db.prepare('SELECT * FROM approvals WHERE run_id = ? AND step_index = ?'),
    pendingApprovalsOfRun: db.prepare(
      "SELECT * FROM approvals WHERE run_id = ? AND status = 'pending' ORDER BY step_index",
    ),
    listApprovals: db.prepare(
      `SELECT * FROM approvals WHERE (@run_id IS NULL OR run_id = @run_id) AND (@status IS NULL OR status = @status)
       ORDER BY requested_at, run_id, step_index`,
    ),
    expiredApprovals: db.prepare(
      "SELECT * FROM approvals WHERE status = 'pending' AND deadline IS NOT NULL AND deadline <= ?",
    ),
    decideApproval: db.prepare(
      `UPDATE approvals SET status = @status, decided_by = @actor, decided_at = @now, note = @note
       WHERE run_id = @run_id AND step_index = @step_index AND status = 'pending'`,
    ),
    insertAudit: db.prepare(
      `INSERT INTO audit (run_id, step_index, action, actor, at, tool_name, input_digest, cost_usd_so_far, note)
       VALUES (@run_id, @step_index, @action, @actor, @at, @tool_name, @input_digest,
         (SELECT COALESCE(SUM(cost_usd), 0) FROM steps WHERE run_id = @run_id), @note)`,
    ),
    listAudit: db.prepare('SELECT * FROM audit WHERE (@run_id IS NULL OR run_id = @run_id) ORDER BY id'),
  };
  /** Insert a step (and its ledger rows) once; the first commit at an index wins. */
  function insertStepOnce(step: StepRecord): StepRecord {
    const result = statements.insertStep.run({ ...stepToRow(step), owner: executorId });
    if (result.changes === 1) {
      for (const entry of step.ledger ?? []) {
        statements.insertLedger.run({
          run_id: step.runId,
          step_index: step.index,
          model: entry.model,
          input_tokens: entry.usage.inputTokens ?? null,
          output_tokens: entry.usage.outputTokens ?? null,
          cached_input_tokens: entry.usage.cachedInputTokens ?? null,
          cache_write_tokens: entry.usage.cacheWriteTokens ?? null,
          cost_usd: entry.costUsd ?? null,
          at: step.finishedAt,
        });
      }
      return step;
    }
    const existing = statements.getStep.get(step.runId, step.index) as StepRow | undefined;
    if (existing) return stepFromRow(existing);
    throw new LeaseLostError(
      'lease_lost',
      `run ${step.runId}: this process (${executorId}) no longer owns the run, so step ${step.index} was not committed; another process took it over after this one's lease expired.`,
    );
  }
  // Made once: better-sqlite3 prepares its BEGIN and COMMIT for each transaction function.
  const insertStepWithLedger = db.transaction(insertStepOnce);

  const synchronousFull = db.prepare('PRAGMA synchronous = FULL');
  const synchronousNormal = db.prepare('PRAGMA synchronous = NORMAL');

  /**
   * Run `action` in one transaction; under `power`, its commit fsyncs the WAL (and so every
   * earlier commit).
   */
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
          durably(() => statements.markSynced.run(String(now())));
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
        ? `journal: ${what} failed: another process held the journal's write lock (${options.path}) for longer than ${options.busyTimeoutMs ?? 10_000} ms; the run can be resumed once it is released.`
        : `journal: ${what} failed: ${(error as Error).message}`;
      return Promise.reject(new JournalError('journal_error', message, { cause: error }));
    }
  }

  const lease = () => now() + leaseMs;

  function audit(entry: Omit<AuditEntry, 'id' | 'at' | 'costUsdSoFar'>): void {
    statements.insertAudit.run({
      run_id: entry.runId,
      step_index: entry.stepIndex ?? null,
      action: entry.action,
      actor: entry.actor,
      at: now(),
      tool_name: entry.toolName ?? null,
      input_digest: entry.inputDigest ?? null,
      note: entry.note ?? null,
    });
  }

  /** Apply the default outcome of approvals whose deadline has passed by `at`; how many were decided. */
  function expireDeadlines(at: number = now()): number {
    const expired = statements.expiredApprovals.all(at) as ApprovalRow[];
    if (expired.length === 0) return 0;
    let decided = 0;
    durably(() => {
      for (const row of expired) {
        const status = row.default_outcome === 'approve' ? 'approved' : 'denied';
        const changed = statements.decideApproval.run({
          status,
          actor: 'system',
          now: now(),
          note: 'deadline passed: default outcome applied',
          run_id: row.run_id,
          step_index: row.step_index,
        });
        if (changed.changes === 1) {
          decided++;
          audit({
            runId: row.run_id,
            stepIndex: row.step_index,
            action: status,
            actor: 'system',
            toolName: row.tool_name,
            inputDigest: row.input_digest,
            note: 'deadline passed: default outcome applied',
          });
        }
      }
    });
    return decided;
  }

  statements.registerExecutor.run(executorId, process.pid, hostname(), now(), now());
  const heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.floor(leaseMs / 3));
  const heartbeatTimer =
    heartbeatMs > 0
      ? setInterval(() => {
          try {
            renew();
          } catch {
            // A busy or closed database: the next beat tries again; a missed beat only shortens the lease.
          }
        }, heartbeatMs)
      : undefined;
  heartbeatTimer?.unref();

  /** Spend recorded in the ledger for a budget's scope since its start. */
  function spentIn(budget: BudgetScope): number {
    const filters: Record<BudgetScope['scope'], string> = {
      run: `l.run_id IN (WITH RECURSIVE tree(id) AS (SELECT @key UNION ALL
              SELECT child.id FROM runs child JOIN tree ON child.parent_run_id = tree.id) SELECT id FROM tree)`,
      agent: 'r.agent_name = @key',
      tenant: 'r.tenant = @key',
      global: '1 = 1',
    };
    const row = db
      .prepare(
        `SELECT COALESCE(SUM(l.cost_usd), 0) AS spent FROM ledger l JOIN runs r ON r.id = l.run_id
         WHERE l.at >= @since AND ${filters[budget.scope]}`,
      )
      .get({ key: budget.key, since: budget.since }) as { spent: number };
    return row.spent;
  }

  /**
   * Release the runs of executors on this machine whose process has died, without waiting for
   * their leases to expire: a run killed a moment ago can be resumed at once.
   */
  function reapDeadLocalExecutors(): void {
    const local = statements.localExecutors.all(hostname(), executorId) as Array<{ id: string; pid: number }>;
    for (const executor of local) {
      if (processIsAlive(executor.pid)) continue;
      db.transaction(() => {
        statements.releaseRunsOf.run(executor.id);
        statements.forgetExecutor.run(executor.id);
      }).immediate();
    }
  }

  function renew(): void {
    if (!db.open) return;
    statements.renewLeases.run({ lease: lease(), owner: executorId });
    statements.executorHeartbeat.run(now(), executorId);
  }

  return {
    executorId,
    createRun(run: NewRun) {
      return guard('creating a run', () => {
        // Not durable by itself: the run becomes durable with its first durable write.
        statements.insertRun.run({
          id: run.id,
          agent_name: run.agentName,
          model: run.model,
          input: run.input,
          spec: JSON.stringify(run.spec),
          workspace: run.workspace ?? null,
          tenant: run.tenant ?? null,
          parent_run_id: run.parentRunId ?? null,
          owner: run.queued ? null : executorId,
          lease: run.queued ? null : lease(),
          now: now(),
        });
        return runFromRow(statements.getRun.get(run.id) as RunRow);
      });
    },
    recordFinishedRuns(runs, options = {}) {
      return guard('recording finished runs', () =>
        db
          .transaction(() => {
            const time = now();
            for (const { run, steps, outcome } of runs) {
              statements.insertRun.run({
                id: run.id,
                agent_name: run.agentName,
                model: run.model,
                input: run.input,
                spec: JSON.stringify(run.spec),
                workspace: run.workspace ?? null,
                tenant: run.tenant ?? null,
                parent_run_id: run.parentRunId ?? null,
                owner: executorId,
                lease: lease(),
                now: time,
              });
              for (const step of steps) insertStepOnce(step);
              statements.finishRun.run({
                id: run.id,
                status: outcome.status,
                stop_reason: outcome.stopReason,
                output: outcome.output === undefined ? null : JSON.stringify(outcome.output),
                error: outcome.error ?? null,
                now: time,
                owner: executorId,
              });
            }
          })
          .immediate(),
      ).then(() => (options.durable === false ? undefined : sharedSync()));
    },
    getRun(runId) {
      return guard('reading a run', () => {
        const row = statements.getRun.get(runId) as RunRow | undefined;
        return row ? runFromRow(row) : undefined;
      });
    },
    listRuns(query = {}) {
      return guard('listing runs', () => {
        const limit = query.limit ?? 50;
        if (query.tenant !== undefined || query.agentName !== undefined || query.excludeAgentName !== undefined) {
          const filtered = statements.listRunsFiltered.all({
            status: query.status ?? null,
            tenant: query.tenant ?? null,
            agent: query.agentName ?? null,
            excluded: query.excludeAgentName ?? null,
            limit,
          }) as RunRow[];
          return filtered.map(runFromRow);
        }
        const rows = (
          query.status ? statements.listRunsByStatus.all(query.status, limit) : statements.listRuns.all(limit)
        ) as RunRow[];
        return rows.map(runFromRow);
      });
    },
    listChildRuns(runId) {
      return guard('listing child runs', () => (statements.listChildRuns.all(runId) as RunRow[]).map(runFromRow));
    },
    listSteps(runId) {
      return guard('listing steps', () => (statements.listSteps.all(runId) as StepRow[]).map(stepFromRow));
    },
    totals(runId): Promise<RunTotals> {
      return guard('summing a run', () => {
        const row = statements.totals.get(runId) as Record<string, number>;
        return {
          steps: row.steps ?? 0,
          modelCalls: row.model_calls ?? 0,
          toolCalls: row.tool_calls ?? 0,
          inputTokens: row.input_tokens ?? 0,
          outputTokens: row.output_tokens ?? 0,
          cachedInputTokens: row.cached_input_tokens ?? 0,
          costUsd: row.cost_usd ?? 0,
          unpricedModelCalls: row.unpriced ?? 0,
        };
      });
    },
    commitStep(step, options = {}) {
      return guard(`committing step ${step.index} of run ${step.runId}`, () =>
        // A lone INSERT is atomic on its own; with ledger rows, the step and its rows commit together.
        step.ledger && step.ledger.length > 0 ? insertStepWithLedger.immediate(step) : insertStepOnce(step),
      ).then(async (record) => {
        if (options.durable) await sharedSync();
        return record;
      });
    },
    sync() {
      return sharedSync();
    },
    finishRun(runId, outcome: RunOutcome) {
      return guard('finishing a run', () =>
        db
          .transaction(() => {
            const result = statements.finishRun.run({
              id: runId,
              status: outcome.status,
              stop_reason: outcome.stopReason,
              output: outcome.output === undefined ? null : JSON.stringify(outcome.output),
              error: outcome.error ?? null,
              now: now(),
              owner: executorId,
            });
            faults.reach('during-final-write');
            return result.changes === 1;
          })
          .immediate(),
      ).then(async (finished) => {
        // The result leaves the process only once it is on disk.
        await sharedSync();
        return finished;
      });
    },
    setRunStatus(runId, status: RunStatus & ('pending' | 'waiting')) {
      return guard('setting a run status', () => {
        durably(() => statements.setStatus.run({ id: runId, status, now: now() }));
      });
    },
    reopenRun(runId) {
      return guard('reopening a run', () => {
        durably(() => statements.reopenRun.run(now(), runId));
      });
    },
    claimRun(runId) {
      return guard('claiming a run', () => {
        reapDeadLocalExecutors();
        const result = statements.claimRun.run({ id: runId, owner: executorId, lease: lease(), now: now() });
        return result.changes === 1;
      });
    },
    releaseRun(runId) {
      return guard('releasing a run', () => {
        statements.releaseRun.run(runId, executorId);
      });
    },
    heartbeat() {
      return guard('renewing leases', renew);
    },
    recoverableRuns(query = {}) {
      return guard('finding recoverable runs', () => {
        reapDeadLocalExecutors();
        return (statements.recoverable.all({ now: now(), limit: query.limit ?? 1000 }) as RunRow[]).map(runFromRow);
      });
    },
    takeRuns(query) {
      return guard('taking runs', () => {
        reapDeadLocalExecutors();
        // One write transaction: no other process claims in between (SQLite has one writer).
        return db
          .transaction(() => {
            const candidates = statements.recoverable.all({ now: now(), limit: 1000 }) as RunRow[];
            const taken: RunRow[] = [];
            const ownedPerTenant = new Map<string, number>();
            for (const candidate of candidates) {
              if (taken.length >= query.limit) break;
              if (query.perTenant !== undefined && candidate.tenant !== null) {
                const owned =
                  ownedPerTenant.get(candidate.tenant) ??
                  (statements.liveOwnedOfTenant.get(candidate.tenant, now()) as { count: number }).count;
                if (owned >= query.perTenant) continue;
                ownedPerTenant.set(candidate.tenant, owned + 1);
              }
              const claimed = statements.claimRun.run({
                id: candidate.id,
                owner: executorId,
                lease: lease(),
                now: now(),
              });
              if (claimed.changes === 1) taken.push(statements.getRun.get(candidate.id) as RunRow);
            }
            return taken.map(runFromRow);
          })
          .immediate();
      });
    },
    recordArtifact(artifact: ArtifactRecord) {
      return guard('recording an artifact', () => {
        statements.upsertArtifact.run({
          run_id: artifact.runId,
          path: artifact.path,
          step_index: artifact.stepIndex,
          media_type: artifact.mediaType,
          description: artifact.description ?? null,
          created_at: artifact.createdAt,
        });
      });
    },
    listArtifacts(runId) {
      return guard('listing artifacts', () =>
        (statements.listArtifacts.all(runId) as ArtifactRow[]).map(artifactFromRow),
      );
    },
    requestApproval(request: ApprovalRequest) {
      return guard('requesting an approval', () =>
        durably(() => {
          const inserted = statements.insertApproval.run({
            run_id: request.runId,
            step_index: request.stepIndex,
            tool_name: request.toolName,
            input: JSON.stringify(request.input),
            input_digest: request.inputDigest,
            reason: request.reason,
            deadline: request.deadline ?? null,
            default_outcome: request.defaultOutcome ?? 'deny',
            requested_at: now(),
          });
          if (inserted.changes === 1) {
            audit({
              runId: request.runId,
              stepIndex: request.stepIndex,
              action: 'approval-requested',
              actor: 'policy',
              toolName: request.toolName,
              inputDigest: request.inputDigest,
              note: request.reason,
            });
          }
          return approvalFromRow(statements.getApproval.get(request.runId, request.stepIndex) as ApprovalRow);
        }),
      );
    },
    getApproval(runId, stepIndex) {
      return guard('reading an approval', () => {
        const row = statements.getApproval.get(runId, stepIndex) as ApprovalRow | undefined;
        return row ? approvalFromRow(row) : undefined;
      });
    },
    listApprovals(query = {}) {
      return guard('listing approvals', () => {
        return (
          statements.listApprovals.all({ run_id: query.runId ?? null, status: query.status ?? null }) as ApprovalRow[]
        ).map(approvalFromRow);
      });
    },
    expireApprovalDeadlines(at) {
      return guard('applying approval deadlines', () => expireDeadlines(at));
    },
    decideApproval(decision: ApprovalDecision): Promise<DecisionResult> {
      return guard('deciding an approval', () => {
        expireDeadlines();
        return durably((): DecisionResult => {
          let row: ApprovalRow | undefined;
          if (decision.stepIndex === undefined) {
            const pending = statements.pendingApprovalsOfRun.all(decision.runId) as ApprovalRow[];
            if (pending.length > 1) {
              throw new UserError(
                'usage',
                `run ${decision.runId} has ${pending.length} approvals waiting (steps ${pending.map((item) => item.step_index).join(', ')}); name one with --step.`,
              );
            }
            row = pending[0];
            if (!row) {
              const decided = (
                statements.listApprovals.all({ run_id: decision.runId, status: null }) as ApprovalRow[]
              ).at(-1);
              row = decided;
            }
          } else {
            row = statements.getApproval.get(decision.runId, decision.stepIndex) as ApprovalRow | undefined;
          }
          if (!row) {
            throw new UserError(
              'approval_not_found',
              `run ${decision.runId} has no approval${decision.stepIndex === undefined ? '' : ` at step ${decision.stepIndex}`} to decide; see \`hataraku runs show ${decision.runId}\`.`,
            );
          }
          const status = decision.outcome === 'approve' ? 'approved' : 'denied';
          const changed = statements.decideApproval.run({
            status,
            actor: decision.actor,
            now: now(),
            note: decision.note ?? null,
            run_id: row.run_id,
            step_index: row.step_index,
          });
          const base = {
            runId: row.run_id,
            stepIndex: row.step_index,
            actor: decision.actor,
            toolName: row.tool_name,
            inputDigest: row.input_digest,
            note: decision.note,
          };
          const approval = approvalFromRow(statements.getApproval.get(row.run_id, row.step_index) as ApprovalRow);
          if (changed.changes === 1) {
            audit({ ...base, action: status });
            return { kind: 'applied', approval };
          }
          audit({ ...base, action: 'decision-ignored', note: `already ${row.status}; ${decision.outcome} ignored` });
          return { kind: 'ignored', approval };
        });
      });
    },
    audit(entry) {
      return guard('writing the audit log', () => {
        durably(() => audit(entry));
      });
    },
    listAudit(query = {}) {
      return guard('reading the audit log', () =>
        (statements.listAudit.all({ run_id: query.runId ?? null }) as AuditRow[]).map(auditFromRow),
      );
    },
    costReport(query) {
      return guard('reporting costs', () => {
        const groupings: Record<string, string> = {
          model: 'l.model',
          agent: 'r.agent_name',
          day: "strftime('%Y-%m-%d', l.at / 1000, 'unixepoch')",
          tenant: "COALESCE(r.tenant, '(none)')",
          run: 'roots.root',
        };
        const key = groupings[query.by];
        if (key === undefined) throw new UserError('usage', `cannot group costs by ${query.by}`);
        const rows = db
          .prepare(
            `WITH RECURSIVE roots(id, root) AS (
               SELECT id, id FROM runs WHERE parent_run_id IS NULL
               UNION ALL SELECT child.id, roots.root FROM runs child JOIN roots ON child.parent_run_id = roots.id)
             SELECT ${key} AS key, COUNT(*) AS calls,
                    COALESCE(SUM(l.input_tokens), 0) AS input_tokens, COALESCE(SUM(l.output_tokens), 0) AS output_tokens,
                    COALESCE(SUM(l.cached_input_tokens), 0) AS cached_input_tokens,
                    COALESCE(SUM(l.cost_usd), 0) AS cost_usd, COALESCE(SUM(l.cost_usd IS NULL), 0) AS unpriced
             FROM ledger l JOIN runs r ON r.id = l.run_id JOIN roots ON roots.id = l.run_id
             WHERE l.at >= @since AND (@run_id IS NULL OR roots.root = @run_id) AND (@tenant IS NULL OR r.tenant = @tenant)
             GROUP BY 1 ORDER BY cost_usd DESC, key`,
          )
          .all({ since: query.since ?? 0, run_id: query.runId ?? null, tenant: query.tenant ?? null }) as Array<
          Record<string, number | string>
        >;
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
      return guard('summing spend', () => spentIn(budget));
    },
    reserveBudget(request) {
      return guard('reserving budget', () =>
        db
          .transaction((): BudgetReservation => {
            const time = now();
            statements.deleteExpiredReservations.run(time);
            for (const budget of request.budgets) {
              const spent = spentIn(budget);
              const reserved = (statements.reservedFor.get(budget.scope, budget.key, time) as { amount: number })
                .amount;
              if (spent + reserved + request.amountUsd > budget.limitUsd) {
                return { ok: false, budget, spentUsd: spent, reservedUsd: reserved };
              }
            }
            const id = `reservation_${randomUUID()}`;
            for (const budget of request.budgets) {
              statements.insertReservation.run({
                id: `${id}:${budget.scope}:${budget.key}`,
                reservation_id: id,
                run_id: request.runId,
                step_index: request.stepIndex,
                scope: budget.scope,
                scope_key: budget.key,
                amount_usd: request.amountUsd,
                expires_at: time + request.ttlMs,
              });
            }
            return { ok: true, id };
          })
          .immediate(),
      );
    },
    releaseReservation(id) {
      return guard('releasing a reservation', () => {
        statements.deleteReservation.run(id);
      });
    },
    async close() {
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      if (db.open) {
        try {
          db.prepare('UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE owner = ?').run(executorId);
          db.prepare('DELETE FROM executors WHERE id = ?').run(executorId);
        } catch {
          // Closing must not fail because the database is busy; leases expire on their own.
        }
        db.close();
      }
    },
  };
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
