/**
 * The step recorder of one run execution: replays committed steps and commits new ones.
 *
 * - Replay: the committed steps are read once when the run starts; a step found there is
 *   returned (after checking it has the same name, so replay never hands a step someone else's
 *   output) and its body does not run.
 * - Commit: a new step's output is committed once. Commits are group-committed: a step is
 *   written at once (it survives the process being killed), and made durable on disk (fsync) at
 *   the latest before anything that depends on it leaves the process: before a tool with an
 *   effect runs (`sync()`), when a step is itself committed durably (effectful tool steps), and
 *   with the final result. See docs/durability.md.
 * - Totals: kept in memory, seeded from the journal, so limits are checked without a query.
 */

import type { Engine, LedgerEntry, StepKind, StepRecord } from '../engine/engine.js';
import { type FaultPoints, noFaultPoints } from '../engine/fault-points.js';
import { LeaseLostError, NonDeterminismError } from '../errors.js';
import type { JsonValue, Usage } from '../models/spec.js';
import type { RunTotalsSnapshot } from './events.js';

export interface StepIdentity {
  index: number;
  name: string;
  kind: StepKind;
  requestDigest: string;
  model?: string | undefined;
}

export interface StepBodyResult {
  output: JsonValue;
  usage?: Usage | undefined;
  costUsd?: number | undefined;
  /** Cost per model, for the cost ledger. */
  ledger?: LedgerEntry[] | undefined;
}

export interface DurableStepResult {
  record: StepRecord;
  /** True when the output came from the journal and the body did not run. */
  replayed: boolean;
}

export interface StepRecorder {
  readonly runId: string;
  /** Whether the journal held committed steps when the run (re)started. */
  readonly resumed: boolean;
  /** Replay step `identity.index`, or run `body` and commit its output. */
  step(
    identity: StepIdentity,
    body: () => Promise<StepBodyResult>,
    options?: { durable?: boolean },
  ): Promise<DurableStepResult>;
  /** Make every step committed so far durable on disk. */
  sync(): Promise<void>;
  /** Whether step `index` is in the journal already (it will be replayed). */
  isCommitted(index: number): boolean;
  totals(): RunTotalsSnapshot;
}

export async function createStepRecorder(
  engine: Engine,
  runId: string,
  options: { faults?: FaultPoints; now?: () => number } = {},
): Promise<StepRecorder> {
  const now = options.now ?? Date.now;
  const faults = options.faults ?? noFaultPoints;
  const committed = new Map<number, StepRecord>();
  for (const step of await engine.listSteps(runId)) committed.set(step.index, step);
  const totals = snapshotOf(await engine.totals(runId));
  let unsynced = false;
  const add = (record: StepRecord) => addStep(totals, record);

  return {
    runId,
    resumed: committed.size > 0,
    async step(identity, body, options = {}) {
      const existing = committed.get(identity.index);
      if (existing) {
        if (existing.name !== identity.name) {
          throw new NonDeterminismError(
            'non_determinism',
            `run ${runId}: step ${identity.index} was recorded as "${existing.name}" but replay reached "${identity.name}"; the agent's code or tools changed since the run started. Start a new run, or restore the previous version to resume this one.`,
            { details: { runId, index: identity.index, recorded: existing.name, replayed: identity.name } },
          );
        }
        return { record: existing, replayed: true };
      }
      faults.reach('before-step-body');
      const startedAt = now();
      const result = await body();
      faults.reach('after-step-body');
      const durable = options.durable === true;
      const record = await engine.commitStep(
        {
          runId,
          index: identity.index,
          name: identity.name,
          kind: identity.kind,
          requestDigest: identity.requestDigest,
          output: result.output,
          model: identity.model,
          usage: result.usage,
          costUsd: result.costUsd,
          ledger: result.ledger,
          startedAt,
          finishedAt: now(),
        },
        { durable },
      );
      unsynced = !durable;
      faults.reach('after-checkpoint');
      committed.set(identity.index, record);
      add(record);
      return { record, replayed: false };
    },
    async sync() {
      // Before an effect leaves the process, check this executor still owns the run (renewing
      // its lease): a process that lost its lease while paused must not act for the run.
      if (!(await engine.claimRun(runId))) {
        throw new LeaseLostError(
          'lease_lost',
          `run ${runId}: this process no longer owns the run (another process took it over), so it stops before running a tool with an effect.`,
        );
      }
      if (!unsynced) return;
      await engine.sync();
      unsynced = false;
    },
    isCommitted: (index) => committed.has(index),
    totals: () => ({ ...totals }),
  };
}

function snapshotOf(stored: RunTotalsSnapshot): RunTotalsSnapshot {
  return {
    modelCalls: stored.modelCalls,
    toolCalls: stored.toolCalls,
    inputTokens: stored.inputTokens,
    outputTokens: stored.outputTokens,
    cachedInputTokens: stored.cachedInputTokens,
    costUsd: stored.costUsd,
    unpricedModelCalls: stored.unpricedModelCalls,
  };
}

/** Count a committed step into the run's totals. */
function addStep(totals: RunTotalsSnapshot, record: StepRecord): void {
  if (record.kind === 'tool') {
    totals.toolCalls++;
    return;
  }
  totals.modelCalls++;
  totals.inputTokens += record.usage?.inputTokens ?? 0;
  totals.outputTokens += record.usage?.outputTokens ?? 0;
  totals.cachedInputTokens += record.usage?.cachedInputTokens ?? 0;
  if (record.costUsd === undefined) totals.unpricedModelCalls++;
  else totals.costUsd += record.costUsd;
}
