/**
 * One durable step: if the journal already holds a committed output at this index, return it
 * (after checking the step has the same name, so replay never hands a step someone else's
 * output); otherwise run the body and commit its output before returning.
 */
import { NonDeterminismError } from '../errors.js';
import type { Journal, StepKind, StepRecord } from '../journal/journal.js';
import type { JsonValue, Usage } from '../models/spec.js';

export interface StepIdentity {
  runId: string;
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
}

export interface DurableStepResult {
  record: StepRecord;
  /** True when the output came from the journal and the body did not run. */
  replayed: boolean;
}

export async function durableStep(
  journal: Journal,
  identity: StepIdentity,
  body: () => Promise<StepBodyResult>,
  now: () => number = Date.now,
): Promise<DurableStepResult> {
  const committed = journal.getStep(identity.runId, identity.index);
  if (committed) {
    if (committed.name !== identity.name) {
      throw new NonDeterminismError(
        'non_determinism',
        `run ${identity.runId}: step ${identity.index} was recorded as "${committed.name}" but replay reached "${identity.name}"; the agent's code or tools changed since the run started. Start a new run, or restore the previous version to resume this one.`,
        {
          details: { runId: identity.runId, index: identity.index, recorded: committed.name, replayed: identity.name },
        },
      );
    }
    return { record: committed, replayed: true };
  }
  const startedAt = now();
  const result = await body();
  const record = journal.commitStep({
    runId: identity.runId,
    index: identity.index,
    name: identity.name,
    kind: identity.kind,
    requestDigest: identity.requestDigest,
    output: result.output,
    model: identity.model,
    usage: result.usage,
    costUsd: result.costUsd,
    startedAt,
    finishedAt: now(),
  });
  return { record, replayed: false };
}
