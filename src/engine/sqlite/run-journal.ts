/**
 * Runs and their leases on SQLite. Each engine is an executor: it registers itself, renews the
 * leases of the runs it owns on a heartbeat, releases the runs of dead executors on this
 * machine, and takes runs from the shared queue.
 */
import { hostname } from 'node:os';
import type { FinishedRun, RunJournal, RunOutcome, RunRecord, StepRecord } from '../engine.js';
import { type JournalDatabase, openStatuses } from './journal-database.js';
import { type RunRow, runFromRow } from './rows.js';

interface NewRunRow {
  id: string;
  agent_name: string;
  model: string;
  input: string;
  spec: string;
  workspace: string | null;
  tenant: string | null;
  parent_run_id: string | null;
  owner: string | null;
  lease: number | null;
  now: number;
}

interface OutcomeRow {
  id: string;
  status: RunOutcome['status'];
  stop_reason: string;
  output: string | null;
  error: string | null;
  now: number;
  owner: string;
}

interface ClaimRow {
  id: string;
  owner: string;
  lease: number;
  now: number;
}

interface RunFilterRow {
  status: string | null;
  tenant: string | null;
  agent: string | null;
  excluded: string | null;
  limit: number;
}

export interface SqliteRunJournal {
  journal: RunJournal;
  /** Stop the heartbeat and release this executor's runs (the database stays open). */
  release(): void;
}

export function createRunJournal(
  database: JournalDatabase,
  insertStepOnce: (step: StepRecord) => StepRecord,
): SqliteRunJournal {
  const { db, executorId, now, lease, guard, durably, sharedSync, faults } = database;
  const statements = {
    registerExecutor: db.prepare<[string, number, string, number, number]>(
      `INSERT INTO executors (id, pid, host, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
    ),
    executorHeartbeat: db.prepare<[number, string]>('UPDATE executors SET heartbeat_at = ? WHERE id = ?'),
    localExecutors: db.prepare<[string, string], { id: string; pid: number }>(
      'SELECT id, pid FROM executors WHERE host = ? AND id != ?',
    ),
    releaseRunsOf: db.prepare<[string]>('UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE owner = ?'),
    forgetExecutor: db.prepare<[string]>('DELETE FROM executors WHERE id = ?'),
    insertRun: db.prepare<NewRunRow>(
      `INSERT INTO runs (id, agent_name, model, input, spec, status, workspace, tenant, parent_run_id, owner,
         lease_expires_at, created_at, updated_at)
       VALUES (@id, @agent_name, @model, @input, @spec, 'pending', @workspace, @tenant, @parent_run_id, @owner, @lease,
         @now, @now)`,
    ),
    getRun: db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?'),
    listRuns: db.prepare<[number], RunRow>('SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listRunsByStatus: db.prepare<[string, number], RunRow>(
      'SELECT * FROM runs WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
    ),
    listChildRuns: db.prepare<[string], RunRow>(
      'SELECT * FROM runs WHERE parent_run_id = ? ORDER BY created_at, rowid',
    ),
    listRunsFiltered: db.prepare<RunFilterRow, RunRow>(
      `SELECT * FROM runs WHERE (@status IS NULL OR status = @status) AND (@tenant IS NULL OR tenant = @tenant)
         AND (@agent IS NULL OR agent_name = @agent) AND (@excluded IS NULL OR agent_name != @excluded)
       ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
    ),
    finishRun: db.prepare<OutcomeRow>(
      `UPDATE runs SET status = @status, stop_reason = @stop_reason, output = @output, error = @error, updated_at = @now,
         owner = NULL, lease_expires_at = NULL
       WHERE id = @id AND status IN ${openStatuses} AND (owner IS NULL OR owner = @owner)`,
    ),
    setStatus: db.prepare<{ id: string; status: string; now: number }>(
      `UPDATE runs SET status = @status, updated_at = @now WHERE id = @id AND status IN ${openStatuses}`,
    ),
    reopenRun: db.prepare<[number, string]>(
      `UPDATE runs SET status = 'pending', stop_reason = NULL, output = NULL, error = NULL, updated_at = ? WHERE id = ?`,
    ),
    claimRun: db.prepare<ClaimRow>(
      `UPDATE runs SET owner = @owner, lease_expires_at = @lease
       WHERE id = @id AND status IN ${openStatuses}
         AND (owner IS NULL OR owner = @owner OR lease_expires_at < @now)`,
    ),
    releaseRun: db.prepare<[string, string]>(
      'UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE id = ? AND owner = ?',
    ),
    renewLeases: db.prepare<{ lease: number; owner: string }>(
      `UPDATE runs SET lease_expires_at = @lease WHERE owner = @owner AND status IN ${openStatuses}`,
    ),
    recoverable: db.prepare<{ now: number; limit: number }, RunRow>(
      `SELECT * FROM runs r
       WHERE r.status IN ${openStatuses}
         AND (r.owner IS NULL OR r.lease_expires_at < @now)
         AND (r.status = 'pending' OR NOT EXISTS (
           SELECT 1 FROM approvals a WHERE a.run_id = r.id AND a.status = 'pending'
             AND (a.deadline IS NULL OR a.deadline > @now)))
       ORDER BY r.created_at LIMIT @limit`,
    ),
    liveOwnedOfTenant: db.prepare<[string, number], { count: number }>(
      `SELECT COUNT(*) AS count FROM runs WHERE tenant = ? AND status IN ${openStatuses}
         AND owner IS NOT NULL AND lease_expires_at >= ?`,
    ),
  };

  // Made once: better-sqlite3 prepares BEGIN, COMMIT and ROLLBACK for each transaction function,
  // which cost more than the rows of a small batch of gateway calls.
  const recordFinished = db.transaction((runs: FinishedRun[]) => {
    const time = now();
    for (const { run, steps, outcome } of runs) {
      statements.insertRun.run(newRunRow(run, true, time));
      for (const step of steps) insertStepOnce(step);
      statements.finishRun.run(outcomeRow(run.id, outcome, time));
    }
  });

  function newRunRow(run: FinishedRun['run'], owned: boolean, time: number): NewRunRow {
    return {
      id: run.id,
      agent_name: run.agentName,
      model: run.model,
      input: run.input,
      spec: JSON.stringify(run.spec),
      workspace: run.workspace ?? null,
      tenant: run.tenant ?? null,
      parent_run_id: run.parentRunId ?? null,
      owner: owned ? executorId : null,
      lease: owned ? lease() : null,
      now: time,
    };
  }

  function outcomeRow(runId: string, outcome: RunOutcome, time: number): OutcomeRow {
    return {
      id: runId,
      status: outcome.status,
      stop_reason: outcome.stopReason,
      output: outcome.output === undefined ? null : JSON.stringify(outcome.output),
      error: outcome.error ?? null,
      now: time,
      owner: executorId,
    };
  }

  function readRun(runId: string): RunRecord {
    const row = statements.getRun.get(runId);
    if (!row) throw new Error(`run ${runId} is not in the journal`);
    return runFromRow(row);
  }

  /**
   * Release the runs of executors on this machine whose process has died, without waiting for
   * their leases to expire: a run killed a moment ago can be resumed at once.
   */
  function reapDeadLocalExecutors(): void {
    for (const executor of statements.localExecutors.all(hostname(), executorId)) {
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

  statements.registerExecutor.run(executorId, process.pid, hostname(), now(), now());
  const heartbeatMs = database.heartbeatMs ?? Math.max(10, Math.floor(database.leaseMs / 3));
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

  const journal: RunJournal = {
    executorId,
    createRun(run) {
      return guard('creating a run', () => {
        // Not durable by itself: the run becomes durable with its first durable write.
        statements.insertRun.run(newRunRow(run, !run.queued, now()));
        return readRun(run.id);
      });
    },
    recordFinishedRuns(runs, options = {}) {
      return guard('recording finished runs', () => recordFinished.immediate(runs)).then(() =>
        options.durable === false ? undefined : sharedSync(),
      );
    },
    getRun(runId) {
      return guard('reading a run', () => {
        const row = statements.getRun.get(runId);
        return row ? runFromRow(row) : undefined;
      });
    },
    listRuns(query = {}) {
      return guard('listing runs', () => {
        const limit = query.limit ?? 50;
        if (query.tenant !== undefined || query.agentName !== undefined || query.excludeAgentName !== undefined) {
          return statements.listRunsFiltered
            .all({
              status: query.status ?? null,
              tenant: query.tenant ?? null,
              agent: query.agentName ?? null,
              excluded: query.excludeAgentName ?? null,
              limit,
            })
            .map(runFromRow);
        }
        const rows = query.status
          ? statements.listRunsByStatus.all(query.status, limit)
          : statements.listRuns.all(limit);
        return rows.map(runFromRow);
      });
    },
    listChildRuns(runId) {
      return guard('listing child runs', () => statements.listChildRuns.all(runId).map(runFromRow));
    },
    finishRun(runId, outcome) {
      return guard('finishing a run', () =>
        db
          .transaction(() => {
            const result = statements.finishRun.run(outcomeRow(runId, outcome, now()));
            faults.reach('during-final-write');
            return result.changes === 1;
          })
          .immediate(),
      ).then(async (finished) => {
        // Under `power`, the result leaves the process only once it is on disk.
        await sharedSync();
        return finished;
      });
    },
    setRunStatus(runId, status) {
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
        return statements.recoverable.all({ now: now(), limit: query.limit ?? 1000 }).map(runFromRow);
      });
    },
    takeRuns(query) {
      return guard('taking runs', () => {
        reapDeadLocalExecutors();
        // One write transaction: no other process claims in between (SQLite has one writer).
        return db
          .transaction(() => {
            const candidates = statements.recoverable.all({ now: now(), limit: 1000 });
            const taken: RunRecord[] = [];
            const ownedPerTenant = new Map<string, number>();
            for (const candidate of candidates) {
              if (taken.length >= query.limit) break;
              if (query.perTenant !== undefined && candidate.tenant !== null) {
                const owned =
                  ownedPerTenant.get(candidate.tenant) ??
                  statements.liveOwnedOfTenant.get(candidate.tenant, now())?.count ??
                  0;
                if (owned >= query.perTenant) continue;
                ownedPerTenant.set(candidate.tenant, owned + 1);
              }
              const claimed = statements.claimRun.run({
                id: candidate.id,
                owner: executorId,
                lease: lease(),
                now: now(),
              });
              if (claimed.changes === 1) taken.push(readRun(candidate.id));
            }
            return taken;
          })
          .immediate();
      });
    },
  };

  return {
    journal,
    release() {
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      if (!db.open) return;
      try {
        statements.releaseRunsOf.run(executorId);
        statements.forgetExecutor.run(executorId);
      } catch {
        // Closing must not fail because the database is busy; leases expire on their own.
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
