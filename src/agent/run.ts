/**
 * `run()`: execute an agent on a task as a durable run. Every model call and tool call is a
 * journaled step; a run resumed after a crash replays committed steps from the journal (no model
 * call, no tool execution) and continues from the first step that was not committed.
 *
 * The loop: check limits, call the model, then run its tool calls; repeat until the model gives
 * a final answer (valid against the output schema when there is one) or a limit stops the run.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ContextStrategy } from '../context/context-strategy.js';
import { countRequestTokens } from '../context/token-counter.js';
import type { PriceSource } from '../cost/price-source.js';
import { createConversationDigest } from '../engine/digest.js';
import type { ApprovalRecord, BudgetScope, Engine, RunRecord, RunTotals } from '../engine/engine.js';
import type { FaultPoints } from '../engine/fault-points.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { HatarakuError, UserError } from '../errors.js';
import type {
  AssistantMessage,
  JsonValue,
  Model,
  ModelMessage,
  ModelRequest,
  ModelResponse,
  ToolCallPart,
} from '../models/spec.js';
import { toolCallIdFrom } from '../models/tool-call-id.js';
import { createRunResources } from '../tools/run-resources.js';
import { extractTextToolCalls } from '../tools/text-tool-calls.js';
import type { Agent } from './agent.js';
import { waitForDecisions } from './approval-wait.js';
import { type Attachment, attachmentsFromSpec, userMessageWith } from './attachments.js';
import { type ChildRuns, createChildRuns, treeTotalsOf } from './child-runs.js';
import type { ConcurrencyGate } from './concurrency-gate.js';
import { createStepRecorder } from './durable-step.js';
import { createEventChannel } from './event-channel.js';
import type { RunEvent, RunTotalsSnapshot } from './events.js';
import { withExecutedArguments } from './history-arguments.js';
import { callModel } from './model-call.js';
import { type BudgetRule, mergeLedger, planCallCosts, priceResponse, tightestBudget } from './run-costs.js';
import { checkFinalOutput, requestShapeFor } from './run-request.js';
import { runToolTurn } from './tool-step.js';
import { truncatedCallNotice } from './truncated-calls.js';

export interface RunOptions {
  /** Engine to record the run in. Default: the SQLite engine at `journalPath`. */
  engine?: Engine;
  /** Default `.hataraku/hataraku.db` under the current directory; used when `engine` is not given. */
  journalPath?: string;
  /**
   * When a tool call needs approval: `return` (default) ends this call with status `waiting`,
   * and the run continues when it is resumed after the decision; `poll` keeps this process
   * waiting, checking for the decision every `approvalPollMs` (default 500).
   */
  approvalWait?: 'return' | 'poll';
  approvalPollMs?: number;
  /** Fault points armed by the fault-injection suite. */
  faults?: FaultPoints;
  /**
   * Decides what of the history the model sees at each call: offload large tool results, mask
   * used ones, summarize old turns (`src/context`). Default: all of it. Must be deterministic.
   */
  context?: ContextStrategy;
  /** Most prompt tokens one call may send, counted with a real tokenizer; past it the run stops. */
  maxInputTokens?: number;
  /** Limits how many runs execute at once; the run waits for a slot before it starts. */
  gate?: ConcurrencyGate;
  /** Who the run is for (an API key, a customer): cost roll-ups and tenant budgets use it. */
  tenant?: string;
  /** The run that started this one, for cost roll-ups. */
  parentRunId?: string;
  /**
   * Hard spend limits shared across runs (per run, agent, tenant or everything; per day or in
   * total). Each call reserves its estimated cost against all of them first and does not run
   * when one would be passed; the run then stops with `budget-exceeded`.
   */
  budgets?: BudgetRule[];
  /** Id of the new run (default: a random one). */
  runId?: string;
  /** Workspace directory handed to tools (default: a new directory under the system's temp folder). */
  workspace?: string;
  /** Where model prices come from; without one, every non-scripted call's cost is unknown. */
  prices?: PriceSource;
  /** Turns a model name (agent.model as a string) into a Model. Required for string model names. */
  resolveModel?: (name: string) => Model;
  /** Aborting leaves the run pending, to be resumed later. */
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Most characters of one tool result kept (default 50,000; 1,000,000 with a context strategy). */
  maxToolResultCharacters?: number;
  /**
   * Images and PDFs given to the model with the task (see `loadAttachment`). They are kept in the
   * journal as base64 with the run, so a resumed run sends the same bytes.
   */
  attachments?: Attachment[];
}

export type { BudgetRule } from './run-costs.js';
export { modelFacingToolName } from './run-request.js';

export interface RunResult {
  runId: string;
  /** `waiting`: paused until a person decides on `approvals`; resume the run after that. */
  status: 'completed' | 'stopped' | 'waiting';
  /**
   * Why the run ended: `final-answer`, `refusal` (the model declined; `output` holds its words),
   * `max-steps`, `max-tokens`, `budget-exceeded`, `max-wall-time`, `repeated-tool-call`,
   * `context-too-large`.
   */
  stopReason: string;
  /** The final output: text, or the validated object when the agent has an output schema; the last text when stopped. */
  output: JsonValue | undefined;
  totals: RunTotalsSnapshot;
  /** The approvals the run waits for, when `status` is `waiting`. */
  approvals?: ApprovalRecord[];
}

/**
 * A run in progress: await it (or `.result`) for the result, iterate `.events` for live events.
 * It rejects with a `HatarakuError` when the run fails (the failure is recorded in the journal).
 */
export interface RunHandle extends PromiseLike<RunResult> {
  readonly runId: string;
  readonly events: AsyncIterable<RunEvent>;
  readonly result: Promise<RunResult>;
}

/** Start a new run of `agent` on `input`. */
export function run(agent: Agent, input: string, options: RunOptions = {}): RunHandle {
  if (typeof input !== 'string' || input.trim() === '')
    throw new TypeError('run(): `input` must be a non-empty string');
  const runId = options.runId ?? `run_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  return startHandle(
    runId,
    options,
    async (engine) => {
      if (await engine.getRun(runId)) {
        throw new UserError(
          'usage',
          `a run with id ${runId} already exists; resume it with resume() or choose another id.`,
        );
      }
      return engine.createRun({
        id: runId,
        agentName: agent.name,
        model: modelName(agent.model),
        input,
        spec: agentSpec(agent, options.attachments),
        // Every run with tools has a workspace: the given one, or a fresh directory of its own.
        workspace:
          options.workspace ?? (agent.tools.length > 0 ? mkdtempSync(join(tmpdir(), `hataraku-${runId}-`)) : undefined),
        tenant: options.tenant,
        parentRunId: options.parentRunId,
      });
    },
    agent,
  );
}

/**
 * Put a run in the journal's shared queue without executing it: a worker (`hataraku worker`,
 * or `engine.takeRuns`) on any machine sharing the journal takes it and runs it with the agent
 * it rebuilds from the recorded description. Its workspace must be reachable from there.
 */
export async function submit(
  agent: Agent,
  input: string,
  options: {
    engine: Engine;
    runId?: string;
    workspace?: string;
    tenant?: string;
    /** Images or PDFs given with the task, kept in the journal like a started run's. */
    attachments?: Attachment[];
  },
): Promise<RunRecord> {
  if (typeof input !== 'string' || input.trim() === '')
    throw new TypeError('submit(): `input` must be a non-empty string');
  const runId = options.runId ?? `run_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  if (await options.engine.getRun(runId)) {
    throw new UserError('usage', `a run with id ${runId} already exists; choose another id.`);
  }
  const record = await options.engine.createRun({
    id: runId,
    agentName: agent.name,
    model: modelName(agent.model),
    input,
    spec: agentSpec(agent, options.attachments),
    workspace: options.workspace,
    tenant: options.tenant,
    queued: true,
  });
  await options.engine.sync();
  return record;
}

/**
 * Continue a run recorded in the journal from its last committed step. A finished run returns
 * its recorded result without executing anything; a failed run is reopened and continued.
 */
export function resume(agent: Agent, runId: string, options: RunOptions = {}): RunHandle {
  return startHandle(
    runId,
    options,
    async (engine) => {
      const record = await engine.getRun(runId);
      if (!record)
        throw new UserError(
          'run_not_found',
          `no run with id ${runId} in the journal; list runs with \`hataraku runs list\`.`,
        );
      if (record.status === 'completed' || record.status === 'stopped') return record;
      if (record.status === 'failed') await engine.reopenRun(runId);
      if (!(await engine.claimRun(runId))) {
        const owner = (await engine.getRun(runId))?.owner ?? 'another process';
        throw new UserError(
          'run_not_resumable',
          `run ${runId} is being executed by ${owner}; it can be resumed once that process ends or its lease expires.`,
        );
      }
      return (await engine.getRun(runId)) as RunRecord;
    },
    agent,
  );
}

function startHandle(
  runId: string,
  options: RunOptions,
  open: (engine: Engine) => Promise<RunRecord>,
  agent: Agent,
): RunHandle {
  const channel = createEventChannel<RunEvent>();
  const publish = (event: RunEvent) => {
    options.onEvent?.(event);
    channel.publish(event);
  };
  const result = (async () => {
    await Promise.resolve(); // let the caller subscribe to events first
    const release = options.gate ? await options.gate.acquire() : undefined;
    const ownsEngine = options.engine === undefined;
    const engine =
      options.engine ??
      openSqliteEngine({
        path: resolve(options.journalPath ?? '.hataraku/hataraku.db'),
        ...(options.faults ? { faults: options.faults } : {}),
      });
    try {
      const record = await open(engine);
      return await executeRun({ agent, record, engine, options, publish });
    } finally {
      channel.close();
      if (ownsEngine) await engine.close();
      release?.();
    }
  })();
  return {
    runId,
    events: channel,
    result,
    // biome-ignore lint/suspicious/noThenProperty: a run handle is deliberately awaitable
    then(onFulfilled, onRejected) {
      return result.then(onFulfilled, onRejected);
    },
  };
}

interface RunContext {
  agent: Agent;
  record: RunRecord;
  engine: Engine;
  options: RunOptions;
  publish: (event: RunEvent) => void;
}

async function executeRun(context: RunContext): Promise<RunResult> {
  const { agent, record, engine, options, publish } = context;
  const runId = record.id;

  if (record.status === 'completed' || record.status === 'stopped') {
    return recordedResult(engine, { ...record, status: record.status }, publish);
  }

  const model = resolveAgentModel(agent, options);
  const modelLabel = typeof agent.model === 'string' ? agent.model : `${model.provider}:${model.modelId}`;
  const tokenizerModel = `${model.provider}:${model.modelId}`;
  const recorder = await createStepRecorder(engine, runId, options.faults ? { faults: options.faults } : {});
  const runTotals = () => recorder.totals();
  publish({ type: 'run-start', runId, agentName: agent.name, model: modelLabel, resumed: recorder.resumed });
  // Problems `tool()` fixed in a definition (say, a schema default that breaks its own schema).
  for (const tool of agent.tools) {
    for (const message of tool.warnings ?? []) publish({ type: 'warning', runId, stepIndex: undefined, message });
  }

  const wallTimeController = new AbortController();
  const signals = [wallTimeController.signal, ...(options.signal ? [options.signal] : [])];
  const signal = AbortSignal.any(signals);
  const wallTimer =
    agent.limits.maxWallTimeMs === undefined
      ? undefined
      : setTimeout(() => wallTimeController.abort(), agent.limits.maxWallTimeMs);

  const { baseRequest, outputValidator, modelTools } = requestShapeFor(agent);

  const messages: ModelMessage[] = [];
  const conversationDigest = createConversationDigest();
  const append = (...added: ModelMessage[]) => {
    for (const message of added) {
      messages.push(message);
      conversationDigest.append(message);
    }
  };
  if (agent.instructions.trim() !== '') append({ role: 'system', content: agent.instructions });
  append(userMessageWith(record.input, attachmentsFromSpec(record.spec)));
  const { abortSignal: _noSignal, ...requestFields } = baseRequest;
  const limitsNeedEstimate =
    agent.limits.maxTokens !== undefined || agent.limits.maxCostUsd !== undefined || (options.budgets ?? []).length > 0;

  const { estimateCallCost, unpriced, budgetScopes } = planCallCosts({
    model,
    prices: options.prices,
    maxOutputTokens: agent.maxOutputTokens,
    budgets: options.budgets ?? [],
    keys: { run: runId, agent: agent.name, tenant: record.tenant },
  });
  if (agent.limits.maxCostUsd !== undefined && unpriced.length > 0) {
    throw await fail(
      engine,
      runId,
      publish,
      runTotals,
      new UserError(
        'budget_exceeded',
        `a cost limit of $${agent.limits.maxCostUsd} is set, but no price is known for ${unpriced.map((candidate) => `${candidate.provider}:${candidate.modelId}`).join(', ')}; add one under "prices" in hataraku.config.json or remove the limit.`,
      ),
    );
  }

  const runResources = createRunResources();
  const childRuns: ChildRuns = createChildRuns({
    engine,
    parentRunId: runId,
    parentAgent: agent,
    options,
    publish,
    parentTotals: runTotals,
    deadline: agent.limits.maxWallTimeMs === undefined ? undefined : Date.now() + agent.limits.maxWallTimeMs,
    signal,
    start: run,
    resume,
  });
  // A cost limit covers the run's tree (its delegated child runs too): each call reserves its
  // estimate against the run's budget scope, which counts the children's spend and slices.
  const treeScope: BudgetScope[] =
    agent.limits.maxCostUsd === undefined
      ? []
      : [{ scope: 'run', key: runId, since: 0, limitUsd: agent.limits.maxCostUsd }];
  let stepIndex = 0;
  let modelCalls = 0;
  let lastText = '';
  // After a turn cut off by the token limit, the next call gets twice the room, once.
  let roomBoost = false;
  const callCounts = new Map<string, number>();
  const finish = async (
    status: 'completed' | 'stopped',
    stopReason: string,
    output: JsonValue | undefined,
  ): Promise<RunResult> => {
    await engine.finishRun(runId, { status, stopReason, output });
    const result: RunResult = { runId, status, stopReason, output, totals: runTotals() };
    publish({ type: 'run-end', runId, status, stopReason, output, error: undefined, totals: result.totals });
    return result;
  };

  const publishWaiting = (approvals: ApprovalRecord[]) => {
    for (const approval of approvals) {
      publish({
        type: 'approval-requested',
        runId,
        stepIndex: approval.stepIndex,
        toolName: approval.toolName,
        input: approval.input,
        reason: approval.reason,
        deadline: approval.deadline,
      });
    }
  };
  const pause = async (approvals: ApprovalRecord[]): Promise<RunResult> => {
    await engine.setRunStatus(runId, 'waiting');
    await engine.releaseRun(runId);
    publishWaiting(approvals);
    const result: RunResult = {
      runId,
      status: 'waiting',
      stopReason: 'approval-required',
      output: undefined,
      totals: runTotals(),
      approvals,
    };
    publish({
      type: 'run-end',
      runId,
      status: 'waiting',
      stopReason: 'approval-required',
      output: undefined,
      error: undefined,
      totals: result.totals,
    });
    return result;
  };

  try {
    for (;;) {
      if (wallTimeController.signal.aborted) return await finish('stopped', 'max-wall-time', lastText || undefined);
      if (options.signal?.aborted) throw interrupted(runId, publish, runTotals);
      const current = recorder.totals();
      if (modelCalls >= agent.limits.maxSteps) return await finish('stopped', 'max-steps', lastText || undefined);
      // What of the history the model sees: the context strategy decides (default: all of it).
      // Replayed steps skip it: their response is already in the journal.
      const prepared =
        options.context && !recorder.isCommitted(stepIndex)
          ? await options.context.prepare({
              messages,
              tools: modelTools,
              modelName: tokenizerModel,
              workspace: record.workspace ?? options.workspace,
              runId,
              stepIndex,
              recordArtifact: (artifact) =>
                void engine.recordArtifact({
                  runId,
                  stepIndex,
                  path: artifact.path,
                  mediaType: artifact.mediaType,
                  description: artifact.description,
                  createdAt: Date.now(),
                }),
            })
          : undefined;
      for (const note of prepared?.notes ?? []) {
        publish({ type: 'warning', runId, stepIndex, message: `context: ${note}` });
      }
      const request: ModelRequest = {
        ...baseRequest,
        ...(roomBoost && baseRequest.maxOutputTokens !== undefined
          ? { maxOutputTokens: baseRequest.maxOutputTokens * 2 }
          : {}),
        messages: prepared?.messages ?? [...messages],
        abortSignal: signal,
      };
      const measured = limitsNeedEstimate || options.maxInputTokens !== undefined;
      const estimatedInput = measured ? countRequestTokens(request, tokenizerModel) : 0;
      if (
        options.maxInputTokens !== undefined &&
        estimatedInput > options.maxInputTokens &&
        !recorder.isCommitted(stepIndex)
      ) {
        publish({
          type: 'warning',
          runId,
          stepIndex,
          message: `the next request has ${estimatedInput} input tokens, over the limit of ${options.maxInputTokens}; use a context strategy (offload, mask, summarize) or raise maxInputTokens.`,
        });
        return await finish('stopped', 'context-too-large', lastText || undefined);
      }
      if (
        agent.limits.maxTokens !== undefined &&
        current.inputTokens + current.outputTokens + (await childTokens(engine, runId)) + estimatedInput >
          agent.limits.maxTokens
      ) {
        return await finish('stopped', 'max-tokens', lastText || undefined);
      }
      if (agent.limits.maxCostUsd !== undefined) {
        const estimate = estimateCallCost(estimatedInput);
        if (estimate !== undefined && current.costUsd + estimate > agent.limits.maxCostUsd) {
          return await finish('stopped', 'budget-exceeded', lastText || undefined);
        }
      }

      const index = stepIndex++;
      let reservation: string | undefined;
      let budgetContext: ModelRequest['budget'];
      if (budgetScopes.length + treeScope.length > 0 && !recorder.isCommitted(index)) {
        const amount = estimateCallCost(estimatedInput);
        if (amount === undefined) {
          throw new UserError(
            'budget_exceeded',
            `budgets are set, but no price is known for ${unpriced.map((candidate) => `${candidate.provider}:${candidate.modelId}`).join(', ')}; add one under "prices" in hataraku.config.json.`,
          );
        }
        const reserved = await engine.reserveBudget({
          runId,
          stepIndex: index,
          amountUsd: amount,
          budgets: [...budgetScopes.map((entry) => entry.scope), ...treeScope],
          ttlMs: 10 * 60_000,
        });
        if (!reserved.ok) {
          publish({
            type: 'warning',
            runId,
            stepIndex: index,
            message: `budget exhausted: the ${reserved.budget.scope} budget ${reserved.budget.key} of $${reserved.budget.limitUsd} has $${(reserved.spentUsd + reserved.reservedUsd).toFixed(6)} spent or reserved, and this call may cost up to $${amount.toFixed(6)}.`,
          });
          return await finish('stopped', 'budget-exceeded', lastText || undefined);
        }
        reservation = reserved.id;
        if (budgetScopes.length > 0) budgetContext = await tightestBudget(engine, budgetScopes);
      }
      const started = Date.now();
      const modelRequest: ModelRequest = budgetContext ? { ...request, budget: budgetContext } : request;
      let step: Awaited<ReturnType<typeof recorder.step>>;
      try {
        step = await recorder.step(
          {
            index,
            name: 'model',
            kind: 'model',
            model: modelLabel,
            requestDigest: conversationDigest.digest({ model: modelLabel, request: requestFields }),
          },
          async () => {
            publish({ type: 'step-start', runId, index, kind: 'model', name: 'model', replayed: false });
            const response = await callModel(model, modelRequest, {
              onEvent: (event) => {
                if (event.type === 'text-delta')
                  publish({ type: 'text-delta', runId, stepIndex: index, delta: event.delta });
                else if (event.type === 'warning')
                  publish({ type: 'warning', runId, stepIndex: index, message: event.warning.message });
                else if (event.type === 'stream-start') {
                  // Settings the provider changed or left out (a temperature, an image) are said once per call.
                  for (const warning of event.warnings)
                    publish({ type: 'warning', runId, stepIndex: index, message: warning.message });
                } else if (event.type === 'routing')
                  publish({ type: 'routing', runId, stepIndex: index, model: event.model, reason: event.reason });
              },
              onRetry: (error) =>
                publish({
                  type: 'warning',
                  runId,
                  stepIndex: index,
                  message: `${error.message} Calling the model again; text streamed so far in this step is discarded.`,
                }),
            });
            // The step pays for the context strategy's own model calls (a summary) too.
            const parts = [response, ...(prepared?.modelCalls ?? []).map((call) => call.response)].map((part) =>
              priceResponse(part, options.prices),
            );
            const known = parts.every((part) => part.costUsd !== undefined);
            return {
              output: response as unknown as JsonValue,
              usage: response.usage,
              costUsd: known ? parts.reduce((total, part) => total + (part.costUsd ?? 0), 0) : undefined,
              ledger: mergeLedger(parts.flatMap((part) => part.ledger)),
            };
          },
        );
      } finally {
        // Released once the call is committed (its cost is in the ledger) or has failed.
        if (reservation) await engine.releaseReservation(reservation);
      }
      modelCalls++;
      const response = step.record.output as unknown as ModelResponse;
      if (step.replayed) publish({ type: 'step-start', runId, index, kind: 'model', name: 'model', replayed: true });
      publish({
        type: 'usage',
        runId,
        stepIndex: index,
        model: modelLabel,
        usage: response.usage,
        costUsd: step.record.costUsd,
        totals: runTotals(),
      });
      const durationMs = step.replayed ? step.record.finishedAt - step.record.startedAt : Date.now() - started;
      publish({ type: 'step-end', runId, index, kind: 'model', durationMs, replayed: step.replayed });
      if (response.text.trim() !== '') lastText = response.text;

      let calls = response.toolCalls;
      let text = response.text;
      const cutOff = response.finishReason === 'length';
      if (calls.length === 0 && agent.tools.length > 0) {
        const found = extractTextToolCalls(
          response.text,
          agent.tools.map((tool) => tool.name),
        );
        calls = found.calls.map((call, position) => ({
          type: 'tool-call' as const,
          // Made up, so it must suit every provider; derived, so a resumed run makes the same one.
          id: toolCallIdFrom(`${runId}:${index}:${position}`),
          name: call.name,
          arguments: call.arguments,
        }));
        if (calls.length > 0) text = found.remainingText;
      }
      const assistant: AssistantMessage = { role: 'assistant', content: [...(response.reasoning ?? [])] };
      if (text !== '') assistant.content.push({ type: 'text', text });
      // A call cut off by the token limit is a guess at what the model meant: it never runs.
      if (cutOff && calls.length > 0) {
        append(assistant);
        publish({
          type: 'warning',
          runId,
          stepIndex: index,
          message: `the model's output hit the token limit in the middle of ${calls.length === 1 ? 'a tool call' : `${calls.length} tool calls`}; ${calls.length === 1 ? 'it was' : 'they were'} not run, and the model is asked again${baseRequest.maxOutputTokens !== undefined && !roomBoost ? ' with twice the room' : ''}.`,
        });
        append({ role: 'user', content: truncatedCallNotice(calls, baseRequest.maxOutputTokens) });
        roomBoost = !roomBoost;
        continue;
      }
      roomBoost = false;
      assistant.content.push(...calls.map((call) => withExecutedArguments(agent.tools, call)));
      append(assistant);
      if (response.finishReason === 'refusal') {
        return await finish('stopped', 'refusal', response.refusal ?? response.text);
      }

      const after = recorder.totals();
      if (agent.limits.maxCostUsd !== undefined && after.costUsd > agent.limits.maxCostUsd) {
        return await finish('stopped', 'budget-exceeded', lastText || undefined);
      }
      if (agent.limits.maxTokens !== undefined && after.inputTokens + after.outputTokens > agent.limits.maxTokens) {
        return await finish('stopped', 'max-tokens', lastText || undefined);
      }

      if (calls.length === 0) {
        if (!outputValidator) return await finish('completed', 'final-answer', response.text);
        const checked = checkFinalOutput(outputValidator, response.text);
        if (checked.valid) return await finish('completed', 'final-answer', checked.value);
        append({ role: 'user', content: checked.correction });
        continue;
      }

      const turnContext = {
        engine,
        recorder,
        runId,
        tools: agent.tools,
        policies: agent.policies,
        workspace: record.workspace ?? options.workspace,
        concurrency: agent.maxToolConcurrency,
        signal,
        publish,
        maxIdenticalCalls: agent.limits.maxIdenticalToolCalls,
        callCounts,
        // With a context strategy, large results are its job (offloaded to a file, not cut).
        maxResultCharacters: options.maxToolResultCharacters ?? (options.context ? 1_000_000 : 50_000),
        runResources,
        childRuns,
      };
      let turn = await runToolTurn(turnContext, calls as ToolCallPart[], stepIndex);
      while (turn.kind === 'waiting') {
        if (options.approvalWait !== 'poll') return await pause(turn.approvals);
        await engine.setRunStatus(runId, 'waiting');
        publishWaiting(turn.approvals);
        await waitForDecisions(engine, turn.approvals, options.approvalPollMs ?? 500, signal);
        await engine.setRunStatus(runId, 'pending');
        turn = await runToolTurn(turnContext, calls as ToolCallPart[], stepIndex);
      }
      if (turn.kind === 'repeated') return await finish('stopped', 'repeated-tool-call', lastText || undefined);
      stepIndex += calls.length;
      append(...turn.messages);
    }
  } catch (error) {
    if (wallTimeController.signal.aborted && !options.signal?.aborted) {
      return await finish('stopped', 'max-wall-time', lastText || undefined);
    }
    if (options.signal?.aborted) throw interrupted(runId, publish, runTotals);
    throw await fail(engine, runId, publish, runTotals, error);
  } finally {
    if (wallTimer) clearTimeout(wallTimer);
    for (const error of await runResources.disposeAll()) {
      publish({
        type: 'warning',
        runId,
        stepIndex: undefined,
        message: `disposing a run resource failed: ${String(error)}`,
      });
    }
  }
}

/** Tokens used by a run's child runs and theirs (0 without children: one query). */
async function childTokens(engine: Engine, runId: string): Promise<number> {
  let tokens = 0;
  for (const child of await engine.listChildRuns(runId)) tokens += (await treeTotalsOf(engine, child.id)).tokens;
  return tokens;
}

async function fail(
  engine: Engine,
  runId: string,
  publish: (event: RunEvent) => void,
  totals: () => RunTotalsSnapshot,
  error: unknown,
): Promise<unknown> {
  const message = error instanceof Error ? error.message : String(error);
  const stopReason = error instanceof HatarakuError ? error.code : 'internal_error';
  try {
    await engine.finishRun(runId, { status: 'failed', stopReason, output: undefined, error: message });
  } catch {
    // The journal itself failed (say, locked by another process): the run stays open and can
    // be resumed; the caller gets the original error, not this one.
  }
  publish({
    type: 'run-end',
    runId,
    status: 'failed',
    stopReason,
    output: undefined,
    error: message,
    totals: totals(),
  });
  return error;
}

function interrupted(
  runId: string,
  publish: (event: RunEvent) => void,
  totals: () => RunTotalsSnapshot,
): HatarakuError {
  publish({
    type: 'run-end',
    runId,
    status: 'interrupted',
    stopReason: 'aborted',
    output: undefined,
    error: undefined,
    totals: totals(),
  });
  return new HatarakuError(
    'model_aborted',
    `run ${runId} was interrupted; continue it with \`hataraku runs resume ${runId}\`.`,
  );
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

function modelName(model: Model | string): string {
  return typeof model === 'string' ? model : `${model.provider}:${model.modelId}`;
}

/** What the journal keeps about the agent, to rebuild it on resume (and the task's attachments). */
function agentSpec(agent: Agent, attachments: Attachment[] | undefined): JsonValue {
  return {
    ...(attachments && attachments.length > 0 ? { attachments: attachments as unknown as JsonValue } : {}),
    name: agent.name,
    instructions: agent.instructions,
    model: modelName(agent.model),
    tools: agent.tools.map((tool) => tool.name),
    limits: { ...agent.limits } as JsonValue,
    maxOutputTokens: agent.maxOutputTokens,
    temperature: agent.temperature ?? null,
  };
}

/** A run that already ended: its recorded result, without executing anything. */
async function recordedResult(
  engine: Engine,
  record: RunRecord & { status: 'completed' | 'stopped' },
  publish: (event: RunEvent) => void,
): Promise<RunResult> {
  const result: RunResult = {
    runId: record.id,
    status: record.status,
    stopReason: record.stopReason ?? 'unknown',
    output: record.output,
    totals: snapshot(await engine.totals(record.id)),
  };
  publish({
    type: 'run-end',
    runId: record.id,
    status: record.status,
    stopReason: result.stopReason,
    output: record.output,
    error: undefined,
    totals: result.totals,
  });
  return result;
}

function snapshot(totals: RunTotals): RunTotalsSnapshot {
  return {
    modelCalls: totals.modelCalls,
    toolCalls: totals.toolCalls,
    inputTokens: totals.inputTokens,
    outputTokens: totals.outputTokens,
    cachedInputTokens: totals.cachedInputTokens,
    costUsd: totals.costUsd,
    unpricedModelCalls: totals.unpricedModelCalls,
  };
}
