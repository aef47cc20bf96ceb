/**
 * JavaScript in the wasm tier: QuickJS (quickjs-emscripten) inside a `worker_threads` Worker.
 *
 * Why a worker: QuickJS's memory limit is its allocator's bookkeeping, not a hard cap, and a
 * program stuck inside a host call cannot be interrupted. The worker gives three layers: the
 * QuickJS limit (a catchable "out of memory"), an interrupt handler that stops the program when
 * the WebAssembly memory grows past the hard cap or the deadline passes, and, as the last
 * resort, `worker.terminate()` from this thread when a run overstays its deadline. The worker's
 * own V8 heap is bounded with `resourceLimits`. WebAssembly memory never shrinks, so after a
 * memory overrun the worker is replaced and the next run starts from a fresh context.
 */

import { createRequire } from 'node:module';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { ProtectedPaths } from '../files/protected-paths.js';
import { quickjsWorkerSource } from './quickjs-worker-source.js';
import type { SandboxLimit } from './sandbox.js';
import { workerReady } from './worker-ready.js';
import { answerWorkspaceFileRequest, type WorkspaceFileRequest, type WriteBudget } from './workspace-file-service.js';

export interface QuickJsEngineOptions {
  workspace: string | undefined;
  protectedPaths: ProtectedPaths;
  memoryMb: number;
  maxOutputBytes: number;
  /** Bytes one run may write through `writeFile` in all. */
  maxWriteBytes: number;
}

export interface EngineRunResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  limit: SandboxLimit | undefined;
  outputTruncated: boolean;
  notes: string[];
}

interface WorkerReply {
  type: 'ready' | 'failed' | 'result';
  id?: number;
  error?: string;
  stdout?: string;
  stderr?: string;
  exitCode?: number | null;
  limit?: SandboxLimit;
  outputTruncated?: boolean;
  fatal?: boolean;
}

/** Time allowed past the deadline for the interrupt handler before the worker is terminated. */
const terminateGraceMs = 500;

const quickjsPath = createRequire(import.meta.url).resolve('quickjs-emscripten');

/** A warm QuickJS context in its own worker. Runs are serialised. */
export class QuickJsEngine {
  readonly #options: QuickJsEngineOptions;
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #nextId = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #resetNote: string | undefined;
  /** What the current run has written; replaced at the start of each run. */
  #writeBudget: WriteBudget;

  constructor(options: QuickJsEngineOptions) {
    this.#options = options;
    this.#writeBudget = { limitBytes: options.maxWriteBytes, writtenBytes: 0, exceeded: false };
  }

  /** Start the worker and load QuickJS, if not done yet. */
  start(): Promise<void> {
    if (this.#ready !== undefined) return this.#ready;
    const memoryBytes = this.#options.memoryMb * 1024 * 1024;
    const control = new SharedArrayBuffer(4);
    const signal = new Int32Array(control);
    const { port1: hostPort, port2: filePort } = new MessageChannel();
    hostPort.on('message', (request: WorkspaceFileRequest) => {
      hostPort.postMessage(
        answerWorkspaceFileRequest(this.#options.workspace, this.#options.protectedPaths, request, this.#writeBudget),
      );
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
    });
    hostPort.unref();
    const worker = new Worker(quickjsWorkerSource, {
      eval: true,
      // No Node options inherited: the source is a script, which `--input-type=module` would
      // make a module (without `require`); and the process's preloads have no business here.
      execArgv: [],
      workerData: {
        quickjsPath,
        memoryLimitBytes: memoryBytes,
        hardMemoryBytes: memoryBytes + 16 * 1024 * 1024,
        maxOutputBytes: this.#options.maxOutputBytes,
        filePort,
        control,
      },
      transferList: [filePort],
      // The worker's own JavaScript heap holds only strings passed in and out; the program's
      // memory is the WebAssembly memory, capped by the interrupt handler.
      resourceLimits: {
        maxOldGenerationSizeMb: 64 + Math.ceil(this.#options.memoryMb / 4),
        maxYoungGenerationSizeMb: 16,
      },
      stdout: false,
      stderr: false,
      // The worker's own copy of the environment: empty, so nothing there is worth reaching.
      env: {},
    });
    this.#worker = worker;
    worker.once('exit', () => {
      hostPort.close();
      if (this.#worker === worker) {
        this.#worker = undefined;
        this.#ready = undefined;
      }
    });
    this.#ready = workerReady(worker, 'QuickJS');
    return this.#ready;
  }

  run(code: string, timeoutMs: number): Promise<EngineRunResult> {
    const next = this.#queue.then(() => this.#runNow(code, timeoutMs));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #runNow(code: string, timeoutMs: number): Promise<EngineRunResult> {
    await this.start();
    const worker = this.#worker;
    if (worker === undefined) throw new Error('the QuickJS worker stopped before the run');
    const id = this.#nextId++;
    const notes: string[] = [];
    const budget: WriteBudget = { limitBytes: this.#options.maxWriteBytes, writtenBytes: 0, exceeded: false };
    this.#writeBudget = budget;
    if (this.#resetNote !== undefined) {
      notes.push(this.#resetNote);
      this.#resetNote = undefined;
    }
    return new Promise<EngineRunResult>((resolve) => {
      let settled = false;
      const finish = (result: EngineRunResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(result);
      };
      const onMessage = (reply: WorkerReply) => {
        if (reply.type !== 'result' || reply.id !== id) return;
        if (reply.fatal === true) {
          this.#replaceWorker(
            'The previous run hit the memory cap; the JavaScript context was reset (globals are gone).',
          );
        }
        if (budget.exceeded) {
          notes.push(
            `A writeFile was refused: the run may write at most ${budget.limitBytes} bytes in all (the write limit, maxWriteBytes); refused files were not written at all.`,
          );
        }
        finish({
          stdout: reply.stdout ?? '',
          stderr: reply.stderr ?? '',
          exitCode: reply.exitCode ?? null,
          limit: reply.limit ?? (budget.exceeded ? 'disk' : undefined),
          outputTruncated: reply.outputTruncated ?? false,
          notes,
        });
      };
      const onExit = () => {
        this.#resetNote = 'The previous run crashed the JavaScript worker; the context was reset (globals are gone).';
        finish({
          stdout: '',
          stderr: 'The JavaScript worker stopped unexpectedly (likely out of memory).',
          exitCode: null,
          limit: 'memory',
          outputTruncated: false,
          notes,
        });
      };
      const timer = setTimeout(() => {
        this.#replaceWorker(
          'The previous run was stopped at its time limit; the JavaScript context was reset (globals are gone).',
        );
        finish({ stdout: '', stderr: '', exitCode: null, limit: 'time', outputTruncated: false, notes });
      }, timeoutMs + terminateGraceMs);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.postMessage({ type: 'run', id, code, timeoutMs });
    });
  }

  #replaceWorker(note: string): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    this.#resetNote = note;
    void worker?.terminate();
  }

  async dispose(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#ready = undefined;
    await worker?.terminate();
  }
}
