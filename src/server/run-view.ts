/** A run as the HTTP API shows it: the journal record, its totals, and the approvals it waits for. */
import type { Engine, RunRecord } from '../engine/engine.js';

export async function runView(engine: Engine, run: RunRecord) {
  const [totals, approvals] = await Promise.all([
    engine.totals(run.id),
    engine.listApprovals({ runId: run.id, status: 'pending' }),
  ]);
  return {
    id: run.id,
    agent: run.agentName,
    model: run.model,
    input: run.input,
    status: run.status,
    stopReason: run.stopReason ?? null,
    output: run.output ?? null,
    error: run.error ?? null,
    tenant: run.tenant ?? null,
    createdAt: new Date(run.createdAt).toISOString(),
    updatedAt: new Date(run.updatedAt).toISOString(),
    totals,
    pendingApprovals: approvals.map((approval) => ({
      stepIndex: approval.stepIndex,
      toolName: approval.toolName,
      input: approval.input,
      reason: approval.reason,
      deadline: approval.deadline === undefined ? null : new Date(approval.deadline).toISOString(),
    })),
  };
}
