/**
 * Executing the tool calls of one model turn as durable steps: each call is prepared (name
 * resolved, arguments parsed, validated and repaired), checked against the repeat limit, then
 * run concurrently under the agent's limit. Bad calls never throw: they become tool results that
 * tell the model what to fix.
 */

import { canonicalJson, digestOf } from '../journal/digest.js';
import type { Journal } from '../journal/journal.js';
import type { JsonValue, ToolCallPart, ToolResultMessage } from '../models/spec.js';
import { mapWithConcurrency } from '../tools/concurrency.js';
import { prepareToolCall } from '../tools/prepare-call.js';
import type { RunResources, Tool } from '../tools/tool.js';
import type { StepRecorder } from './durable-step.js';
import type { RunEvent } from './events.js';

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
  journal: Journal;
  recorder: StepRecorder;
  runId: string;
  tools: readonly Tool[];
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
}

export type ToolTurnResult =
  | { kind: 'results'; messages: ToolResultMessage[] }
  | { kind: 'repeated'; toolName: string };

/** Run `calls` as steps `firstIndex`, `firstIndex + 1`, ... in call order. */
export async function runToolTurn(
  context: ToolTurnContext,
  calls: ToolCallPart[],
  firstIndex: number,
): Promise<ToolTurnResult> {
  const prepared = calls.map((call) => ({ call, preparation: prepareToolCall([...context.tools], call) }));

  const refusals = new Map<number, string>();
  for (const [position, { call, preparation }] of prepared.entries()) {
    const toolName = preparation.status === 'ready' ? preparation.tool.name : preparation.toolName;
    const signature = `${toolName}\u0000${preparation.status === 'ready' ? canonicalJson(preparation.input) : call.arguments}`;
    const count = (context.callCounts.get(signature) ?? 0) + 1;
    context.callCounts.set(signature, count);
    if (count > context.maxIdenticalCalls + 1) return { kind: 'repeated', toolName };
    if (count > context.maxIdenticalCalls) {
      refusals.set(
        position,
        `Not run: ${toolName} was already called ${context.maxIdenticalCalls} times with these same arguments, and the result will not change. Use the earlier results, try different arguments, or give your final answer.`,
      );
    }
  }

  // Durability barrier: a tool that changes the world must not act on a step that a power cut
  // could still take back, so everything committed so far is made durable first.
  const effectful = (position: number) => {
    const preparation = prepared[position]?.preparation;
    return preparation?.status === 'ready' && preparation.tool.effect !== 'none' && !refusals.has(position);
  };
  if (prepared.some((_, position) => effectful(position) && !context.recorder.isCommitted(firstIndex + position))) {
    context.recorder.sync();
  }

  const messages = await mapWithConcurrency(prepared, context.concurrency, async ({ call, preparation }, position) => {
    const index = firstIndex + position;
    const toolName = preparation.status === 'ready' ? preparation.tool.name : preparation.toolName;
    const input: JsonValue =
      preparation.status === 'ready' ? ((preparation.input ?? null) as JsonValue) : (call.arguments as JsonValue);
    const repairs = preparation.repairs;
    const started = Date.now();
    const step = await context.recorder.step(
      {
        index,
        name: `tool:${toolName}`,
        kind: 'tool',
        requestDigest: digestOf({ toolName, input }),
      },
      async () => {
        context.publish({
          type: 'step-start',
          runId: context.runId,
          index,
          kind: 'tool',
          name: `tool:${toolName}`,
          replayed: false,
        });
        context.publish({
          type: 'tool-call-start',
          runId: context.runId,
          stepIndex: index,
          toolCallId: call.id,
          toolName,
          input,
          repairs,
          replayed: false,
        });
        const output = await executeCall(context, preparation, refusals.get(position), index, call.id);
        return { output: { ...output, toolName, input, repairs } };
      },
      { durable: effectful(position) },
    );
    const output = step.record.output as ToolStepOutput;
    if (step.replayed) {
      context.publish({
        type: 'step-start',
        runId: context.runId,
        index,
        kind: 'tool',
        name: step.record.name,
        replayed: true,
      });
      context.publish({
        type: 'tool-call-start',
        runId: context.runId,
        stepIndex: index,
        toolCallId: call.id,
        toolName,
        input: output.input,
        repairs: output.repairs,
        replayed: true,
      });
    }
    const durationMs = step.replayed ? step.record.finishedAt - step.record.startedAt : Date.now() - started;
    context.publish({
      type: 'tool-call-end',
      runId: context.runId,
      stepIndex: index,
      toolCallId: call.id,
      toolName,
      output: output.content,
      isError: !output.ok,
      durationMs,
      replayed: step.replayed,
    });
    context.publish({
      type: 'step-end',
      runId: context.runId,
      index,
      kind: 'tool',
      durationMs,
      replayed: step.replayed,
    });
    const message: ToolResultMessage = { role: 'tool', toolCallId: call.id, toolName, content: output.content };
    if (!output.ok) message.isError = true;
    return message;
  });
  return { kind: 'results', messages };
}

async function executeCall(
  context: ToolTurnContext,
  preparation: ReturnType<typeof prepareToolCall>,
  refusal: string | undefined,
  index: number,
  toolCallId: string,
): Promise<{ ok: boolean; content: string }> {
  if (preparation.status !== 'ready') return { ok: false, content: preparation.message };
  if (refusal !== undefined) return { ok: false, content: refusal };
  try {
    const result = await preparation.tool.execute(preparation.input as never, {
      runId: context.runId,
      stepIndex: index,
      idempotencyKey: `${context.runId}:${index}`,
      toolCallId,
      abortSignal: context.signal,
      workspace: context.workspace,
      runResources: context.runResources,
      recordArtifact: (artifact) =>
        context.journal.recordArtifact({
          runId: context.runId,
          stepIndex: index,
          path: artifact.path,
          mediaType: artifact.mediaType,
          description: artifact.description,
          createdAt: Date.now(),
        }),
    });
    return { ok: true, content: capText(resultText(result), context.maxResultCharacters) };
  } catch (error) {
    if (context.signal.aborted) throw error;
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
