/// <reference lib="dom" />
/**
 * The Runs API's answers as the console reads them: runs, steps, approvals and live events.
 * Everything in them that a run produced is hostile text.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface Totals {
  steps: number;
  modelCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}
export interface PendingApproval {
  stepIndex: number;
  toolName: string;
  input: Json;
  reason: string;
}
export interface Run {
  id: string;
  agent: string;
  model: string;
  input: string;
  status: string;
  stopReason: string | null;
  output: Json;
  error: string | null;
  tenant: string | null;
  createdAt: string;
  updatedAt: string;
  totals: Totals;
  pendingApprovals: PendingApproval[];
}
export interface Step {
  index: number;
  name: string;
  kind: 'model' | 'tool';
  output: Json;
  model?: string;
  usage?: { inputTokens?: number; outputTokens?: number };
  costUsd?: number;
  startedAt: number;
  finishedAt: number;
}
export interface Approval extends PendingApproval {
  runId: string;
  agent: string;
  status: string;
  requestedAt: string;
  decidedBy: string | null;
  note: string | null;
}
export interface RunEvent {
  type: string;
  stepIndex?: number;
  index?: number;
  [key: string]: Json | undefined;
}
