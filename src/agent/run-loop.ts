/**
 * The loop of a run, as phases. `executeRun` sets the run up, then switches on the `NextStep`
 * each phase returns: the model turn (`model-turn.ts`) says whether to call the model again, run
 * tool calls or finish; the tool turn says whether to call the model again, wait for a person,
 * or stop. Every way out goes through `endRun` (`run-end.ts`).
 */
import { createConversationDigest } from '../engine/digest.js';
import type { BudgetScope, Engine, RunRecord } from '../engine/engine.js';
import { UserError } from '../errors.js';
import { modelLabel } from '../models/model-label.js';
import type { Model, ModelMessage, ToolCallPart } from '../models/spec.js';
import { createRunResources, type DisposableRunResources } from '../tools/run-resources.js';
import type { Agent } from './agent.js';
import { waitForDecisions } from './approval-wait.js';
import { attachmentsFromSpec, userMessageWith } from './attachments.js';
import { createChildRuns } from './child-runs.js';
import { createStepRecorder, type StepRecorder } from './durable-step.js';
import type { RunEvent } from './events.js';
import { modelTurn } from './model-turn.js';
import { planCallCosts } from './run-costs.js';
import { endRun, publishApprovals, type RunEndContext, recordedResult } from './run-end.js';
import { createRunLimits } from './run-limits.js';
import { requestShapeFor } from './run-request.js';
import { type NextStep, type RunLoop, stopped } from './run-state.js';
import type { RunOptions, RunResult, RunStarters } from './run-types.js';
import { runToolTurn, type ToolTurnContext } from './tool-step.js';

export interface RunContext {
  agent: Agent;
  record: RunRecord;
  engine: Engine;
  options: RunOptions;
  publish: (event: RunEvent) => void;
  starters: RunStarters;
}

export async function executeRun(context: RunContext): Promise<RunResult> {
  const { record, engine, publish } = context;
  if (record.status === 'completed' || record.status === 'stopped') {
    return recordedResult(engine, { ...record, status: record.status }, publish);
  }
  const { loop, wallTimer, wallTimeController } = await startLoop(context);
  // The error of an interrupted run, once its end is published (so it is not published again).
  let interruption: unknown;
  try {
    let next: NextStep = { kind: 'call-model' };
    for (;;) {
      switch (next.kind) {
        case 'call-model':
          next = await modelTurn(loop);
          break;
        case 'run-tools':
          next = await toolTurn(loop, next.calls);
          break;
        case 'finish':
          return await endRun(loop.ending, { ...next, kind: 'finished' });
        case 'wait-for-approval':
          return await endRun(loop.ending, { kind: 'waiting', approvals: next.approvals });
        case 'interrupted':
          interruption = await endRun(loop.ending, { kind: 'interrupted' });
          throw interruption;
      }
    }
  } catch (error) {
    if (interruption !== undefined && error === interruption) throw error;
    if (wallTimeController.signal.aborted && !context.options.signal?.aborted) {
      return await endRun(loop.ending, { ...stopped(loop, 'max-wall-time'), kind: 'finished' });
    }
    if (context.options.signal?.aborted) throw await endRun(loop.ending, { kind: 'interrupted' });
    throw await endRun(loop.ending, { kind: 'failed', error });
  } finally {
    if (wallTimer) clearTimeout(wallTimer);
    for (const error of await loop.runResources.disposeAll()) {
      publish({
        type: 'warning',
        runId: loop.runId,
        stepIndex: undefined,
        message: `disposing a run resource failed: ${String(error)}`,
      });
    }
  }
}

/** Set the run up: its model, journal recorder, conversation, limits, costs and tool turn. */
async function startLoop(
  context: RunContext,
): Promise<{ loop: RunLoop; wallTimer: NodeJS.Timeout | undefined; wallTimeController: AbortController }> {
  const { agent, record, engine, options, publish } = context;
  const runId = record.id;
  const model = resolveAgentModel(agent, options);
  const label = typeof agent.model === 'string' ? agent.model : modelLabel(model);
  const recorder = await createStepRecorder(engine, runId, options.faults ? { faults: options.faults } : {});
  const ending: RunEndContext = { engine, runId, publish, totals: () => recorder.totals() };
  publish({ type: 'run-start', runId, agentName: agent.name, model: label, resumed: recorder.resumed });
  // Problems `tool()` fixed in a definition (say, a schema default that breaks its own schema).
  for (const tool of agent.tools) {
    for (const message of tool.warnings ?? []) publish({ type: 'warning', runId, stepIndex: undefined, message });
  }
  const wallTimeController = new AbortController();
  const signal = AbortSignal.any([wallTimeController.signal, ...(options.signal ? [options.signal] : [])]);
  const { maxWallTimeMs, maxCostUsd } = agent.limits;
  const wallTimer =
    maxWallTimeMs === undefined ? undefined : setTimeout(() => wallTimeController.abort(), maxWallTimeMs);
  const costs = planCallCosts({
    model,
    prices: options.prices,
    maxOutputTokens: agent.maxOutputTokens,
    budgets: options.budgets ?? [],
    keys: { run: runId, agent: agent.name, tenant: record.tenant },
  });
  if (maxCostUsd !== undefined && costs.unpriced.length > 0) {
    if (wallTimer) clearTimeout(wallTimer);
    throw await endRun(ending, {
      kind: 'failed',
      error: new UserError(
        'budget_exceeded',
        `a cost limit of $${maxCostUsd} is set, but no price is known for ${costs.unpriced.map((candidate) => modelLabel(candidate)).join(', ')}; add one under "prices" in hataraku.config.json or remove the limit.`,
      ),
    });
  }
  // A cost limit covers the run's tree (its delegated child runs too): each call reserves its
  // estimate against the run's budget scope, which counts the children's spend and slices.
  const treeScope: BudgetScope[] =
    maxCostUsd === undefined ? [] : [{ scope: 'run', key: runId, since: 0, limitUsd: maxCostUsd }];
  const runResources = createRunResources();
  const deadline = maxWallTimeMs === undefined ? undefined : Date.now() + maxWallTimeMs;
  const loop: RunLoop = {
    ...{ agent, record, engine, options, runId, publish, model, recorder, signal, ending },
    modelLabel: label,
    tokenizerModel: modelLabel(model),
    wallTimeUp: () => wallTimeController.signal.aborted,
    ...requestShapeFor(agent),
    ...conversationOf(agent, record),
    costs: { ...costs, treeScope },
    limits: createRunLimits({
      limits: agent.limits,
      maxInputTokens: options.maxInputTokens,
      hasBudgets: (options.budgets ?? []).length > 0,
      estimateCallCost: costs.estimateCallCost,
      engine,
      runId,
    }),
    runResources,
    toolTurn: toolTurnContext(context, {
      ...{ signal, deadline, totals: ending.totals, recorder, runResources },
      budgets: [...costs.budgetScopes.map((entry) => entry.scope), ...treeScope],
    }),
    stepIndex: 0,
    modelCalls: 0,
    lastText: '',
    roomBoost: false,
  };
  return { loop, wallTimer, wallTimeController };
}

/** The run's conversation: the system prompt and the task, kept with a running digest. */
function conversationOf(agent: Agent, record: RunRecord): Pick<RunLoop, 'messages' | 'digest' | 'append'> {
  const messages: ModelMessage[] = [];
  const digest = createConversationDigest();
  const append = (...added: ModelMessage[]) => {
    for (const message of added) {
      messages.push(message);
      digest.append(message);
    }
  };
  if (agent.instructions.trim() !== '') append({ role: 'system', content: agent.instructions });
  append(userMessageWith(record.input, attachmentsFromSpec(record.spec)));
  return { messages, digest, append };
}

/** What the tool turns of the run share: tools, policies, limits, resources and child runs. */
function toolTurnContext(
  context: RunContext,
  parts: {
    signal: AbortSignal;
    deadline: number | undefined;
    totals: RunEndContext['totals'];
    recorder: StepRecorder;
    runResources: DisposableRunResources;
    budgets: readonly BudgetScope[];
  },
): ToolTurnContext {
  const { agent, record, engine, options, publish } = context;
  return {
    engine,
    recorder: parts.recorder,
    runId: record.id,
    tools: agent.tools,
    policies: agent.policies,
    workspace: record.workspace ?? options.workspace,
    concurrency: agent.maxToolConcurrency,
    signal: parts.signal,
    publish,
    maxIdenticalCalls: agent.limits.maxIdenticalToolCalls,
    callCounts: new Map<string, number>(),
    // With a context strategy, large results are its job (offloaded to a file, not cut).
    maxResultCharacters: options.maxToolResultCharacters ?? (options.context ? 1_000_000 : 50_000),
    runResources: parts.runResources,
    budgets: parts.budgets,
    childRuns: createChildRuns({
      engine,
      parentRunId: record.id,
      parentAgent: agent,
      options,
      publish,
      parentTotals: parts.totals,
      deadline: parts.deadline,
      signal: parts.signal,
      start: context.starters.start,
      resume: context.starters.resume,
    }),
  };
}

function resolveAgentModel(agent: Agent, options: RunOptions): Model {
  if (typeof agent.model !== 'string') return agent.model;
  if (!options.resolveModel) {
    throw new TypeError(
      `run(): agent "${agent.name}" names model "${agent.model}" but no resolveModel option was given`,
    );
  }
  return options.resolveModel(agent.model);
}

/** The tool turn: run the model's tool calls as steps, waiting in-process for approvals when asked to. */
async function toolTurn(loop: RunLoop, calls: ToolCallPart[]): Promise<NextStep> {
  const { engine, runId, options } = loop;
  let turn = await runToolTurn(loop.toolTurn, calls, loop.stepIndex);
  while (turn.kind === 'waiting') {
    if (options.approvalWait !== 'poll') return { kind: 'wait-for-approval', approvals: turn.approvals };
    await engine.setRunStatus(runId, 'waiting');
    publishApprovals(loop.ending, turn.approvals);
    await waitForDecisions(engine, turn.approvals, options.approvalPollMs ?? 500, loop.signal);
    await engine.setRunStatus(runId, 'pending');
    turn = await runToolTurn(loop.toolTurn, calls, loop.stepIndex);
  }
  if (turn.kind === 'repeated') return stopped(loop, 'repeated-tool-call');
  loop.stepIndex += calls.length;
  loop.append(...turn.messages);
  return { kind: 'call-model' };
}
