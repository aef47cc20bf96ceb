/**
 * Recording a gateway call in the journal, so the cost ledger, cost reports and tenant budgets
 * count it like any run's model call: one run of the agent `gateway` (tenant of the key) with
 * one model step carrying the call's ledger entries. Calls are queued and written in batches
 * after their responses are sent (every `flushIntervalMs`, default 1 s), one transaction and one
 * fsync per batch, so recording adds no latency to a call. The price of that: budgets see a call up
 * to one interval late, and a crash loses at most the last interval's records.
 */
import { createHash } from 'node:crypto';
import type { Engine, FinishedRun, LedgerEntry } from '../../engine/engine.js';
import type { ModelResponse, Usage } from '../../models/spec.js';

export interface GatewayCall {
  id: string;
  model: string;
  tenant: string;
  keyName: string;
  requestText: string;
  text: string;
  toolCalls: ModelResponse['toolCalls'];
  usage: Usage;
  costUsd: number | undefined;
  ledger: LedgerEntry[];
  startedAt: number;
  finishedAt: number;
}

/** A gateway call as an ended run of the agent `gateway`, with its one model step. */
export function finishedRunOf(call: GatewayCall): FinishedRun {
  return {
    run: {
      id: call.id,
      agentName: 'gateway',
      model: call.model,
      input: '(an OpenAI-compatible gateway call)',
      spec: { gateway: true, key: call.keyName },
      tenant: call.tenant,
    },
    steps: [
      {
        runId: call.id,
        index: 0,
        name: 'model',
        kind: 'model',
        requestDigest: createHash('sha256').update(call.requestText).digest('hex'),
        output: { text: call.text, toolCalls: call.toolCalls.map((toolCall) => ({ ...toolCall })) },
        model: call.model,
        usage: call.usage,
        costUsd: call.costUsd,
        startedAt: call.startedAt,
        finishedAt: call.finishedAt,
        ledger: call.ledger,
      },
    ],
    outcome: { status: 'completed', stopReason: 'final-answer', output: call.text },
  };
}

/** Record a batch: in one transaction where the engine can, else run by run. */
export async function recordGatewayCalls(engine: Engine, calls: GatewayCall[]): Promise<void> {
  const runs = calls.map(finishedRunOf);
  if (engine.recordFinishedRuns) {
    await engine.recordFinishedRuns(runs);
    return;
  }
  await Promise.all(
    runs.map(async ({ run, steps, outcome }) => {
      await engine.createRun(run);
      for (const step of steps) await engine.commitStep(step);
      await engine.finishRun(run.id, outcome);
    }),
  );
}

export interface GatewayRecorder {
  record(call: GatewayCall): void;
  /** Write every queued call now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createGatewayRecorder(init: {
  engine: () => Engine;
  flushIntervalMs?: number;
  log: (line: string) => void;
}): GatewayRecorder {
  let queue: GatewayCall[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    writing = writing.then(async () => {
      if (batch.length === 0) return;
      await recordGatewayCalls(init.engine(), batch).catch((error: unknown) =>
        init.log(
          `could not record ${batch.length} gateway calls: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    });
    return writing;
  };
  return {
    record(call) {
      queue.push(call);
      timer ??= setTimeout(() => void flush(), init.flushIntervalMs ?? 1000);
    },
    flush,
    close: flush,
  };
}
