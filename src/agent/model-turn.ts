/**
 * The model turn: check the limits, let the context strategy shape the history, reserve the
 * call's budget, make the call as a durable step (replayed from the journal when it was already
 * committed), then read the response and say what comes next: tool calls to run, a final answer,
 * another call (a correction, a turn cut off by the token limit), or a stop.
 */
import type { ContextOutput } from '../context/context-strategy.js';
import { countRequestTokens } from '../context/token-counter.js';
import { UserError } from '../errors.js';
import { modelLabel } from '../models/model-label.js';
import type { AssistantMessage, JsonValue, ModelRequest, ModelResponse, ToolCallPart } from '../models/spec.js';
import { toolCallIdFrom } from '../models/tool-call-id.js';
import { extractTextToolCalls } from '../tools/text-tool-calls.js';
import { withExecutedArguments } from './history-arguments.js';
import { callModel } from './model-call.js';
import { mergeLedger, priceResponse, tightestBudget } from './run-costs.js';
import { checkFinalOutput } from './run-request.js';
import { type NextStep, type RunLoop, stopped } from './run-state.js';
import { truncatedCallNotice } from './truncated-calls.js';

export async function modelTurn(loop: RunLoop): Promise<NextStep> {
  const { runId, publish, recorder, options } = loop;
  const early = loop.limits.beforeCall({ modelCalls: loop.modelCalls, wallTimeUp: loop.wallTimeUp() });
  if (early?.reason === 'max-wall-time') return stopped(loop, early.reason);
  if (options.signal?.aborted) return { kind: 'interrupted' };
  if (early) return stopped(loop, early.reason);
  const prepared = await prepareHistory(loop);
  for (const note of prepared?.notes ?? []) {
    publish({ type: 'warning', runId, stepIndex: loop.stepIndex, message: `context: ${note}` });
  }
  const request: ModelRequest = {
    ...loop.baseRequest,
    ...(loop.roomBoost && loop.baseRequest.maxOutputTokens !== undefined
      ? { maxOutputTokens: loop.baseRequest.maxOutputTokens * 2 }
      : {}),
    messages: prepared?.messages ?? [...loop.messages],
    abortSignal: loop.signal,
  };
  const estimatedInput = loop.limits.needsEstimate ? countRequestTokens(request, loop.tokenizerModel) : 0;
  const committed = recorder.isCommitted(loop.stepIndex);
  const reached = await loop.limits.forRequest({ totals: recorder.totals(), estimatedInput, committed });
  if (reached) {
    if (reached.warning) publish({ type: 'warning', runId, stepIndex: loop.stepIndex, message: reached.warning });
    return stopped(loop, reached.reason);
  }
  const index = loop.stepIndex++;
  const reservation = await reserveCallBudget(loop, index, estimatedInput);
  if (reservation.kind === 'refused') return stopped(loop, 'budget-exceeded');
  const budgeted: ModelRequest = reservation.budget ? { ...request, budget: reservation.budget } : request;
  let response: ModelResponse;
  try {
    response = await recordedCall(loop, index, budgeted, prepared);
  } finally {
    // Released once the call is committed (its cost is in the ledger) or has failed.
    if (reservation.kind === 'reserved') await loop.engine.releaseReservation(reservation.id);
  }
  return afterResponse(loop, index, response);
}

/** What of the history the model sees: the context strategy decides (default: all of it). */
async function prepareHistory(loop: RunLoop): Promise<ContextOutput | undefined> {
  const { options, engine, runId, stepIndex } = loop;
  // Replayed steps skip it: their response is already in the journal.
  if (!options.context || loop.recorder.isCommitted(stepIndex)) return undefined;
  return options.context.prepare({
    messages: loop.messages,
    tools: loop.modelTools,
    modelName: loop.tokenizerModel,
    workspace: loop.record.workspace ?? options.workspace,
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
  });
}

type Reservation =
  | { kind: 'none'; budget?: undefined }
  | { kind: 'reserved'; id: string; budget: ModelRequest['budget'] }
  | { kind: 'refused' };

/** Reserve the call's estimated cost against every budget that covers it (shared budgets, the run's tree). */
async function reserveCallBudget(loop: RunLoop, index: number, estimatedInput: number): Promise<Reservation> {
  const { budgetScopes, treeScope, estimateCallCost, unpriced } = loop.costs;
  if (budgetScopes.length + treeScope.length === 0 || loop.recorder.isCommitted(index)) return { kind: 'none' };
  const amount = estimateCallCost(estimatedInput);
  if (amount === undefined) {
    throw new UserError(
      'budget_exceeded',
      `budgets are set, but no price is known for ${unpriced.map((candidate) => modelLabel(candidate)).join(', ')}; add one under "prices" in hataraku.config.json.`,
    );
  }
  const reserved = await loop.engine.reserveBudget({
    runId: loop.runId,
    stepIndex: index,
    amountUsd: amount,
    budgets: [...budgetScopes.map((entry) => entry.scope), ...treeScope],
    ttlMs: 10 * 60_000,
  });
  if (!reserved.ok) {
    loop.publish({
      type: 'warning',
      runId: loop.runId,
      stepIndex: index,
      message: `budget exhausted: the ${reserved.budget.scope} budget ${reserved.budget.key} of $${reserved.budget.limitUsd} has $${(reserved.spentUsd + reserved.reservedUsd).toFixed(6)} spent or reserved, and this call may cost up to $${amount.toFixed(6)}.`,
    });
    return { kind: 'refused' };
  }
  const budget = budgetScopes.length > 0 ? await tightestBudget(loop.engine, budgetScopes) : undefined;
  return { kind: 'reserved', id: reserved.id, budget };
}

/** The model call as durable step `index`: made and committed, or read back from the journal. */
async function recordedCall(
  loop: RunLoop,
  index: number,
  request: ModelRequest,
  prepared: ContextOutput | undefined,
): Promise<ModelResponse> {
  const { runId, publish, modelLabel, options } = loop;
  const started = Date.now();
  const { abortSignal: _signal, ...requestFields } = loop.baseRequest;
  const step = await loop.recorder.step(
    {
      index,
      name: 'model',
      kind: 'model',
      model: modelLabel,
      requestDigest: loop.digest.digest({ model: modelLabel, request: requestFields }),
    },
    async () => {
      publish({ type: 'step-start', runId, index, kind: 'model', name: 'model', replayed: false });
      const response = await callModel(loop.model, request, streamHandlers(loop, index));
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
  loop.modelCalls++;
  const response = step.record.output as unknown as ModelResponse;
  if (step.replayed) publish({ type: 'step-start', runId, index, kind: 'model', name: 'model', replayed: true });
  const usage = response.usage;
  const totals = loop.recorder.totals();
  publish({ type: 'usage', runId, stepIndex: index, model: modelLabel, usage, costUsd: step.record.costUsd, totals });
  const durationMs = step.replayed ? step.record.finishedAt - step.record.startedAt : Date.now() - started;
  publish({ type: 'step-end', runId, index, kind: 'model', durationMs, replayed: step.replayed });
  if (response.text.trim() !== '') loop.lastText = response.text;
  return response;
}

/** Live events of a model call, as run events. */
function streamHandlers(loop: RunLoop, stepIndex: number): Parameters<typeof callModel>[2] {
  const { runId, publish } = loop;
  const warn = (message: string) => publish({ type: 'warning', runId, stepIndex, message });
  return {
    onEvent: (event) => {
      if (event.type === 'text-delta') publish({ type: 'text-delta', runId, stepIndex, delta: event.delta });
      else if (event.type === 'warning') warn(event.warning.message);
      // Settings the provider changed or left out (a temperature, an image) are said once per call.
      else if (event.type === 'stream-start') for (const warning of event.warnings) warn(warning.message);
      else if (event.type === 'routing')
        publish({ type: 'routing', runId, stepIndex, model: event.model, reason: event.reason });
    },
    onRetry: (error) =>
      warn(`${error.message} Calling the model again; text streamed so far in this step is discarded.`),
  };
}

/** Read the response of step `index` and say what comes next. */
function afterResponse(loop: RunLoop, index: number, response: ModelResponse): NextStep {
  const { calls, text } = toolCallsOf(loop, index, response);
  const assistant: AssistantMessage = { role: 'assistant', content: [...(response.reasoning ?? [])] };
  if (text !== '') assistant.content.push({ type: 'text', text });
  // A call cut off by the token limit is a guess at what the model meant: it never runs.
  if (response.finishReason === 'length' && calls.length > 0) {
    const maxOutputTokens = loop.baseRequest.maxOutputTokens;
    loop.append(assistant);
    const one = calls.length === 1;
    loop.publish({
      type: 'warning',
      runId: loop.runId,
      stepIndex: index,
      message: `the model's output hit the token limit in the middle of ${one ? 'a tool call' : `${calls.length} tool calls`}; ${one ? 'it was' : 'they were'} not run, and the model is asked again${maxOutputTokens !== undefined && !loop.roomBoost ? ' with twice the room' : ''}.`,
    });
    loop.append({ role: 'user', content: truncatedCallNotice(calls, maxOutputTokens) });
    loop.roomBoost = !loop.roomBoost;
    return { kind: 'call-model' };
  }
  loop.roomBoost = false;
  assistant.content.push(...calls.map((call) => withExecutedArguments(loop.agent.tools, call)));
  loop.append(assistant);
  if (response.finishReason === 'refusal') {
    return { kind: 'finish', status: 'stopped', stopReason: 'refusal', output: response.refusal ?? response.text };
  }
  const reached = loop.limits.afterCall(loop.recorder.totals());
  if (reached) return stopped(loop, reached.reason);
  if (calls.length > 0) return { kind: 'run-tools', calls };
  if (!loop.outputValidator)
    return { kind: 'finish', status: 'completed', stopReason: 'final-answer', output: response.text };
  const checked = checkFinalOutput(loop.outputValidator, response.text);
  if (checked.valid) return { kind: 'finish', status: 'completed', stopReason: 'final-answer', output: checked.value };
  loop.append({ role: 'user', content: checked.correction });
  return { kind: 'call-model' };
}

/** The response's tool calls: native ones, or calls written out in the text by a model without native tools. */
function toolCallsOf(loop: RunLoop, index: number, response: ModelResponse): { calls: ToolCallPart[]; text: string } {
  const { tools } = loop.agent;
  if (response.toolCalls.length > 0 || tools.length === 0) {
    return { calls: response.toolCalls as ToolCallPart[], text: response.text };
  }
  const found = extractTextToolCalls(
    response.text,
    tools.map((tool) => tool.name),
  );
  const calls = found.calls.map((call, position) => ({
    type: 'tool-call' as const,
    // Made up, so it must suit every provider; derived, so a resumed run makes the same one.
    id: toolCallIdFrom(`${loop.runId}:${index}:${position}`),
    name: call.name,
    arguments: call.arguments,
  }));
  return calls.length > 0 ? { calls, text: found.remainingText } : { calls, text: response.text };
}
