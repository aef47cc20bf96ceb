/** Rows of the SQLite engine's tables and their conversion to the engine's records. */
import type { JsonValue, Usage } from '../../models/spec.js';
import type {
  ApprovalRecord,
  ApprovalStatus,
  ArtifactRecord,
  AuditAction,
  AuditEntry,
  RunRecord,
  RunStatus,
  StepRecord,
} from '../engine.js';

export interface RunRow {
  id: string;
  agent_name: string;
  model: string;
  input: string;
  spec: string;
  status: RunStatus;
  stop_reason: string | null;
  output: string | null;
  error: string | null;
  workspace: string | null;
  tenant: string | null;
  parent_run_id: string | null;
  owner: string | null;
  lease_expires_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface StepRow {
  run_id: string;
  step_index: number;
  name: string;
  kind: 'model' | 'tool';
  request_digest: string;
  output: string;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  cost_usd: number | null;
  started_at: number;
  finished_at: number;
}

export interface ArtifactRow {
  run_id: string;
  path: string;
  step_index: number;
  media_type: string;
  description: string | null;
  created_at: number;
}

export interface ApprovalRow {
  run_id: string;
  step_index: number;
  tool_name: string;
  input: string;
  input_digest: string;
  reason: string;
  status: ApprovalStatus;
  deadline: number | null;
  default_outcome: 'approve' | 'deny';
  decided_by: string | null;
  decided_at: number | null;
  note: string | null;
  requested_at: number;
}

export interface AuditRow {
  id: number;
  run_id: string;
  step_index: number | null;
  action: AuditAction;
  actor: string;
  at: number;
  tool_name: string | null;
  input_digest: string | null;
  cost_usd_so_far: number;
  note: string | null;
}

function parseJson(text: string | null): JsonValue | undefined {
  return text === null ? undefined : (JSON.parse(text) as JsonValue);
}

export function runFromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    agentName: row.agent_name,
    model: row.model,
    input: row.input,
    spec: JSON.parse(row.spec) as JsonValue,
    status: row.status,
    stopReason: row.stop_reason ?? undefined,
    output: parseJson(row.output),
    error: row.error ?? undefined,
    workspace: row.workspace ?? undefined,
    tenant: row.tenant ?? undefined,
    parentRunId: row.parent_run_id ?? undefined,
    owner: row.owner ?? undefined,
    leaseExpiresAt: row.lease_expires_at ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function stepFromRow(row: StepRow): StepRecord {
  const usage: Usage | undefined =
    row.kind === 'model'
      ? {
          inputTokens: row.input_tokens ?? undefined,
          outputTokens: row.output_tokens ?? undefined,
          cachedInputTokens: row.cached_input_tokens ?? undefined,
          cacheWriteTokens: row.cache_write_tokens ?? undefined,
        }
      : undefined;
  return {
    runId: row.run_id,
    index: row.step_index,
    name: row.name,
    kind: row.kind,
    requestDigest: row.request_digest,
    output: JSON.parse(row.output) as JsonValue,
    model: row.model ?? undefined,
    usage,
    costUsd: row.cost_usd ?? undefined,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export function stepToRow(step: StepRecord): StepRow {
  return {
    run_id: step.runId,
    step_index: step.index,
    name: step.name,
    kind: step.kind,
    request_digest: step.requestDigest,
    output: JSON.stringify(step.output),
    model: step.model ?? null,
    input_tokens: step.usage?.inputTokens ?? null,
    output_tokens: step.usage?.outputTokens ?? null,
    cached_input_tokens: step.usage?.cachedInputTokens ?? null,
    cache_write_tokens: step.usage?.cacheWriteTokens ?? null,
    cost_usd: step.costUsd ?? null,
    started_at: step.startedAt,
    finished_at: step.finishedAt,
  };
}

export function artifactFromRow(row: ArtifactRow): ArtifactRecord {
  return {
    runId: row.run_id,
    stepIndex: row.step_index,
    path: row.path,
    mediaType: row.media_type,
    description: row.description ?? undefined,
    createdAt: row.created_at,
  };
}

export function approvalFromRow(row: ApprovalRow): ApprovalRecord {
  return {
    runId: row.run_id,
    stepIndex: row.step_index,
    toolName: row.tool_name,
    input: JSON.parse(row.input) as JsonValue,
    inputDigest: row.input_digest,
    reason: row.reason,
    status: row.status,
    deadline: row.deadline ?? undefined,
    defaultOutcome: row.default_outcome,
    decidedBy: row.decided_by ?? undefined,
    decidedAt: row.decided_at ?? undefined,
    note: row.note ?? undefined,
    requestedAt: row.requested_at,
  };
}

export function auditFromRow(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    runId: row.run_id,
    stepIndex: row.step_index ?? undefined,
    action: row.action,
    actor: row.actor,
    at: row.at,
    toolName: row.tool_name ?? undefined,
    inputDigest: row.input_digest ?? undefined,
    costUsdSoFar: row.cost_usd_so_far,
    note: row.note ?? undefined,
  };
}
