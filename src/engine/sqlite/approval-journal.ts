/**
 * Approvals and the audit log on SQLite. Reading an approval never writes: a deadline that
 * passed is applied by `expireApprovalDeadlines`, which whoever acts on approvals calls.
 */
import { UserError } from '../../errors.js';
import type { ApprovalJournal, AuditEntry, DecisionResult } from '../engine.js';
import type { JournalDatabase } from './journal-database.js';
import { type ApprovalRow, type AuditRow, approvalFromRow, auditFromRow } from './rows.js';

type NewAuditEntry = Omit<AuditEntry, 'id' | 'at' | 'costUsdSoFar'>;

interface NewApprovalRow {
  run_id: string;
  step_index: number;
  tool_name: string;
  input: string;
  input_digest: string;
  reason: string;
  deadline: number | null;
  default_outcome: 'approve' | 'deny';
  requested_at: number;
}

interface DecisionRow {
  status: 'approved' | 'denied';
  actor: string;
  now: number;
  note: string | null;
  run_id: string;
  step_index: number;
}

interface NewAuditRow {
  run_id: string;
  step_index: number | null;
  action: string;
  actor: string;
  at: number;
  tool_name: string | null;
  input_digest: string | null;
  note: string | null;
}

const deadlineNote = 'deadline passed: default outcome applied';

export function createApprovalJournal(database: JournalDatabase): ApprovalJournal {
  const { db, now, guard, durably } = database;
  const statements = {
    insertApproval: db.prepare<NewApprovalRow>(
      `INSERT INTO approvals (run_id, step_index, tool_name, input, input_digest, reason, status, deadline,
         default_outcome, requested_at)
       VALUES (@run_id, @step_index, @tool_name, @input, @input_digest, @reason, 'pending', @deadline,
         @default_outcome, @requested_at)
       ON CONFLICT (run_id, step_index) DO NOTHING`,
    ),
    getApproval: db.prepare<[string, number], ApprovalRow>(
      'SELECT * FROM approvals WHERE run_id = ? AND step_index = ?',
    ),
    pendingApprovalsOfRun: db.prepare<[string], ApprovalRow>(
      "SELECT * FROM approvals WHERE run_id = ? AND status = 'pending' ORDER BY step_index",
    ),
    listApprovals: db.prepare<{ run_id: string | null; status: string | null }, ApprovalRow>(
      `SELECT * FROM approvals WHERE (@run_id IS NULL OR run_id = @run_id) AND (@status IS NULL OR status = @status)
       ORDER BY requested_at, run_id, step_index`,
    ),
    expiredApprovals: db.prepare<[number], ApprovalRow>(
      "SELECT * FROM approvals WHERE status = 'pending' AND deadline IS NOT NULL AND deadline <= ?",
    ),
    decideApproval: db.prepare<DecisionRow>(
      `UPDATE approvals SET status = @status, decided_by = @actor, decided_at = @now, note = @note
       WHERE run_id = @run_id AND step_index = @step_index AND status = 'pending'`,
    ),
    insertAudit: db.prepare<NewAuditRow>(
      `INSERT INTO audit (run_id, step_index, action, actor, at, tool_name, input_digest, cost_usd_so_far, note)
       VALUES (@run_id, @step_index, @action, @actor, @at, @tool_name, @input_digest,
         (SELECT COALESCE(SUM(cost_usd), 0) FROM steps WHERE run_id = @run_id), @note)`,
    ),
    listAudit: db.prepare<{ run_id: string | null }, AuditRow>(
      'SELECT * FROM audit WHERE (@run_id IS NULL OR run_id = @run_id) ORDER BY id',
    ),
  };

  function audit(entry: NewAuditEntry): void {
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
    const expired = statements.expiredApprovals.all(at);
    if (expired.length === 0) return 0;
    let decided = 0;
    durably(() => {
      for (const row of expired) {
        const status = row.default_outcome === 'approve' ? 'approved' : 'denied';
        const changed = statements.decideApproval.run({
          status,
          actor: 'system',
          now: now(),
          note: deadlineNote,
          run_id: row.run_id,
          step_index: row.step_index,
        });
        if (changed.changes !== 1) continue;
        decided++;
        audit({
          runId: row.run_id,
          stepIndex: row.step_index,
          action: status,
          actor: 'system',
          toolName: row.tool_name,
          inputDigest: row.input_digest,
          note: deadlineNote,
        });
      }
    });
    return decided;
  }

  return {
    requestApproval(request) {
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
          const row = statements.getApproval.get(request.runId, request.stepIndex);
          if (!row) throw new Error(`the approval of step ${request.stepIndex} was not written`);
          return approvalFromRow(row);
        }),
      );
    },
    getApproval(runId, stepIndex) {
      return guard('reading an approval', () => {
        const row = statements.getApproval.get(runId, stepIndex);
        return row ? approvalFromRow(row) : undefined;
      });
    },
    listApprovals(query = {}) {
      return guard('listing approvals', () =>
        statements.listApprovals
          .all({ run_id: query.runId ?? null, status: query.status ?? null })
          .map(approvalFromRow),
      );
    },
    expireApprovalDeadlines(at) {
      return guard('applying approval deadlines', () => expireDeadlines(at));
    },
    decideApproval(decision): Promise<DecisionResult> {
      return guard('deciding an approval', () => {
        // A write: it decides against the current state, passed deadlines applied first.
        expireDeadlines();
        return durably((): DecisionResult => {
          let row: ApprovalRow | undefined;
          if (decision.stepIndex === undefined) {
            const pending = statements.pendingApprovalsOfRun.all(decision.runId);
            if (pending.length > 1) {
              throw new UserError(
                'usage',
                `run ${decision.runId} has ${pending.length} approvals waiting (steps ${pending.map((item) => item.step_index).join(', ')}); name one with --step.`,
              );
            }
            row = pending[0] ?? statements.listApprovals.all({ run_id: decision.runId, status: null }).at(-1);
          } else {
            row = statements.getApproval.get(decision.runId, decision.stepIndex);
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
          const decided = statements.getApproval.get(row.run_id, row.step_index) ?? row;
          const approval = approvalFromRow(decided);
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
        statements.listAudit.all({ run_id: query.runId ?? null }).map(auditFromRow),
      );
    },
  };
}
