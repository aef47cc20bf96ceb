/**
 * Executing the tool calls of one model turn as durable steps. Each call is prepared (name
 * resolved, arguments parsed, validated and repaired), checked against the repeat limit and the
 * tool policies, then run concurrently under the agent's limit. Bad calls never throw: they
 * become tool results that tell the model what to fix. A call that needs a person's approval
 * does not run until it has one; the turn then reports the approvals it waits for.
 */

import { canonicalJson, digestOf } from '../engine/digest.js';
import type { ApprovalRecord, BudgetScope, Engine } from '../engine/engine.js';
import type { JsonValue, ToolCallPart, ToolResultMessage } from '../models/spec.js';
import { mapWithExclusive } from '../tools/concurrency.js';
import { type PreparedToolCall, prepareToolCall } from '../tools/prepare-call.js';
import type { RunResources, Tool } from '../tools/tool.js';
import { type ChildRuns, ChildRunWaitingError } from './child-runs.js';
import type { StepRecorder } from './durable-step.js';
import type { RunEvent } from './events.js';
import { oneErrorForParallelFailures } from './parallel-failures.js';
import { decideToolCall, type ToolPolicy } from './policy.js';

/** What a tool step stores in the journal. */
export interface ToolStepOutput {
  [key: string]: JsonValue;
  ok: boolean;
  /** The text the model sees as the tool result. */
  content: string;
  toolName: string;
  input: JsonValue;
  repairs: string[];
}

export interface ToolTurnContext {
  engine: Engine;
  recorder: StepRecorder;
  runId: string;
  tools: readonly Tool[];
  policies: readonly ToolPolicy[];
  workspace: string | undefined;
  concurrency: number;
  signal: AbortSignal;
  publish: (event: RunEvent) => void;
  /** Identical calls allowed; counts are kept across the run in `callCounts`. */
  maxIdenticalCalls: number;
  callCounts: Map<string, number>;
  /** Most characters of one tool result shown to the model. */
  maxResultCharacters: number;
  runResources: RunResources;
  /**
   * The budgets covering the run (shared ones, and the run's own cost limit). An approved call is
   * checked against them before it runs: the budget may have been spent while it waited.
   */
  budgets?: readonly BudgetScope[];
  /** Starts child runs for tools that delegate (`delegate`, `plan_and_run`). */
  childRuns?: ChildRuns;
}

export type ToolTurnResult =
  | { kind: 'results'; messages: ToolResultMessage[] }
  | { kind: 'repeated'; toolName: string }
  /** Some calls wait for a decision; the others have run and are committed. */
  | { kind: 'waiting'; approvals: ApprovalRecord[] };

/** What to do with one call before it becomes a step. */
type CallPlan =
  | { kind: 'execute' }
  | { kind: 'answer'; ok: false; content: string }
  | { kind: 'wait'; approval: ApprovalRecord };

/** A call with what preparing it found. */
interface PreparedCall {
  call: ToolCallPart;
  preparation: PreparedToolCall;
}

/** Run `calls` as steps `firstIndex`, `firstIndex + 1`, ... in call order. */
export async function runToolTurn(
  context: ToolTurnContext,
  calls: ToolCallPart[],
  firstIndex: number,
): Promise<ToolTurnResult> {
  const prepared: PreparedCall[] = calls.map((call) => ({
    call,
    preparation: prepareToolCall([...context.tools], call),
  }));
  const repeats = countRepeats(context, prepared);
  if (repeats.kind === 'repeated') return repeats;
  const plans = await Promise.all(
    prepared.map(({ preparation }, position) =>
      planCall(context, preparation, repeats.refusals.get(position), firstIndex + position),
    ),
  );

  // Durability barrier: a tool that changes the world must not act on a step that a power cut
  // could still take back, so everything committed so far is made durable first.
  const effectful = (position: number) => {
    const preparation = prepared[position]?.preparation;
    return preparation?.status === 'ready' && preparation.tool.effect !== 'none' && plans[position]?.kind === 'execute';
  };
  if (prepared.some((_, position) => effectful(position) && !context.recorder.isCommitted(firstIndex + position))) {
    await context.recorder.sync();
  }

  const waiting: ApprovalRecord[] = [];
  // A tool marked `exclusive` (code.run) runs alone: nothing else of the run interleaves with it.
  const schedule = {
    limit: context.concurrency,
    isExclusive: ({ preparation }: PreparedCall) =>
      preparation.status === 'ready' && preparation.tool.exclusive === true,
  };
  const messages = await mapWithExclusive(prepared, schedule, async (entry, position) => {
    const plan = plans[position] as CallPlan;
    if (plan.kind === 'wait') {
      waiting.push(plan.approval);
      return undefined;
    }
    try {
      return await runCallStep(context, entry, plan, firstIndex + position, effectful(position));
    } catch (error) {
      // A delegated task waits for a person: this call is not committed, and the turn waits.
      if (!(error instanceof ChildRunWaitingError)) throw error;
      waiting.push(...error.approvals);
      return undefined;
    }
  }).catch((error: unknown) => {
    throw oneErrorForParallelFailures(error);
  });
  if (waiting.length > 0) return { kind: 'waiting', approvals: waiting };
  for (const [signature, count] of repeats.callCounts) context.callCounts.set(signature, count);
  return { kind: 'results', messages: messages.filter((message) => message !== undefined) };
}

/**
 * Count identical calls (same tool, same arguments) across the run. Past the limit a call is
 * refused with a message to the model; one more stops the run. Counted on a copy: a turn that
 * ends up waiting for an approval is counted when it runs.
 */
function countRepeats(
  context: ToolTurnContext,
  prepared: PreparedCall[],
):
  | { kind: 'repeated'; toolName: string }
  | { kind: 'counted'; refusals: Map<number, string>; callCounts: Map<string, number> } {
  const callCounts = new Map(context.callCounts);
  const refusals = new Map<number, string>();
  for (const [position, { call, preparation }] of prepared.entries()) {
    const toolName = preparation.status === 'ready' ? preparation.tool.name : preparation.toolName;
    const signature = `${toolName}\u0000${preparation.status === 'ready' ? canonicalJson(preparation.input) : call.arguments}`;
    const count = (callCounts.get(signature) ?? 0) + 1;
    callCounts.set(signature, count);
    if (count > context.maxIdenticalCalls + 1) return { kind: 'repeated', toolName };
    if (count > context.maxIdenticalCalls) {
      refusals.set(
        position,
        `Not run: ${toolName} was already called ${context.maxIdenticalCalls} times with these same arguments, and the result will not change. Use the earlier results, try different arguments, or give your final answer.`,
      );
    }
  }
  return { kind: 'counted', refusals, callCounts };
}

/** One call as durable step `index`: run (or answered at once) and committed, or read back from the journal. */
async function runCallStep(
  context: ToolTurnContext,
  { call, preparation }: PreparedCall,
  plan: Exclude<CallPlan, { kind: 'wait' }>,
  index: number,
  durable: boolean,
): Promise<ToolResultMessage> {
  const { runId, publish } = context;
  const toolName = preparation.status === 'ready' ? preparation.tool.name : preparation.toolName;
  const input: JsonValue =
    preparation.status === 'ready' ? ((preparation.input ?? null) as JsonValue) : (call.arguments as JsonValue);
  const repairs = preparation.repairs;
  const started = Date.now();
  const publishStart = (replayed: boolean, name: string, recorded: { input: JsonValue; repairs: string[] }) => {
    publish({ type: 'step-start', runId, index, kind: 'tool', name, replayed });
    const { input: shownInput, repairs: shownRepairs } = recorded;
    publish({
      type: 'tool-call-start',
      ...{ runId, stepIndex: index, toolCallId: call.id, toolName, replayed },
      ...{ input: shownInput, repairs: shownRepairs },
    });
  };
  const step = await context.recorder.step(
    { index, name: `tool:${toolName}`, kind: 'tool', requestDigest: digestOf({ toolName, input }) },
    async () => {
      publishStart(false, `tool:${toolName}`, { input, repairs });
      const output =
        plan.kind === 'answer'
          ? { ok: plan.ok, content: plan.content }
          : await executeCall(context, preparation, index, call.id);
      return { output: { ...output, toolName, input, repairs } };
    },
    { durable },
  );
  const output = step.record.output as ToolStepOutput;
  if (step.replayed) publishStart(true, step.record.name, output);
  const { replayed } = step;
  const durationMs = replayed ? step.record.finishedAt - step.record.startedAt : Date.now() - started;
  publish({
    type: 'tool-call-end',
    ...{ runId, stepIndex: index, toolCallId: call.id, toolName, output: output.content },
    ...{ isError: !output.ok, durationMs, replayed },
  });
  publish({ type: 'step-end', runId, index, kind: 'tool', durationMs, replayed });
  const message: ToolResultMessage = { role: 'tool', toolCallId: call.id, toolName, content: output.content };
  if (!output.ok) message.isError = true;
  return message;
}

/** Decide, before a call becomes a step, whether it runs, is answered at once, or waits for a person. */
async function planCall(
  context: ToolTurnContext,
  preparation: PreparedToolCall,
  refusal: string | undefined,
  index: number,
): Promise<CallPlan> {
  if (context.recorder.isCommitted(index)) return { kind: 'execute' }; // replayed as recorded
  if (preparation.status !== 'ready') return { kind: 'answer', ok: false, content: preparation.message };
  if (refusal !== undefined) return { kind: 'answer', ok: false, content: refusal };
  const tool = preparation.tool;
  const decision = decideToolCall(context.policies, tool, preparation.input);
  if (decision.action === 'allow') return { kind: 'execute' };
  const inputDigest = digestOf({ toolName: tool.name, input: preparation.input ?? null });
  if (decision.action === 'deny') {
    await context.engine.audit({
      runId: context.runId,
      stepIndex: index,
      action: 'policy-denied',
      actor: 'policy',
      toolName: tool.name,
      inputDigest,
      note: decision.reason,
    });
    return {
      kind: 'answer',
      ok: false,
      content: `Not run: ${tool.name} is not allowed here (${decision.reason}). Do the task another way or explain why it cannot be done.`,
    };
  }
  await context.engine.expireApprovalDeadlines();
  let approval = await context.engine.getApproval(context.runId, index);
  if (!approval) {
    approval = await context.engine.requestApproval({
      runId: context.runId,
      stepIndex: index,
      toolName: tool.name,
      input: (preparation.input ?? null) as JsonValue,
      inputDigest,
      reason: decision.reason,
      deadline: decision.policy?.deadlineMs === undefined ? undefined : Date.now() + decision.policy.deadlineMs,
      defaultOutcome: decision.policy?.defaultOutcome ?? 'deny',
    });
  }
  if (approval.status === 'pending') return { kind: 'wait', approval };
  if (approval.status === 'approved') {
    // While the call waited, other runs may have spent a budget it falls under.
    const spent = await spentBudget(context.engine, context.budgets ?? []);
    if (spent === undefined) return { kind: 'execute' };
    await context.engine.audit({
      runId: context.runId,
      stepIndex: index,
      action: 'budget-refused',
      actor: 'policy',
      toolName: tool.name,
      inputDigest,
      note: spent,
    });
    return {
      kind: 'answer',
      ok: false,
      content: `Not run: ${tool.name} was approved, but ${spent}. Do not retry it.`,
    };
  }
  const by = approval.decidedBy === 'system' ? 'its deadline passed' : `denied by ${approval.decidedBy ?? 'a person'}`;
  return {
    kind: 'answer',
    ok: false,
    content: `Not run: ${tool.name} needed approval and was ${by === 'its deadline passed' ? 'not approved before its deadline' : by}${approval.note ? `: ${approval.note}` : ''}. Do not retry it; continue without it or explain what is blocked.`,
  };
}

/** Words for the first budget in `budgets` that is already spent, if one is. */
async function spentBudget(engine: Engine, budgets: readonly BudgetScope[]): Promise<string | undefined> {
  for (const budget of budgets) {
    const spentUsd = await engine.spentUsd(budget);
    if (spentUsd >= budget.limitUsd) {
      const name = budget.scope === 'global' ? 'the global budget' : `the ${budget.scope} budget ${budget.key}`;
      return `${name} of $${budget.limitUsd} is spent ($${spentUsd.toFixed(6)}) since it was asked for`;
    }
  }
  return undefined;
}

async function executeCall(
  context: ToolTurnContext,
  preparation: PreparedToolCall,
  index: number,
  toolCallId: string,
): Promise<{ ok: boolean; content: string }> {
  if (preparation.status !== 'ready') return { ok: false, content: preparation.message };
  try {
    const result = await preparation.tool.execute(preparation.input as never, {
      runId: context.runId,
      stepIndex: index,
      idempotencyKey: `${context.runId}:${index}`,
      toolCallId,
      abortSignal: context.signal,
      workspace: context.workspace,
      runResources: context.runResources,
      ...(context.childRuns ? { childRuns: context.childRuns } : {}),
      recordArtifact: (artifact) => {
        void context.engine.recordArtifact({
          runId: context.runId,
          stepIndex: index,
          path: artifact.path,
          mediaType: artifact.mediaType,
          description: artifact.description,
          createdAt: Date.now(),
        });
      },
    });
    return { ok: true, content: capText(resultText(result), context.maxResultCharacters) };
  } catch (error) {
    if (context.signal.aborted || error instanceof ChildRunWaitingError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, content: `Error from ${preparation.tool.name}: ${reason}` };
  }
}

function resultText(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result === undefined) return 'done';
  try {
    return JSON.stringify(result);
  } catch {
    return String(result);
  }
}

function capText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}\n[truncated: showing ${limit} of ${text.length} characters]`;
}
