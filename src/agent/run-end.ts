/**
 * How a run ends, in one place: the journal is told, the `run-end` event is published, and the
 * caller gets its result (or the error to throw). Every way out of the loop comes through
 * `endRun`: an answer or a limit (`finished`), a wait for approval (`waiting`), a failure
 * (`failed`), an abort (`interrupted`), and a run that had already ended (`recorded`).
 */
import type { ApprovalRecord, Engine, RunRecord, RunTotals } from '../engine/engine.js';
import { HatarakuError } from '../errors.js';
import type { JsonValue } from '../models/spec.js';
import type { RunEvent, RunTotalsSnapshot } from './events.js';
import type { RunResult } from './run-types.js';
import { type EndStopReason, type StopReason, stopReasonFrom } from './stop-reason.js';

export type RunEnding =
  | { kind: 'finished'; status: 'completed' | 'stopped'; stopReason: EndStopReason; output: JsonValue | undefined }
  | { kind: 'waiting'; approvals: ApprovalRecord[] }
  | { kind: 'failed'; error: unknown }
  | { kind: 'interrupted' }
  | { kind: 'recorded'; record: RunRecord & { status: 'completed' | 'stopped' } };

export interface RunEndContext {
  engine: Engine;
  runId: string;
  publish: (event: RunEvent) => void;
  totals: () => RunTotalsSnapshot;
}

/**
 * End the run as `ending` says. Resolves with the result for normal endings; for `failed` and
 * `interrupted` it resolves with the error the caller must throw.
 */
export async function endRun(
  context: RunEndContext,
  ending: Exclude<RunEnding, { kind: 'failed' | 'interrupted' }>,
): Promise<RunResult>;
export async function endRun(
  context: RunEndContext,
  ending: Extract<RunEnding, { kind: 'failed' | 'interrupted' }>,
): Promise<unknown>;
export async function endRun(context: RunEndContext, ending: RunEnding): Promise<RunResult | unknown> {
  const { engine, runId } = context;
  switch (ending.kind) {
    case 'finished': {
      const { status, stopReason, output } = ending;
      await engine.finishRun(runId, { status, stopReason, output });
      return published(context, { runId, status, stopReason, output, totals: context.totals() });
    }
    case 'waiting': {
      await engine.setRunStatus(runId, 'waiting');
      await engine.releaseRun(runId);
      publishApprovals(context, ending.approvals);
      const result: RunResult = {
        runId,
        status: 'waiting',
        stopReason: 'approval-required',
        output: undefined,
        totals: context.totals(),
        approvals: ending.approvals,
      };
      return published(context, result);
    }
    case 'failed':
      return failed(context, ending.error);
    case 'interrupted':
      publishRunEnd(context, { status: 'interrupted', stopReason: 'aborted', output: undefined, error: undefined });
      return new HatarakuError(
        'model_aborted',
        `run ${runId} was interrupted; continue it with \`hataraku runs resume ${runId}\`.`,
      );
    case 'recorded': {
      const { record } = ending;
      const result: RunResult = {
        runId: record.id,
        status: record.status,
        stopReason: stopReasonFrom(record.stopReason),
        output: record.output,
        totals: context.totals(),
      };
      return published(context, result);
    }
  }
}

/** A run that already ended: its recorded result, without executing anything. */
export async function recordedResult(
  engine: Engine,
  record: RunRecord & { status: 'completed' | 'stopped' },
  publish: (event: RunEvent) => void,
): Promise<RunResult> {
  const totals = snapshot(await engine.totals(record.id));
  return endRun({ engine, runId: record.id, publish, totals: () => totals }, { kind: 'recorded', record });
}

/** Tell observers about approvals a run now waits for. */
export function publishApprovals(context: Pick<RunEndContext, 'publish' | 'runId'>, approvals: ApprovalRecord[]): void {
  for (const approval of approvals) {
    context.publish({
      type: 'approval-requested',
      runId: context.runId,
      stepIndex: approval.stepIndex,
      toolName: approval.toolName,
      input: approval.input,
      reason: approval.reason,
      deadline: approval.deadline,
    });
  }
}

async function failed(context: RunEndContext, error: unknown): Promise<unknown> {
  const message = error instanceof Error ? error.message : String(error);
  const stopReason: StopReason = error instanceof HatarakuError ? error.code : 'internal_error';
  try {
    await context.engine.finishRun(context.runId, { status: 'failed', stopReason, output: undefined, error: message });
  } catch {
    // The journal itself failed (say, locked by another process): the run stays open and can
    // be resumed; the caller gets the original error, not this one.
  }
  publishRunEnd(context, { status: 'failed', stopReason, output: undefined, error: message });
  return error;
}

function published(context: RunEndContext, result: RunResult): RunResult {
  const { status, stopReason, output, totals } = result;
  publishRunEnd(context, { status, stopReason, output, error: undefined }, totals);
  return result;
}

/** The only place a `run-end` event is published. */
function publishRunEnd(
  context: RunEndContext,
  fields: Pick<Extract<RunEvent, { type: 'run-end' }>, 'status' | 'stopReason' | 'output' | 'error'>,
  totals: RunTotalsSnapshot = context.totals(),
): void {
  context.publish({ type: 'run-end', runId: context.runId, ...fields, totals });
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
