/**
 * Child runs: a run starting other runs (delegated tasks) in the same journal, with ids derived
 * from its own id and the step that starts them, so a resumed parent finds its children again:
 * a finished child returns its recorded result, an unfinished one resumes from its own last
 * committed step, and one never started starts.
 *
 * One budget for the tree. A child's cost limit is a slice of what the parent has left, reserved
 * against the parent's run budget (which counts the whole tree's spend) for as long as the child
 * runs; the reservation is released when it ends, so what the child did not spend flows back.
 * Reservations are atomic, so no combination of parallel children passes the parent's limit.
 * Tokens and wall time are sliced the same way, in memory (one process owns the parent).
 */
import type { ApprovalRecord, ArtifactRecord, BudgetScope, Engine } from '../engine/engine.js';
import { HatarakuError } from '../errors.js';
import type { ChildRunsHandle } from '../tools/tool.js';
import type { Agent } from './agent.js';
import type { RunEvent, RunTotalsSnapshot } from './events.js';
import type { RunHandle, RunOptions, RunResult } from './run-types.js';

export interface ChildRunRequest {
  /** The parent's step that starts the child. */
  stepIndex: number;
  /** Tells apart several children of one step (the steps of a plan); none for one child. */
  key?: string;
  agent: Agent;
  input: string;
  /** The child's workspace directory (see `src/decomposition/workspace-view.ts`). */
  workspace: string | undefined;
  /** USD the parent asks for; capped by what is left of the parent's limit. */
  budgetUsd?: number | undefined;
}

/** How much of the parent's limits a child was given. */
export interface ChildSlice {
  costUsd: number | undefined;
  tokens: number | undefined;
  wallTimeMs: number | undefined;
}

export type ChildRunOutcome =
  | { kind: 'finished'; runId: string; result: RunResult; artifacts: ArtifactRecord[]; slice: ChildSlice }
  /** Not started: nothing is left of the parent's budget for it. */
  | { kind: 'refused'; runId: string; reason: string };

/** Thrown by a tool whose child run waits for a person: the parent waits with it. */
export class ChildRunWaitingError extends HatarakuError {
  readonly approvals: ApprovalRecord[];
  constructor(runId: string, approvals: ApprovalRecord[]) {
    super('approval_pending', `child run ${runId} waits for approval of ${approvals.length} tool call(s).`);
    this.approvals = approvals;
  }
}

export interface ChildRuns extends ChildRunsHandle {
  readonly parentRunId: string;
  readonly engine: Engine;
  /** The parent agent's limit on tool calls running at once (delegations in one turn share it). */
  readonly concurrency: number;
  /** Start, resume or read back the child run of `request`; rejects when the child fails. */
  start(request: ChildRunRequest): Promise<ChildRunOutcome>;
  /** Report progress of a multi-step delegation (a plan) on the parent's event stream. */
  publishPlan(stepIndex: number, steps: Array<{ id: string; status: string; runId: string | undefined }>): void;
}

/** The deterministic id of a child run: the parent's id, the step, and the key when there is one. */
export function childRunId(parentRunId: string, stepIndex: number, key?: string): string {
  return key === undefined ? `${parentRunId}.${stepIndex}` : `${parentRunId}.${stepIndex}.${key}`;
}

/** Smallest slice worth starting a child with (USD); below it the child is refused. */
const smallestSliceUsd = 1e-6;

export interface ChildRunsContext {
  engine: Engine;
  parentRunId: string;
  parentAgent: Agent;
  options: RunOptions;
  publish: (event: RunEvent) => void;
  /** The parent's own totals (its steps, without children). */
  parentTotals: () => RunTotalsSnapshot;
  /** When the parent's wall-time limit ends (ms since epoch), if it has one. */
  deadline: number | undefined;
  signal: AbortSignal;
  start: (agent: Agent, input: string, options: RunOptions) => RunHandle;
  resume: (agent: Agent, runId: string, options: RunOptions) => RunHandle;
}

/** Child-run starters made by `createChildRuns`, to tell them from other handles. */
const made = new WeakSet<ChildRunsHandle>();

/** The full child-run starter behind a tool context's handle; undefined outside a run. */
export function childRunsOf(handle: ChildRunsHandle | undefined): ChildRuns | undefined {
  return handle !== undefined && made.has(handle) ? (handle as ChildRuns) : undefined;
}

export function createChildRuns(context: ChildRunsContext): ChildRuns {
  const { engine, parentRunId, parentAgent } = context;
  const _limits = parentAgent.limits;
  // Tokens given to children still running in this process, and used by children that ended.
  // An even share is of what the parent had before its running children took their slices, so
  // siblings started one after another get equal slices (not a half, then a quarter...).
  const allocation: Allocation = { tokens: 0, costUsd: 0, childTokensUsed: undefined };
  const usedByChildren = async () => {
    allocation.childTokensUsed ??= (await treeTotalsOf(engine, parentRunId)).tokens - ownTokens(context.parentTotals());
    return allocation.childTokensUsed;
  };

  const childRuns: ChildRuns = {
    parentRunId,
    engine,
    concurrency: parentAgent.maxToolConcurrency,
    publishPlan(stepIndex, steps) {
      context.publish({ type: 'plan-update', runId: parentRunId, stepIndex, steps });
    },
    async start(request) {
      const runId = childRunId(parentRunId, request.stepIndex, request.key);
      const existing = await engine.getRun(runId);
      const childOptions = childOptionsOf(context);
      if (existing && (existing.status === 'completed' || existing.status === 'stopped')) {
        const result = await context.resume(request.agent, runId, childOptions).result;
        return { kind: 'finished', runId, result, artifacts: await engine.listArtifacts(runId), slice: noSlice };
      }

      // The cost slice: asked for (or an even share of what is left), capped by what is left.
      const cost = await reserveCostSlice(context, request, allocation);
      if (cost.kind === 'refused') return { kind: 'refused', runId, reason: cost.reason };
      const { reservation, costSlice } = cost;

      const tokens = await tokenSliceFor(context, request, allocation, usedByChildren);
      if (tokens.kind === 'refused') {
        if (reservation) await engine.releaseReservation(reservation);
        if (costSlice !== undefined) allocation.costUsd -= costSlice;
        return { kind: 'refused', runId, reason: tokens.reason };
      }
      const tokenSlice = tokens.tokens;
      const { sliced, wallTimeSlice } = slicedAgent(context, request.agent, costSlice, tokenSlice);
      try {
        const handle = existing
          ? context.resume(sliced, runId, childOptions)
          : context.start(sliced, request.input, {
              ...childOptions,
              runId,
              parentRunId,
              ...(request.workspace !== undefined ? { workspace: request.workspace } : {}),
            });
        const result = await handle.result;
        if (result.status === 'waiting') throw new ChildRunWaitingError(runId, result.approvals ?? []);
        return {
          kind: 'finished',
          runId,
          result,
          artifacts: await engine.listArtifacts(runId),
          slice: { costUsd: costSlice, tokens: tokenSlice, wallTimeMs: wallTimeSlice },
        };
      } finally {
        if (reservation) await engine.releaseReservation(reservation);
        if (costSlice !== undefined) allocation.costUsd -= costSlice;
        if (tokenSlice !== undefined) {
          allocation.tokens -= tokenSlice;
          allocation.childTokensUsed = undefined; // recounted from the journal, with this child's tokens
        }
      }
    },
  };
  made.add(childRuns);
  return childRuns;
}

/** What this process has handed out to children still running, and what ended children used. */
interface Allocation {
  tokens: number;
  costUsd: number;
  childTokensUsed: number | undefined;
}

/** The options a child run inherits from its parent's. */
function childOptionsOf(context: ChildRunsContext): RunOptions {
  const { options } = context;
  return {
    engine: context.engine,
    ...(options.prices ? { prices: options.prices } : {}),
    ...(options.resolveModel ? { resolveModel: options.resolveModel } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.approvalWait ? { approvalWait: options.approvalWait } : {}),
    ...(options.approvalPollMs !== undefined ? { approvalPollMs: options.approvalPollMs } : {}),
    ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
    ...(options.budgets ? { budgets: options.budgets } : {}),
    ...(options.context ? { context: options.context } : {}),
    signal: context.signal,
    // The child's events surface on the parent's stream (their runId says whose they are).
    onEvent: (event) => context.publish(event),
  };
}

/**
 * Reserve the child's cost slice against the parent's run budget: what it asks for, or an even
 * share of what is left, capped by what is left. Nothing to reserve without a cost limit.
 */
async function reserveCostSlice(
  context: ChildRunsContext,
  request: ChildRunRequest,
  allocation: Allocation,
): Promise<
  | { kind: 'reserved'; reservation: string | undefined; costSlice: number | undefined }
  | { kind: 'refused'; reason: string }
> {
  const { engine, parentRunId, parentAgent } = context;
  const limits = parentAgent.limits;
  if (limits.maxCostUsd === undefined) return { kind: 'reserved', reservation: undefined, costSlice: undefined };
  const scope: BudgetScope = { scope: 'run', key: parentRunId, since: 0, limitUsd: limits.maxCostUsd };
  // What is left: asking for an unbounded amount is always refused, and the refusal says
  // how much is spent and reserved (nothing is reserved by the probe itself).
  const room = async () => {
    const probe = await engine.reserveBudget({
      runId: parentRunId,
      stepIndex: request.stepIndex,
      amountUsd: Number.POSITIVE_INFINITY,
      budgets: [scope],
      ttlMs: 1,
    });
    return probe.ok ? Number.POSITIVE_INFINITY : scope.limitUsd - probe.spentUsd - probe.reservedUsd;
  };
  // Two tries: another child may take part of the room between the look and the reservation.
  for (let attempt = 0; attempt < 2; attempt++) {
    const left = await room();
    const wanted = request.budgetUsd ?? (left + allocation.costUsd) / parentAgent.maxToolConcurrency;
    const amount = Math.min(wanted, left, request.agent.limits.maxCostUsd ?? Number.POSITIVE_INFINITY);
    if (!(amount >= smallestSliceUsd)) break;
    const reserved = await engine.reserveBudget({
      runId: parentRunId,
      stepIndex: request.stepIndex,
      amountUsd: amount,
      budgets: [scope],
      ttlMs: Math.max(limits.maxWallTimeMs ?? 0, 60 * 60_000),
    });
    if (reserved.ok) {
      allocation.costUsd += amount;
      return { kind: 'reserved', reservation: reserved.id, costSlice: amount };
    }
  }
  return {
    kind: 'refused',
    reason: `nothing is left of the $${limits.maxCostUsd} budget for this task (spent or reserved by the run and its other delegated tasks).`,
  };
}

/** The child's token slice: an even share of what the parent has left, capped by what is left. */
async function tokenSliceFor(
  context: ChildRunsContext,
  request: ChildRunRequest,
  allocation: Allocation,
  usedByChildren: () => Promise<number>,
): Promise<{ kind: 'sliced'; tokens: number | undefined } | { kind: 'refused'; reason: string }> {
  const { limits, maxToolConcurrency } = context.parentAgent;
  if (limits.maxTokens === undefined) return { kind: 'sliced', tokens: undefined };
  const left = limits.maxTokens - ownTokens(context.parentTotals()) - (await usedByChildren()) - allocation.tokens;
  const tokens = Math.max(
    1,
    Math.floor(Math.min((left + allocation.tokens) / maxToolConcurrency, left, request.agent.limits.maxTokens ?? left)),
  );
  if (left < 1) return { kind: 'refused', reason: `nothing is left of the ${limits.maxTokens}-token limit.` };
  allocation.tokens += tokens;
  return { kind: 'sliced', tokens };
}

/** The child agent with its limits cut to its slices of the parent's (wall time: what is left of the parent's). */
function slicedAgent(
  context: ChildRunsContext,
  agent: Agent,
  costSlice: number | undefined,
  tokenSlice: number | undefined,
): { sliced: Agent; wallTimeSlice: number | undefined } {
  const wallTimeSlice =
    context.deadline === undefined
      ? agent.limits.maxWallTimeMs
      : Math.max(1, Math.min(context.deadline - Date.now(), agent.limits.maxWallTimeMs ?? Infinity));

  const sliced: Agent = {
    ...agent,
    limits: {
      ...agent.limits,
      ...(costSlice !== undefined ? { maxCostUsd: costSlice } : {}),
      ...(tokenSlice !== undefined ? { maxTokens: tokenSlice } : {}),
      ...(wallTimeSlice !== undefined ? { maxWallTimeMs: wallTimeSlice } : {}),
    },
  };
  return { sliced, wallTimeSlice };
}

const noSlice: ChildSlice = { costUsd: undefined, tokens: undefined, wallTimeMs: undefined };

function ownTokens(totals: RunTotalsSnapshot): number {
  return totals.inputTokens + totals.outputTokens;
}

/** Tokens and cost of a run and all its descendants, from the journal. */
export async function treeTotalsOf(engine: Engine, runId: string): Promise<{ tokens: number; costUsd: number }> {
  const own = await engine.totals(runId);
  let tokens = own.inputTokens + own.outputTokens;
  let costUsd = own.costUsd;
  for (const child of await engine.listChildRuns(runId)) {
    const below = await treeTotalsOf(engine, child.id);
    tokens += below.tokens;
    costUsd += below.costUsd;
  }
  return { tokens, costUsd };
}
