/**
 * The journal: the durable record of runs and their steps. Every model call and tool call of a
 * run is a step with a sequential index and a name; a step's output is committed once, and a
 * resumed run replays committed steps from here instead of executing them again.
 *
 * This is the plain interface; `sqlite-journal.ts` is the embedded implementation.
 */
import type { JsonValue, Usage } from '../models/spec.js';

/** Version of the stored format. History of changes: docs/journal-format.md. */
export const journalSchemaVersion = 1;

/**
 * - `pending`: started and not finished: running now, or interrupted and resumable.
 * - `completed`: produced its final output.
 * - `stopped`: ended by a limit (steps, tokens, cost, time, a repeated call) with a partial result.
 * - `failed`: ended by an error (e.g. a rejected API key); can be resumed once the cause is fixed.
 */
export type RunStatus = 'pending' | 'completed' | 'stopped' | 'failed';

export interface RunRecord {
  id: string;
  agentName: string;
  /** Model name as configured, e.g. `openai:gpt-4o-mini`. */
  model: string;
  /** The task given to the run. */
  input: string;
  /** What is needed to rebuild the agent on resume (instructions, tool names, limits). */
  spec: JsonValue;
  status: RunStatus;
  /** Why the run ended, e.g. `final-answer`, `max-steps`, `budget-exceeded`. */
  stopReason: string | undefined;
  output: JsonValue | undefined;
  error: string | undefined;
  workspace: string | undefined;
  createdAt: number;
  updatedAt: number;
}

export type StepKind = 'model' | 'tool';

export interface StepRecord {
  runId: string;
  /** 0-based, sequential within the run. */
  index: number;
  /** `model` or `tool:<name>`; must match on replay. */
  name: string;
  kind: StepKind;
  /** SHA-256 of the canonical request (model request, or tool name and arguments). */
  requestDigest: string;
  output: JsonValue;
  /** Model name for model steps. */
  model: string | undefined;
  usage: Usage | undefined;
  /** USD; undefined when the price or the token counts are unknown. */
  costUsd: number | undefined;
  startedAt: number;
  finishedAt: number;
}

export interface RunTotals {
  steps: number;
  modelCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Sum of the known step costs. */
  costUsd: number;
  /** Model steps whose cost is unknown: the total is then a lower bound. */
  unpricedModelCalls: number;
}

/** A file a run produced (a chart, a report), kept in its workspace. */
export interface ArtifactRecord {
  runId: string;
  /** Step that produced it. */
  stepIndex: number;
  /** Path relative to the run's workspace. */
  path: string;
  mediaType: string;
  description: string | undefined;
  createdAt: number;
}

export interface NewRun {
  id: string;
  agentName: string;
  model: string;
  input: string;
  spec: JsonValue;
  workspace?: string | undefined;
}

export interface RunOutcome {
  status: Exclude<RunStatus, 'pending'>;
  stopReason: string;
  output: JsonValue | undefined;
  error?: string | undefined;
}

export interface Journal {
  createRun(run: NewRun): RunRecord;
  getRun(runId: string): RunRecord | undefined;
  listRuns(query?: { limit?: number; status?: RunStatus }): RunRecord[];
  getStep(runId: string, index: number): StepRecord | undefined;
  listSteps(runId: string): StepRecord[];
  totals(runId: string): RunTotals;
  /**
   * Commit a step's output once. Returns the stored record: the given one, or the one already
   * committed at that index (the first commit wins). The write survives the process being
   * killed at once; with `durable: true` it is also on disk (fsync) before this returns,
   * otherwise it becomes so with the next durable write or `sync()`.
   */
  commitStep(step: StepRecord, options?: { durable?: boolean }): StepRecord;
  /** Make every write so far durable on disk (one fsync for all of them). */
  sync(): void;
  /** Record the final outcome. Only a pending run can finish; returns false otherwise. */
  finishRun(runId: string, outcome: RunOutcome): boolean;
  /** Record an artifact; recording the same path again replaces the earlier record. */
  recordArtifact(artifact: ArtifactRecord): void;
  listArtifacts(runId: string): ArtifactRecord[];
  /** Put a failed or stopped run back to pending so it can be resumed. */
  reopenRun(runId: string): void;
  close(): void;
}
