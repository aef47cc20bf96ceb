/**
 * Python in the wasm tier: Pyodide (CPython compiled to WebAssembly, standard library only when
 * offline) inside a `worker_threads` Worker, so that a run that ignores its KeyboardInterrupt
 * can still be stopped by terminating the worker.
 *
 * The workspace is not mounted into Pyodide (a NODEFS mount would hand Python a live bridge to
 * the host file system); it is copied into Pyodide's in-memory file system at `/workspace`
 * before each run (only files changed since the last copy), and the files the run wrote are
 * copied back through `resolveInWorkspace`. The interpreter stays alive between runs, so
 * globals persist like in a notebook.
 */

import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { resolveInWorkspace } from '../files/workspace-path.js';
import { pyodideWorkerSource } from './pyodide-worker-source.js';
import type { EngineRunResult } from './quickjs-sandbox.js';
import type { SandboxLimit } from './sandbox.js';
import { workerReady } from './worker-ready.js';
import { type FileStamp, snapshotWorkspace } from './workspace-snapshot.js';

export interface PyodideEngineOptions {
  workspace: string | undefined;
  memoryMb: number;
  maxOutputBytes: number;
}

/** Largest single file copied into Pyodide; larger ones are left out with a note. */
const maxCopiedFileBytes = 50_000_000;
/** Time allowed past the deadline for the KeyboardInterrupt before the worker is terminated. */
const terminateGraceMs = 1_000;

const pyodideDirectory = dirname(createRequire(import.meta.url).resolve('pyodide/package.json'));
const pyodideUrl = pathToFileURL(join(pyodideDirectory, 'pyodide.mjs')).href;

interface WorkerReply {
  type: 'ready' | 'failed' | 'result';
  id?: number;
  error?: string;
  stdout?: string;
  stderr?: string;
  exitCode?: number | null;
  limit?: SandboxLimit;
  outputTruncated?: boolean;
  written?: Array<{ path: string; data: ArrayBuffer }>;
  deleted?: string[];
}

/** A warm Pyodide interpreter in its own worker. Runs are serialised. */
export class PyodideEngine {
  readonly #options: PyodideEngineOptions;
  #worker: Worker | undefined;
  #ready: Promise<void> | undefined;
  #interrupt = new Uint8Array(new SharedArrayBuffer(1));
  #synced = new Map<string, FileStamp>();
  #nextId = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #resetNote: string | undefined;

  constructor(options: PyodideEngineOptions) {
    this.#options = options;
  }

  /** Start the worker and load Pyodide (a few seconds), if not done yet. */
  start(): Promise<void> {
    if (this.#ready !== undefined) return this.#ready;
    const worker = new Worker(pyodideWorkerSource, {
      eval: true,
      workerData: {
        pyodideUrl,
        indexURL: `${pyodideDirectory}/`,
        memoryMb: this.#options.memoryMb,
        maxOutputBytes: this.#options.maxOutputBytes,
        interruptBuffer: this.#interrupt.buffer,
      },
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
      stdout: false,
      stderr: false,
    });
    this.#worker = worker;
    this.#synced = new Map();
    worker.once('exit', () => {
      if (this.#worker === worker) {
        this.#worker = undefined;
        this.#ready = undefined;
      }
    });
    this.#ready = workerReady(worker, 'Pyodide');
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
    if (worker === undefined) throw new Error('the Pyodide worker stopped before the run');
    const notes: string[] = [];
    if (this.#resetNote !== undefined) {
      notes.push(this.#resetNote);
      this.#resetNote = undefined;
    }
    const { files, removed } = this.#filesToCopyIn(notes);
    const id = this.#nextId++;
    this.#interrupt[0] = 0;

    return new Promise<EngineRunResult>((resolve) => {
      let settled = false;
      const finish = (result: EngineRunResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(interruptTimer);
        clearTimeout(terminateTimer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(result);
      };
      const onMessage = (reply: WorkerReply) => {
        if (reply.type !== 'result' || reply.id !== id) return;
        this.#copyOut(reply.written ?? [], reply.deleted ?? [], notes);
        finish({
          stdout: reply.stdout ?? '',
          stderr: reply.stderr ?? '',
          exitCode: reply.exitCode ?? null,
          limit: reply.limit,
          outputTruncated: reply.outputTruncated ?? false,
          notes,
        });
      };
      const onExit = () => {
        this.#resetNote = 'The previous run crashed the Python worker; the interpreter was reset (variables are gone).';
        finish({
          stdout: '',
          stderr: 'The Python worker stopped unexpectedly.',
          exitCode: null,
          limit: 'memory',
          outputTruncated: false,
          notes,
        });
      };
      // First a KeyboardInterrupt (the interpreter and its variables survive), then termination.
      const interruptTimer = setTimeout(() => {
        this.#interrupt[0] = 2;
      }, timeoutMs);
      const terminateTimer = setTimeout(() => {
        this.#replaceWorker(
          'The previous run ignored its time limit and was killed; the interpreter was reset (variables are gone).',
        );
        finish({ stdout: '', stderr: '', exitCode: null, limit: 'time', outputTruncated: false, notes });
      }, timeoutMs + terminateGraceMs);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      const transfer = files.map((file) => file.data);
      worker.postMessage({ type: 'run', id, code, files, removed }, transfer);
    });
  }

  /** Workspace files that changed since the last copy into Pyodide, read as bytes. */
  #filesToCopyIn(notes: string[]): { files: Array<{ path: string; data: ArrayBuffer }>; removed: string[] } {
    const workspace = this.#options.workspace;
    if (workspace === undefined) return { files: [], removed: [] };
    const root = resolveInWorkspace(workspace, '.');
    const current = snapshotWorkspace(root);
    const files: Array<{ path: string; data: ArrayBuffer }> = [];
    for (const [path, stamp] of current) {
      const previous = this.#synced.get(path);
      if (previous !== undefined && previous.size === stamp.size && previous.modifiedMs === stamp.modifiedMs) continue;
      if (stamp.size > maxCopiedFileBytes) {
        notes.push(
          `${path} (${stamp.size} bytes) is larger than ${maxCopiedFileBytes} bytes and was not copied into Python.`,
        );
        continue;
      }
      const bytes = readFileSync(join(root, path));
      files.push({
        path,
        data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
      });
      this.#synced.set(path, stamp);
    }
    const removed = [...this.#synced.keys()].filter((path) => !current.has(path));
    for (const path of removed) this.#synced.delete(path);
    return { files, removed };
  }

  /** Write back what the run wrote, each path confined to the workspace. */
  #copyOut(written: Array<{ path: string; data: ArrayBuffer }>, deleted: string[], notes: string[]): void {
    const workspace = this.#options.workspace;
    if (workspace === undefined) {
      if (written.length > 0) notes.push('This run has no workspace; files written by Python were not kept.');
      return;
    }
    for (const file of written) {
      try {
        const target = resolveInWorkspace(workspace, file.path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, new Uint8Array(file.data));
        const stats = statSync(target);
        this.#synced.set(file.path, { size: stats.size, modifiedMs: stats.mtimeMs });
      } catch (error) {
        notes.push(`${file.path} was not saved: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    for (const path of deleted) {
      try {
        rmSync(resolveInWorkspace(workspace, path), { force: true });
        this.#synced.delete(path);
      } catch (error) {
        notes.push(`${path} was not deleted: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
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
