/**
 * Recording a gateway call in the journal, so the cost ledger, cost reports and tenant budgets
 * count it like any run's model call: one run of the agent `gateway` (tenant of the key) with
 * one model step carrying the call's ledger entries. Calls are queued and written after their
 * responses are sent, in small transactions every 100 ms and with one fsync a second, so
 * recording adds no latency to a call. The price of that: budgets see a call up to 100 ms late,
 * and a power cut loses at most the last second's records (killing the process loses only
 * the calls not yet written, at most 100 ms of them).
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

/**
 * Record a batch: in transactions of `sliceSize` calls where the engine can, yielding to the
 * event loop between them so that requests in flight are not held up; else run by run.
 * Durability is left to the caller's next `sync()`.
 */
export async function recordGatewayCalls(engine: Engine, calls: GatewayCall[], sliceSize = 32): Promise<void> {
  const runs = calls.map(finishedRunOf);
  if (engine.recordFinishedRuns) {
    for (let start = 0; start < runs.length; start += sliceSize) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      await engine.recordFinishedRuns(runs.slice(start, start + sliceSize), { durable: false });
    }
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
  /** Write every queued call now, and make it durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Queues calls and writes them every `flushIntervalMs` (default 100 ms), in small transactions;
 * they reach the disk with one fsync every `syncIntervalMs` (default 1 s), since an fsync holds
 * the event loop for a while.
 */
export function createGatewayRecorder(init: {
  engine: () => Engine;
  flushIntervalMs?: number;
  syncIntervalMs?: number;
  log: (line: string) => void;
}): GatewayRecorder {
  let queue: GatewayCall[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let unsynced = false;
  let lastSync = Date.now();
  const write = (durable: boolean): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    writing = writing.then(async () => {
      try {
        if (batch.length > 0) {
          await recordGatewayCalls(init.engine(), batch);
          unsynced = true;
        }
        if (unsynced && (durable || Date.now() - lastSync >= (init.syncIntervalMs ?? 1000))) {
          await init.engine().sync();
          unsynced = false;
          lastSync = Date.now();
        }
      } catch (error) {
        init.log(
          `could not record ${batch.length} gateway calls: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    });
    return writing;
  };
  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      void write(false).then(() => {
        // Calls written but not yet synced get their fsync at the next interval.
        if (unsynced) schedule();
      });
    }, init.flushIntervalMs ?? 100);
  };
  return {
    record(call) {
      queue.push(call);
      schedule();
    },
    flush: () => write(true),
    close: () => write(true),
  };
}
