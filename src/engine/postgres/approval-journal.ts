/**
 * Approvals and the audit log on PostgreSQL. Reading an approval never writes: a deadline that
 * passed is applied by `expireApprovalDeadlines`, which whoever acts on approvals calls.
 */
import { UserError } from '../../errors.js';
import type { ApprovalDecision, ApprovalJournal, ApprovalRequest, AuditEntry, DecisionResult } from '../engine.js';
import { type ApprovalRow, type AuditRow, approvalFromRow, auditFromRow } from '../sqlite/rows.js';
import type { PostgresJournalDatabase, Queryable } from './journal-database.js';

export function createApprovalJournal(database: PostgresJournalDatabase): ApprovalJournal {
  const { pool, now, operation, transaction } = database;

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
      await pool.query<ApprovalRow>(
        "SELECT * FROM approvals WHERE status = 'pending' AND deadline IS NOT NULL AND deadline <= $1",
        [at],
      )
    ).rows;
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

  return {
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
            await client.query<ApprovalRow>('SELECT * FROM approvals WHERE run_id = $1 AND step_index = $2', [
              request.runId,
              request.stepIndex,
            ])
          ).rows[0];
          if (!row) throw new Error(`the approval of step ${request.stepIndex} was not written`);
          return approvalFromRow(row);
        }, true),
      );
    },
    getApproval(runId, stepIndex) {
      return operation('reading an approval', async () => {
        const row = (
          await pool.query<ApprovalRow>('SELECT * FROM approvals WHERE run_id = $1 AND step_index = $2', [
            runId,
            stepIndex,
          ])
        ).rows[0];
        return row ? approvalFromRow(row) : undefined;
      });
    },
    listApprovals(query = {}) {
      return operation('listing approvals', async () => {
        return (
          await pool.query<ApprovalRow>(
            `SELECT * FROM approvals WHERE ($1::text IS NULL OR run_id = $1) AND ($2::text IS NULL OR status = $2)
               ORDER BY requested_at, run_id, step_index`,
            [query.runId ?? null, query.status ?? null],
          )
        ).rows.map(approvalFromRow);
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
              await client.query<ApprovalRow>(
                "SELECT * FROM approvals WHERE run_id = $1 AND status = 'pending' ORDER BY step_index",
                [decision.runId],
              )
            ).rows;
            if (pending.length > 1) {
              throw new UserError(
                'usage',
                `run ${decision.runId} has ${pending.length} approvals waiting (steps ${pending.map((item) => item.step_index).join(', ')}); name one with --step.`,
              );
            }
            row =
              pending[0] ??
              (
                await client.query<ApprovalRow>(
                  'SELECT * FROM approvals WHERE run_id = $1 ORDER BY requested_at, step_index',
                  [decision.runId],
                )
              ).rows.at(-1);
          } else {
            row = (
              await client.query<ApprovalRow>('SELECT * FROM approvals WHERE run_id = $1 AND step_index = $2', [
                decision.runId,
                decision.stepIndex,
              ])
            ).rows[0];
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
          const decided = (
            await client.query<ApprovalRow>('SELECT * FROM approvals WHERE run_id = $1 AND step_index = $2', [
              row.run_id,
              row.step_index,
            ])
          ).rows[0];
          const approval = approvalFromRow(decided ?? row);
          if (changed.rowCount === 1) {
            await insertAudit(client, { ...base, action: status });
            return { kind: 'applied', approval };
          }
          const current = (
            await client.query<{ status: string }>(
              'SELECT status FROM approvals WHERE run_id = $1 AND step_index = $2',
              [row.run_id, row.step_index],
            )
          ).rows[0];
          await insertAudit(client, {
            ...base,
            action: 'decision-ignored',
            note: `already ${current?.status ?? row.status}; ${decision.outcome} ignored`,
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
          await pool.query<AuditRow>('SELECT * FROM audit WHERE ($1::text IS NULL OR run_id = $1) ORDER BY id', [
            query.runId ?? null,
          ])
        ).rows.map(auditFromRow),
      );
    },
  };
}
