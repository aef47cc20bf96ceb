/**
 * The durable execution engine: the one interface between the agent loop and storage.
 *
 * It follows the model DBOS Transact uses on Postgres, so that a PostgreSQL engine can share the
 * same programming model. A run is a workflow. Each model call and tool call is a step with a
 * sequential index and a name, and a step's output is committed once. On replay, a committed
 * step returns its recorded output, and a different name at the same index is a
 * non-determinism error. The final result is written only while the run is still open. Every
 * method is asynchronous, so that a networked database can implement it. `sqlite-engine.ts` is
 * the embedded implementation.
 *
 * Runs have an owner: the executor (a process) that executes them, holding a lease it renews by
 * heartbeat. A run whose owner's lease has expired can be claimed by another executor; that is
 * how the runs of a dead process are recovered, and why two processes never execute one run.
 */
import type { JsonValue, Usage } from '../models/spec.js';

/** Version of the stored format. History of changes: docs/journal-format.md. */
export const engineSchemaVersion = 4;

/**
 * - `pending`: started and not finished: running now, or interrupted and resumable.
 * - `waiting`: paused until a person approves or denies a tool call; no process needs to run.
 * - `completed`: produced its final output.
 * - `stopped`: ended by a limit (steps, tokens, cost, time, a repeated call) with a partial result.
 * - `failed`: ended by an error (e.g. a rejected API key); can be resumed once the cause is fixed.
 */
export type RunStatus = 'pending' | 'waiting' | 'completed' | 'stopped' | 'failed';

/** Statuses of a run that has not ended. */
export const openRunStatuses: readonly RunStatus[] = ['pending', 'waiting'];

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
  /** Who the run is for (an API key, a customer), for cost roll-ups and budgets. */
  tenant: string | undefined;
  /** The run that started this one (a sub-agent), for cost roll-ups. */
  parentRunId: string | undefined;
  /** Executor that holds the run, and until when (ms since epoch). */
  owner: string | undefined;
  leaseExpiresAt: number | undefined;
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
  /** For model steps: the calls' cost per model used, written to the cost ledger with the step. */
  ledger?: LedgerEntry[] | undefined;
}

/** One model's share of a step: the unit of the cost ledger. */
export interface LedgerEntry {
  /** `provider:modelId`. */
  model: string;
  usage: Usage;
  /** Undefined when the price or the token counts are unknown. */
  costUsd: number | undefined;
}

export type CostGrouping = 'model' | 'agent' | 'day' | 'run' | 'tenant';

/** One line of a cost report. */
export interface CostReportRow {
  /** The model, agent, day (YYYY-MM-DD, UTC), run id (child runs included) or tenant. */
  key: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number;
  /** Calls whose cost is unknown: `costUsd` is then a lower bound. */
  unpricedCalls: number;
}

/** A limit on spend, for one scope. */
export interface BudgetScope {
  /** What is limited: one run (with its child runs), an agent, a tenant, or everything. */
  scope: 'run' | 'agent' | 'tenant' | 'global';
  /** The run id, agent name or tenant; ignored for `global`. */
  key: string;
  /** Spend counted since this time (ms since epoch): e.g. the start of the day; 0 for all time. */
  since: number;
  limitUsd: number;
}

export interface BudgetReservationRequest {
  runId: string;
  stepIndex: number;
  amountUsd: number;
  budgets: BudgetScope[];
  /** Reservations of a dead process stop counting after this long (ms). */
  ttlMs: number;
}

export type BudgetReservation =
  | { ok: true; id: string }
  | {
      ok: false;
      /** The budget the call would pass. */
      budget: BudgetScope;
      spentUsd: number;
      reservedUsd: number;
    };

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

export type ApprovalStatus = 'pending' | 'approved' | 'denied';

/** A tool call that waits for a person's decision. One per (run, step). */
export interface ApprovalRecord {
  runId: string;
  stepIndex: number;
  toolName: string;
  input: JsonValue;
  /** SHA-256 of the tool name and input the decision is about. */
  inputDigest: string;
  /** Why approval is needed, e.g. the policy that asked. */
  reason: string;
  status: ApprovalStatus;
  /** After this time (ms since epoch) the default outcome applies; undefined: no deadline. */
  deadline: number | undefined;
  defaultOutcome: 'approve' | 'deny';
  decidedBy: string | undefined;
  decidedAt: number | undefined;
  /** The decider's note or reason. */
  note: string | undefined;
  requestedAt: number;
}

export type AuditAction =
  | 'approval-requested'
  | 'approved'
  | 'denied'
  | 'decision-ignored'
  | 'policy-denied'
  /** An approved call was not run: a budget covering its run was spent while it waited. */
  | 'budget-refused';

/** One line of the append-only audit log. */
export interface AuditEntry {
  id: number;
  runId: string;
  stepIndex: number | undefined;
  action: AuditAction;
  /** Who: a person's name, `policy`, or `system` (a deadline's default outcome). */
  actor: string;
  at: number;
  toolName: string | undefined;
  inputDigest: string | undefined;
  /** The run's known cost when the entry was written. */
  costUsdSoFar: number;
  note: string | undefined;
}

export interface NewRun {
  id: string;
  agentName: string;
  model: string;
  input: string;
  spec: JsonValue;
  workspace?: string | undefined;
  tenant?: string | undefined;
  parentRunId?: string | undefined;
  /** Create the run with no owner, for a worker to take (`takeRuns`); default: owned by this executor. */
  queued?: boolean | undefined;
}

export interface RunOutcome {
  status: 'completed' | 'stopped' | 'failed';
  stopReason: string;
  output: JsonValue | undefined;
  error?: string | undefined;
}

/** A run that already ended, recorded whole: e.g. one call through the gateway. */
export interface FinishedRun {
  run: NewRun;
  steps: StepRecord[];
  outcome: RunOutcome;
}

export interface ApprovalRequest {
  runId: string;
  stepIndex: number;
  toolName: string;
  input: JsonValue;
  inputDigest: string;
  reason: string;
  deadline?: number | undefined;
  defaultOutcome?: 'approve' | 'deny';
}

export interface ApprovalDecision {
  runId: string;
  /** The step to decide; undefined: the run's only pending approval. */
  stepIndex?: number | undefined;
  outcome: 'approve' | 'deny';
  actor: string;
  note?: string | undefined;
}

export type DecisionResult =
  | { kind: 'applied'; approval: ApprovalRecord }
  /** The approval was already decided: this decision is ignored (and audited as such). */
  | { kind: 'ignored'; approval: ApprovalRecord };

/** Runs and their leases: creating, finishing, claiming and taking runs; child runs; the shared queue. */
export interface RunJournal {
  /** Id of this process as an executor. */
  readonly executorId: string;

  /** Create a run owned by this executor. */
  createRun(run: NewRun): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(query?: {
    limit?: number;
    status?: RunStatus;
    /** Only this tenant's runs. */
    tenant?: string;
    /** Only runs of this agent. */
    agentName?: string;
    /** Leave out runs of this agent (e.g. `gateway`, one run per gateway call). */
    excludeAgentName?: string;
  }): Promise<RunRecord[]>;
  /** The runs started by `runId` (its direct children: delegated tasks), oldest first. */
  listChildRuns(runId: string): Promise<RunRecord[]>;
  /**
   * Record runs that already ended, each with its steps (and their ledger rows), in one
   * transaction: how a server records a batch of gateway calls for the cost ledger. With
   * `durable: true` (default) it resolves once they are on disk (group commit); with `false` they
   * survive the process being killed at once, and reach the disk with the next `sync()`.
   * Optional: without it, callers create, commit and finish each run.
   */
  recordFinishedRuns?(runs: FinishedRun[], options?: { durable?: boolean }): Promise<void>;
  /** Record the final outcome, durably, and release the run. Only an open run finishes; false otherwise. */
  finishRun(runId: string, outcome: RunOutcome): Promise<boolean>;
  /** Mark an open run as waiting for an approval (and release it), or pending again. */
  setRunStatus(runId: string, status: 'pending' | 'waiting'): Promise<void>;
  /** Put a failed or stopped run back to pending so it can be resumed. */
  reopenRun(runId: string): Promise<void>;

  /**
   * Take ownership of an open run: succeeds when nobody owns it, this executor already does, or
   * the owner's lease has expired. Atomic: of two executors claiming at once, one wins.
   */
  claimRun(runId: string): Promise<boolean>;
  releaseRun(runId: string): Promise<void>;
  /** Renew the leases of the runs this executor owns. */
  heartbeat(): Promise<void>;
  /**
   * Open runs another executor could take now: pending runs with no live owner, and waiting
   * runs whose approvals are all decided or past their deadline.
   */
  recoverableRuns(query?: { limit?: number }): Promise<RunRecord[]>;
  /**
   * Claim up to `limit` of the runs `recoverableRuns` would list, oldest first, in one atomic
   * step: the shared queue of workers. Runs other executors are claiming at the same moment are
   * skipped, not waited for. With `perTenant`, a run is taken only while fewer than that many
   * runs of its tenant are owned by live executors (all executors together).
   */
  takeRuns(query: { limit: number; perTenant?: number | undefined }): Promise<RunRecord[]>;
}

/** The step journal: committed steps, replayed on resume, and their totals. */
export interface StepJournal {
  listSteps(runId: string): Promise<StepRecord[]>;
  totals(runId: string): Promise<RunTotals>;
  /**
   * Commit a step's output once. Resolves with the stored record: the given one, or the one
   * already committed at that index (the first commit wins). Rejects with a `LeaseLostError`
   * when this executor no longer owns the run. The write survives the process being killed at
   * once. Under `durability: 'power'`, with `durable: true` it is also on disk before this
   * resolves, otherwise it becomes so with the next durable write or `sync()`; under `process`
   * (the default) `durable` and `sync()` wait for no disk (docs/durability.md).
   */
  commitStep(step: StepRecord, options?: { durable?: boolean }): Promise<StepRecord>;
  /** Make every write so far durable on disk (under `power`; nothing to wait for under `process`). */
  sync(): Promise<void>;
}

/** Approvals asked of a person, and the append-only audit log of every decision. */
export interface ApprovalJournal {
  /** Ask for a decision on a tool call; asking again for the same step returns the first request. */
  requestApproval(request: ApprovalRequest): Promise<ApprovalRecord>;
  /** Read an approval. A read never writes: a passed deadline shows once `expireApprovalDeadlines` ran. */
  getApproval(runId: string, stepIndex: number): Promise<ApprovalRecord | undefined>;
  listApprovals(query?: { runId?: string; status?: ApprovalStatus }): Promise<ApprovalRecord[]>;
  /**
   * Apply the default outcome of every pending approval whose deadline is at or before `now`
   * (default: the journal's clock), decided by `system` and audited; resolves with how many.
   * Called by whoever acts on approvals: the loop waiting for a decision, the worker and
   * recovery before they look for runs to take.
   */
  expireApprovalDeadlines(now?: number): Promise<number>;
  /** Decide an approval once; a later decision on the same approval is ignored. */
  decideApproval(decision: ApprovalDecision): Promise<DecisionResult>;
  /** Append a line to the audit log. */
  audit(entry: Omit<AuditEntry, 'id' | 'at' | 'costUsdSoFar'>): Promise<void>;
  listAudit(query?: { runId?: string }): Promise<AuditEntry[]>;
}

/** The spend ledger (written with each model step), cost reports and budget reservations. */
export interface SpendLedger {
  /** Spend grouped by model, agent, day, run (with child runs) or tenant, since a time. */
  costReport(query: {
    by: CostGrouping;
    since?: number;
    runId?: string;
    /** Only the spend of this tenant's runs. */
    tenant?: string;
  }): Promise<CostReportRow[]>;
  /** Spend of a budget's scope since its start, from the ledger. */
  spentUsd(budget: BudgetScope): Promise<number>;
  /**
   * Reserve `amountUsd` against every budget at once, atomically: refused when spend plus live
   * reservations plus this amount would pass any of them. Parallel calls under one budget thus
   * cannot overshoot it by more than one call's estimate.
   */
  reserveBudget(request: BudgetReservationRequest): Promise<BudgetReservation>;
  releaseReservation(id: string): Promise<void>;
}

/** Files runs produced. */
export interface ArtifactJournal {
  recordArtifact(artifact: ArtifactRecord): Promise<void>;
  listArtifacts(runId: string): Promise<ArtifactRecord[]>;
}

/** Whether a run's result was right, as a person or a system said after it ended. One per run. */
export interface RunFeedback {
  runId: string;
  /** True: the result solved the task; false: it did not. */
  solved: boolean;
  note: string | undefined;
  /** Who said so: a person's name, or an API key's name. */
  actor: string;
  /** When (ms since epoch). */
  at: number;
}

/** Outcome feedback on runs: the correctness labels a router learns from (`hataraku routes train --from ledger`). */
export interface FeedbackJournal {
  /**
   * Record whether a run's result was right; a later call for the same run replaces the earlier
   * one (the last word counts). Resolves with the stored record, or undefined when there is no
   * such run.
   */
  recordFeedback(
    runId: string,
    feedback: { solved: boolean; note?: string | undefined; actor: string },
  ): Promise<RunFeedback | undefined>;
  getFeedback(runId: string): Promise<RunFeedback | undefined>;
  /**
   * Feedback recorded at or after `since` (ms since epoch; default all), oldest first; with
   * `newest`, one page of it newest first: the `limit` newest entries older than `before` (the
   * last entry of the previous page), so that a long history is read a page at a time.
   */
  listFeedback(query?: {
    since?: number;
    newest?: { limit: number; before?: Pick<RunFeedback, 'at' | 'runId'> | undefined };
  }): Promise<RunFeedback[]>;
}

/**
 * A signed-in console session, as the journal keeps it: never the session token (the cookie's
 * value) nor the API key, only the token's SHA-256, the CSRF token's SHA-256 and the key's public
 * id, which the server checks again on every request (a revoked key ends the session at once).
 */
export interface ConsoleSessionRecord {
  /** SHA-256 (hex) of the session token. */
  tokenSha256: string;
  /** SHA-256 (hex) of the session's CSRF token. */
  csrfSha256: string;
  /** Public id of the API key the session acts as. */
  keyId: string;
  createdAt: number;
  /** When a request last used the session (ms since epoch; updated at most about once a minute). */
  lastSeenAt: number;
  /** The session ends at this time unless used before (idle expiry; never after `expiresAt`). */
  idleExpiresAt: number;
  /** The session ends at this time however much it is used (absolute expiry). */
  expiresAt: number;
}

/**
 * Console sessions, kept in the journal so that they outlive a server restart and every server
 * on one journal shares them. Policy (lifetimes, revocation) is the server's; this only stores.
 */
export interface ConsoleSessionJournal {
  createConsoleSession(session: ConsoleSessionRecord): Promise<void>;
  /** The session whose token hashes to `tokenSha256`, expired or not; undefined when there is none. */
  getConsoleSession(tokenSha256: string): Promise<ConsoleSessionRecord | undefined>;
  /** Record a use: set `lastSeenAt` and push `idleExpiresAt` back (capped at the absolute expiry). */
  touchConsoleSession(tokenSha256: string, seen: { lastSeenAt: number; idleExpiresAt: number }): Promise<void>;
  /** Delete a session (sign-out); false when there was none. */
  deleteConsoleSession(tokenSha256: string): Promise<boolean>;
  /** Delete every session of a key (the key was revoked); resolves with how many. */
  deleteConsoleSessionsOfKey(keyId: string): Promise<number>;
  /** Delete the sessions expired at `now` (idle or absolute); resolves with how many. */
  purgeConsoleSessions(now: number): Promise<number>;
}

/**
 * The journal as a whole: each part is a small interface over one database handle (see
 * `sqlite/` and `postgres/`, one file per part). Callers that need only one part can take that
 * interface.
 */
export interface Engine
  extends RunJournal,
    StepJournal,
    ApprovalJournal,
    SpendLedger,
    ArtifactJournal,
    FeedbackJournal,
    ConsoleSessionJournal {
  close(): Promise<void>;
}
