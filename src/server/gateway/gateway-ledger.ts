/**
 * Recording a gateway call in the journal, so the cost ledger, cost reports and tenant budgets
 * count it like any run's model call: one run of the agent `gateway` (tenant of the key) with
 * one model step carrying the call's ledger entries. Calls are queued and written after their
 * responses are sent, in batches every 100 ms, so recording adds no latency to a call.
 *
 * On a SQLite journal the batches are written by a worker thread with its own connection to the
 * file (`ledger-worker.ts`), one transaction per batch: the rows, the commits and the occasional
 * WAL checkpoint then cost the server's event loop nothing but passing the calls over. Elsewhere
 * (PostgreSQL, or the sources run without a build) they are written in this thread, in small
 * transactions with a turn of the event loop between them.
 *
 * What the ledger guarantees is the same either way: budgets see a call up to 100 ms (plus one
 * write) late; killing the process loses only the calls not yet written (at most the last
 * 100 ms or so); closing the server writes every queued call first. Under `durability: power`
 * the records are made durable with one fsync a second, so a power cut loses at most the last
 * second of them; under `process` (the default) a commit survives the process, not a power cut.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { JournalDurability } from '../../engine/durability.js';
import type { Engine, FinishedRun, LedgerEntry } from '../../engine/engine.js';
import type { ModelResponse, Usage } from '../../models/spec.js';
import { answerOfEventStream } from './chat-stream.js';
import { createJsonBatch, parseJsonBatch } from './json-batch.js';

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
  /**
   * A routing model's decisions (a `route:` model's cascade: the models tried, the answer it
   * rejected), recorded on the step as the agent loop records them, so that `routes train --from
   * ledger` can learn from gateway calls; the run's input is then the request's last user message.
   */
  routing?: ModelResponse['routing'] | undefined;
  /**
   * A relayed stream as the provider sent it (its first 4 MiB), when `text` and `toolCalls` are
   * left empty: they are read from it here, in the batch writer, not while the call is answered.
   */
  answerStream?: string | undefined;
}

/**
 * How many bytes of calls the recorder may hold unwritten before the gateway refuses new calls
 * (`requireLedgerRoom` in `gateway-routes.ts`): at a few kilobytes a call, tens of thousands of calls, some seconds of a
 * busy gateway whose writer stalled (a slow or full disk, a locked database).
 */
export const defaultMaxBacklogBytes = 64 * 1024 * 1024;

/** A call's size as JSON, nearly: its texts, and a kilobyte for the rest. */
function estimatedBytesOf(call: GatewayCall): number {
  return call.requestText.length + call.text.length + (call.answerStream?.length ?? 0) + 1024;
}

/** A batch of no calls, sent when only an fsync is due. */
const emptyBatch = new TextEncoder().encode('[]');

/** A gateway call's run input when it keeps no prompt. */
const gatewayInput = '(an OpenAI-compatible gateway call)';

/**
 * A gateway call as an ended run of the agent `gateway`, with its one model step. A call routed
 * with decisions to learn from keeps them on the step and its last user message as the input;
 * working that out (parsing the request again) happens here, in the batch writer, not while the
 * call is answered.
 */
export function finishedRunOf(recorded: GatewayCall): FinishedRun {
  const call = recorded.answerStream === undefined ? recorded : withStreamedAnswer(recorded, recorded.answerStream);
  const routed = call.routing !== undefined && call.routing.length > 0;
  return {
    run: {
      id: call.id,
      agentName: 'gateway',
      model: call.model,
      input: (routed ? lastUserText(call.requestText) : undefined) ?? gatewayInput,
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
        output: {
          text: call.text,
          toolCalls: call.toolCalls.map((toolCall) => ({ ...toolCall })),
          ...(routed
            ? {
                routing: (call.routing ?? []).map(({ model, reason, rejectedAnswer }) => ({
                  model,
                  reason,
                  ...(rejectedAnswer === undefined ? {} : { rejectedAnswer }),
                })),
              }
            : {}),
        },
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

function withStreamedAnswer(call: GatewayCall, stream: string): GatewayCall {
  const answer = answerOfEventStream(stream);
  return { ...call, text: answer.text, toolCalls: answer.toolCalls };
}

/**
 * The text of the last user message of a chat completions request (`messages`) or a responses
 * request (`input`), as the request text the gateway validated; undefined when there is none.
 */
export function lastUserText(requestText: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(requestText);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { messages, input } = body as { messages?: unknown; input?: unknown };
  if (typeof input === 'string') return input;
  const list = Array.isArray(messages) ? messages : Array.isArray(input) ? input : [];
  for (let index = list.length - 1; index >= 0; index -= 1) {
    const message = list[index] as { role?: unknown; content?: unknown } | null;
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (!Array.isArray(message.content)) return undefined;
    // Chat parts are joined by line breaks (as the verifier reads them), responses parts as they are.
    const texts = message.content
      .map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : undefined))
      .filter((text): text is string => text !== undefined);
    return texts.join(Array.isArray(messages) ? '\n' : '');
  }
  return undefined;
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
  /**
   * Bytes of calls recorded and not yet written (their JSON, or an estimate for calls kept as
   * objects): what the recorder holds in memory because its writer is behind.
   */
  readonly backlogBytes: number;
  /** The most `backlogBytes` may reach before the gateway refuses new calls (`requireLedgerRoom` in `gateway-routes.ts`). */
  readonly maxBacklogBytes: number;
  /** Write every queued call now, and make it durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Where the calls are written: by a worker thread, or in this one. */
  readonly writer: 'worker' | 'this thread';
}

/** What the gateway reads of a recorder before it takes a call: how far behind its writer is. */
export type LedgerRoom = Pick<GatewayRecorder, 'backlogBytes' | 'maxBacklogBytes'>;

/** What `ledger-worker.ts` is started with, sent, and answers. */
export interface LedgerWorkerData {
  path: string;
  durability: JournalDurability | undefined;
}

/**
 * A batch travels as the UTF-8 text of a JSON array (`json-batch.ts`): cloning the calls as
 * objects cost the event loop several times more.
 */
export type LedgerWorkerMessage =
  | {
      id: number;
      calls: Uint8Array;
      durable: boolean;
      /** When the oldest call of the batch was recorded (ms since the epoch): how far behind the writer is. */
      queuedSince: number;
    }
  | { id: number; close: true };

export interface LedgerWorkerReply {
  id: number;
  error?: string;
}

/** The worker's module next to this one: present in the build (dist/), absent when the sources run. */
const ledgerWorkerFile = fileURLToPath(new URL('./ledger-worker.js', import.meta.url));

/**
 * Queues calls and writes them every `flushIntervalMs` (default 100 ms); they are made durable
 * (under `durability: power`) with one fsync every `syncIntervalMs` (default 1 s), since an
 * fsync takes a while. With `sqlitePath` (the journal's file) the writes go to a worker thread.
 */
export function createGatewayRecorder(init: {
  engine: () => Engine;
  /** The SQLite journal's file: write from a worker thread with its own connection to it. */
  sqlitePath?: string | undefined;
  durability?: JournalDurability | undefined;
  flushIntervalMs?: number;
  syncIntervalMs?: number;
  /** Refuse new calls (`requireLedgerRoom`) while this many bytes wait to be written; default 64 MiB. */
  maxBacklogBytes?: number;
  log: (line: string) => void;
}): GatewayRecorder {
  const maxBacklogBytes = init.maxBacklogBytes ?? defaultMaxBacklogBytes;
  /** Bytes recorded and not yet written: those waiting for the next write, and those being written. */
  let backlogBytes = 0;
  /** Of `backlogBytes`, those of the calls waiting for the next write. */
  let pendingBytes = 0;
  /** Whether the backlog passed its bound (logged once, and once when it is back under it). */
  let refusing = false;
  /**
   * Calls waiting for the next write. For the worker, each call's JSON is made when it is
   * recorded (after its answer went out), rather than all together at the write, which held the
   * event loop for a fraction of a millisecond ten times a second; and it waits as bytes outside
   * the heap (`json-batch.ts`), which the garbage collector neither copies nor promotes. Without
   * a worker, the calls wait as they are.
   */
  const pendingJson = createJsonBatch();
  let pendingCalls: GatewayCall[] = [];
  let queuedSince = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let unsynced = false;
  let lastSync = Date.now();
  const worker =
    init.sqlitePath !== undefined && init.sqlitePath !== ':memory:' && existsSync(ledgerWorkerFile)
      ? startLedgerWorker(init.sqlitePath, init.durability, init.log)
      : undefined;
  /** Write a batch in this thread, in small transactions; fsync when due. */
  const writeHere = async (calls: GatewayCall[], durable: boolean): Promise<void> => {
    if (calls.length > 0) {
      await recordGatewayCalls(init.engine(), calls);
      unsynced = true;
    }
    if (unsynced && (durable || Date.now() - lastSync >= (init.syncIntervalMs ?? 1000))) {
      await init.engine().sync();
      unsynced = false;
      lastSync = Date.now();
    }
  };
  const write = (durable: boolean): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const calls = pendingCalls;
    pendingCalls = [];
    const jsonCount = pendingJson.count;
    const json = jsonCount > 0 ? pendingJson.take() : undefined;
    const batchQueuedSince = queuedSince;
    const batchBytes = pendingBytes;
    pendingBytes = 0;
    /** The batch as calls, for this thread to write (the worker is gone, or there is none). */
    const batchCalls = () => (json === undefined ? calls : [...(parseJsonBatch(json) as GatewayCall[]), ...calls]);
    writing = writing.then(async () => {
      try {
        // Calls wait as objects only once the worker is gone.
        if (worker?.running() && calls.length === 0) {
          const syncDue = durable || Date.now() - lastSync >= (init.syncIntervalMs ?? 1000);
          if (json === undefined && !(syncDue && unsynced)) return;
          try {
            await worker.send(json ?? emptyBatch, syncDue, batchQueuedSince);
            if (syncDue) {
              unsynced = false;
              lastSync = Date.now();
            } else if (json !== undefined) unsynced = true;
            return;
          } catch (error) {
            // The worker is gone: this thread writes the batch (and the next ones) itself.
            if (worker.running()) throw error;
          }
        }
        await writeHere(batchCalls(), durable);
      } catch (error) {
        init.log(
          `could not record ${jsonCount + calls.length} gateway calls: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        backlogBytes -= batchBytes;
        if (refusing && backlogBytes <= maxBacklogBytes) {
          refusing = false;
          init.log('the gateway ledger caught up: new gateway calls are served again.');
        }
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
      if (pendingJson.count === 0 && pendingCalls.length === 0) queuedSince = Date.now();
      let bytes: number;
      if (worker?.running()) {
        const json = JSON.stringify(call);
        pendingJson.append(json);
        bytes = json.length;
      } else {
        pendingCalls.push(call);
        bytes = estimatedBytesOf(call);
      }
      pendingBytes += bytes;
      backlogBytes += bytes;
      if (!refusing && backlogBytes > maxBacklogBytes) {
        refusing = true;
        init.log(
          `the gateway ledger's writer is ${Math.ceil(backlogBytes / (1024 * 1024))} MiB behind: new gateway calls are refused (503) until it catches up.`,
        );
      }
      schedule();
    },
    get backlogBytes() {
      return backlogBytes;
    },
    maxBacklogBytes,
    flush: () => write(true),
    async close() {
      await write(true);
      await worker?.close();
    },
    get writer() {
      return worker?.running() ? 'worker' : 'this thread';
    },
  };
}

/**
 * The ledger worker: batches sent to it are written in order, each answered once committed.
 * Should the thread fail (it cannot open the file, it dies), `running()` turns false and the
 * recorder writes in its own thread from then on, starting with the batch that was in flight.
 */
function startLedgerWorker(path: string, durability: JournalDurability | undefined, log: (line: string) => void) {
  // Code that imports the module rather than the file itself: a thread refuses a file as its
  // entry under an inherited `--input-type` (see `serve-command.ts`).
  const entry = `import(${JSON.stringify(pathToFileURL(ledgerWorkerFile).href)});`;
  const worker = new Worker(entry, { eval: true, workerData: { path, durability } satisfies LedgerWorkerData });
  // Idle, it must not keep a finished process alive (the recorder's close() ends it); with a
  // batch in flight it must, or a server stopping would exit before its last calls are written.
  worker.unref();
  let alive = true;
  let nextId = 0;
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  const failAll = (error: Error) => {
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  worker.on('message', (reply: LedgerWorkerReply) => {
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.error === undefined) waiting?.resolve();
    else waiting?.reject(new Error(reply.error));
  });
  worker.on('error', (error) => {
    alive = false;
    log(`the ledger worker failed (${error.message}); gateway calls are written in the server's thread from now on.`);
    failAll(error);
  });
  worker.on('exit', () => {
    alive = false;
    failAll(new Error('the ledger worker stopped'));
  });
  const post = (message: LedgerWorkerMessage) =>
    new Promise<void>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(message.id, { resolve, reject });
      worker.postMessage(message);
    });
  return {
    running: () => alive,
    send: (calls: Uint8Array, durable: boolean, queuedSince: number) =>
      post({ id: nextId++, calls, durable, queuedSince }),
    async close() {
      if (!alive) return;
      await post({ id: nextId++, close: true }).catch(() => {});
      alive = false;
      await worker.terminate();
    },
  };
}
