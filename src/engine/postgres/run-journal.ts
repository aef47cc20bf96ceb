/**
 * Runs and their leases on PostgreSQL: creating and finishing runs, claims fenced by a lease
 * epoch, the heartbeat, the release of dead executors on this machine, and the shared queue
 * (`takeRuns`, `FOR UPDATE SKIP LOCKED`). Leases use the database's clock.
 */
import { hostname } from 'node:os';
import { JournalError } from '../../errors.js';
import type { RunJournal } from '../engine.js';
import { type RunRow, runFromRow } from '../sqlite/rows.js';
import { databaseNow, openStatuses, type PostgresJournalDatabase } from './journal-database.js';

const recoverableCondition = `r.status IN ${openStatuses}
  AND (r.owner IS NULL OR r.lease_expires_at < ${databaseNow})
  AND (r.status = 'pending' OR NOT EXISTS (
    SELECT 1 FROM approvals a WHERE a.run_id = r.id AND a.status = 'pending'
      AND (a.deadline IS NULL OR a.deadline > $1)))`;

export interface PostgresRunJournal {
  journal: RunJournal;
  /** Stop the heartbeat and release this executor's runs (the pool stays open). */
  release(): Promise<void>;
}

export function createRunJournal(database: PostgresJournalDatabase): PostgresRunJournal {
  const { pool, executorId, leaseMs, now, faults, epochs, guard, ready, operation, transaction, getRunRow } = database;

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

  let renewing = false;
  async function renew(): Promise<void> {
    if (database.closed || renewing) return;
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
  const heartbeatMs = database.heartbeatMs ?? Math.max(10, Math.floor(leaseMs / 3));
  const heartbeatTimer =
    heartbeatMs > 0
      ? setInterval(() => {
          // A missed beat (the database restarting) only shortens the lease; the next one tries again.
          ready.then(renew).catch(() => {});
        }, heartbeatMs)
      : undefined;
  heartbeatTimer?.unref();

  const journal: RunJournal = {
    executorId,
    createRun(run) {
      return operation('creating a run', async (attempt) => {
        const owner = run.queued ? null : executorId;
        const inserted = (
          await pool.query<RunRow & { lease_epoch: number }>(
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
        ).rows[0];
        const row = inserted ?? (attempt > 0 ? await getRunRow(pool, run.id) : undefined);
        // A retry finds the run its first attempt created.
        if (!row || (!inserted && (row.owner !== owner || row.input !== run.input))) {
          throw new JournalError(
            'journal_error',
            `journal: creating a run failed: a run with id ${run.id} already exists`,
          );
        }
        if (owner) epochs.set(run.id, Number(('lease_epoch' in row ? row.lease_epoch : undefined) ?? 1));
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
        const result = await pool.query<RunRow>(
          `SELECT * FROM runs WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR tenant = $2)
             AND ($3::text IS NULL OR agent_name = $3) AND ($4::text IS NULL OR agent_name <> $4)
           ORDER BY created_at DESC, seq DESC LIMIT $5`,
          [query.status ?? null, query.tenant ?? null, query.agentName ?? null, query.excludeAgentName ?? null, limit],
        );
        return result.rows.map(runFromRow);
      });
    },
    listChildRuns(runId) {
      return operation('listing child runs', async () => {
        const result = await pool.query<RunRow>(
          'SELECT * FROM runs WHERE parent_run_id = $1 ORDER BY created_at, seq',
          [runId],
        );
        return result.rows.map(runFromRow);
      });
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
          await pool.query<{ lease_epoch: number }>({
            name: 'hataraku-claim-run',
            text: `UPDATE runs SET owner = $2, lease_expires_at = ${databaseNow} + $3,
               lease_epoch = CASE WHEN owner = $2 THEN lease_epoch ELSE lease_epoch + 1 END
             WHERE id = $1 AND status IN ${openStatuses}
               AND (owner IS NULL OR owner = $2 OR lease_expires_at < ${databaseNow})
             RETURNING lease_epoch`,
            values: [runId, executorId, leaseMs],
          })
        ).rows[0];
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
          await pool.query<RunRow>(
            `SELECT * FROM runs r WHERE ${recoverableCondition} ORDER BY r.created_at, r.seq LIMIT $2`,
            [now(), query.limit ?? 1000],
          )
        ).rows;
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
            await client.query<{ id: string; tenant: string | null }>(
              `SELECT r.id, r.tenant FROM runs r WHERE ${recoverableCondition}
               ORDER BY r.created_at, r.seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
              [now(), query.perTenant === undefined ? query.limit : Math.max(query.limit * 4, 64)],
            )
          ).rows;
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
              await client.query<{ tenant: string; count: number }>(
                `SELECT tenant, COUNT(*) AS count FROM runs WHERE tenant = ANY($1) AND status IN ${openStatuses}
                   AND owner IS NOT NULL AND lease_expires_at >= ${databaseNow} GROUP BY tenant`,
                [tenants],
              )
            ).rows) {
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
            await client.query<RunRow & { lease_epoch: number; seq: number }>(
              `UPDATE runs SET owner = $2, lease_expires_at = ${databaseNow} + $3, lease_epoch = lease_epoch + 1
               WHERE id = ANY($1) RETURNING *`,
              [chosen, executorId, leaseMs],
            )
          ).rows;
        });
        taken.sort((left, right) => left.created_at - right.created_at || left.seq - right.seq);
        for (const row of taken) epochs.set(row.id, Number(row.lease_epoch));
        return taken.map(runFromRow);
      });
    },
  };

  return {
    journal,
    async release() {
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      try {
        await ready;
        await pool.query('UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE owner = $1', [executorId]);
        await pool.query('DELETE FROM executors WHERE id = $1', [executorId]);
      } catch {
        // Closing must not fail because the database is away; leases expire on their own.
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
