/**
 * Python in the wasm tier: Pyodide (CPython compiled to WebAssembly, standard library only when
 * offline) in a separate Node process, never in Hataraku's own.
 *
 * Why a process: Pyodide's Python can reach JavaScript (its foreign function interface, and
 * `ctypes` into Emscripten's `emscripten_run_script`), and any JavaScript object leads to the
 * realm's `Function` and so to everything that realm holds. Hiding modules does not close that;
 * so the realm Python runs in holds nothing worth taking:
 * - the process is started with an empty environment (no API key, no token);
 * - it has no workspace and no host file system in its Python: the workspace is copied into
 *   Pyodide's in-memory file system at `/workspace` before each run (protected entries left
 *   out), and the files the run wrote come back as bytes that this side writes through the
 *   descriptor-checked {@link writeFileWithoutLinks} (protected names refused);
 * - where bubblewrap works, the process runs inside it (no network, no host files but Node and
 *   Pyodide read-only, own PID namespace, uid 65534); elsewhere Node's permission model is its
 *   only fence (reads limited to Pyodide's files, no writes, no child processes), which Node's
 *   documentation says does not hold against malicious code, so `auto` does not choose this
 *   tier for Python there, and choosing it prints a warning (see `choose-sandbox.ts`).
 * The interpreter stays alive between runs, so globals persist like in a notebook; a run that
 * ignores its KeyboardInterrupt has the whole process killed.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createProtectedPaths, type ProtectedPaths } from '../files/protected-paths.js';
import {
  readFileWithoutLinks,
  removeFileWithoutLinks,
  type WorkspaceAccess,
  workspaceAccess,
  writeFileWithoutLinks,
} from '../files/workspace-access.js';
import { resolveInWorkspace } from '../files/workspace-path.js';
import { bubblewrapSupports, isolationArguments, sandboxSpawnEnvironment } from './process-sandbox.js';
import { pyodideHostSource } from './pyodide-host-source.js';
import { pyodideWorkerSource } from './pyodide-worker-source.js';
import type { EngineRunResult } from './quickjs-sandbox.js';
import type { SandboxLimit } from './sandbox.js';
import { bytesPerEntry } from './workspace-disk-use.js';
import { maxEntriesWithin } from './workspace-file-service.js';
import { type FileStamp, snapshotWorkspace } from './workspace-snapshot.js';

/** How the Pyodide process is fenced in. */
export type PyodideConfinement =
  /** Inside bubblewrap, plus Node's permission model. */
  | { kind: 'bubblewrap'; bubblewrapPath: string }
  /** Node's permission model only (no bubblewrap here). */
  | { kind: 'permission-model' };

export interface PyodideEngineOptions {
  workspace: string | undefined;
  memoryMb: number;
  maxOutputBytes: number;
  confinement: PyodideConfinement;
  protectedPaths?: ProtectedPaths;
  /** Bytes one run may send back to the workspace in all; past it nothing is written. */
  maxWriteBytes?: number;
}

/** Largest single file copied into Pyodide; larger ones are left out with a note. */
const maxCopiedFileBytes = 50_000_000;
/** Most files one run may send back. */
const maxWrittenFiles = 10_000;
/**
 * Time allowed past the deadline for the KeyboardInterrupt before the process is killed. The
 * interrupt is raised again every 200 ms past the deadline (one write of it can be lost, see
 * `pyodide-host-source.ts`), so this only bounds a program that keeps catching it; killing loses
 * the run's variables, so the grace is generous (such a program only gains 5 s).
 */
const terminateGraceMs = 5_000;

const pyodideDirectory = realpathSync(dirname(createRequire(import.meta.url).resolve('pyodide/package.json')));
const pyodideUrl = pathToFileURL(join(pyodideDirectory, 'pyodide.mjs')).href;

/** The Node command line of the Pyodide process: the permission model's fence and the host program. */
function nodeArguments(confinement: PyodideConfinement): string[] {
  return [
    '--experimental-permission',
    `--allow-fs-read=${pyodideDirectory}`,
    // Without bubblewrap no worker at all: in Node 20 a worker can leave the permission model.
    ...(confinement.kind === 'bubblewrap' ? ['--allow-worker'] : []),
    '--no-warnings',
    '--max-old-space-size=320',
    '-e',
    pyodideHostSource,
  ];
}

/** Start the Pyodide process, inside bubblewrap when the confinement says so. */
export function spawnPyodideProcess(confinement: PyodideConfinement, scratch: string): ChildProcess {
  const nodePath = realpathSync(process.execPath);
  const options = {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'] as ('ignore' | 'pipe' | 'ipc')[],
    serialization: 'advanced' as const,
    env: { ...sandboxSpawnEnvironment },
    detached: true,
  };
  if (confinement.kind === 'permission-model') {
    return spawn(nodePath, nodeArguments(confinement), { ...options, cwd: scratch });
  }
  const args = [
    ...isolationArguments(nodePath, {
      disableUserNamespaces: bubblewrapSupports(confinement.bubblewrapPath, '--disable-userns'),
    }),
    '--ro-bind',
    pyodideDirectory,
    pyodideDirectory,
    '--remount-ro',
    '/',
    '--chdir',
    '/tmp',
    '--clearenv',
    '--setenv',
    'NODE_CHANNEL_FD',
    '3',
    '--setenv',
    'NODE_CHANNEL_SERIALIZATION_MODE',
    'advanced',
    '--setenv',
    'HOME',
    '/tmp',
    nodePath,
    ...nodeArguments(confinement),
  ];
  return spawn(confinement.bubblewrapPath, args, { ...options, cwd: scratch });
}

/** A message from the Pyodide process; any field may be anything, since that process is untrusted. */
interface WorkerReply {
  type?: unknown;
  id?: unknown;
  error?: unknown;
  stdout?: unknown;
  stderr?: unknown;
  exitCode?: unknown;
  limit?: unknown;
  outputTruncated?: unknown;
  written?: unknown;
  deleted?: unknown;
  fatal?: unknown;
}

/** A warm Pyodide interpreter in its own process. Runs are serialised. */
export class PyodideEngine {
  readonly #options: PyodideEngineOptions;
  readonly #access: WorkspaceAccess | undefined;
  readonly #protectedPaths: ProtectedPaths;
  #child: ChildProcess | undefined;
  #scratch: string | undefined;
  #ready: Promise<void> | undefined;
  #synced = new Map<string, FileStamp>();
  #nextId = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #resetNote: string | undefined;

  constructor(options: PyodideEngineOptions) {
    this.#options = options;
    this.#protectedPaths = options.protectedPaths ?? createProtectedPaths();
    this.#access =
      options.workspace === undefined ? undefined : workspaceAccess(options.workspace, this.#protectedPaths);
  }

  /** The Pyodide process's id while it runs (for tests that look for leftovers). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Start the process and load Pyodide (a few seconds), if not done yet. */
  start(): Promise<void> {
    if (this.#ready !== undefined) return this.#ready;
    this.#scratch ??= mkdtempSync(join(tmpdir(), 'hataraku-pyodide-'));
    const child = spawnPyodideProcess(this.#options.confinement, this.#scratch);
    this.#child = child;
    this.#synced = new Map();
    let startupError = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (startupError.length < 2_000) startupError += chunk.toString('utf8');
    });
    child.stdout?.resume();
    child.once('exit', () => {
      if (this.#child === child) {
        this.#child = undefined;
        this.#ready = undefined;
      }
    });
    this.#ready = new Promise<void>((resolve, reject) => {
      const onMessage = (reply: WorkerReply) => {
        if (reply?.type === 'ready') resolve();
        else if (reply?.type === 'failed') reject(new Error(`Pyodide failed to start: ${String(reply.error)}`));
        else return;
        child.off('message', onMessage);
      };
      child.on('message', onMessage);
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(
          new Error(`the Pyodide process ended while starting (exit ${code}): ${startupError.trim().slice(0, 500)}`),
        ),
      );
    });
    child.send({
      type: 'start',
      inline: this.#options.confinement.kind === 'permission-model',
      workerSource: pyodideWorkerSource,
      workerData: {
        pyodideUrl,
        indexURL: `${pyodideDirectory}/`,
        memoryMb: this.#options.memoryMb,
        maxOutputBytes: this.#options.maxOutputBytes,
      },
    });
    this.#ready.catch(() => this.#kill());
    return this.#ready;
  }

  run(code: string, timeoutMs: number): Promise<EngineRunResult> {
    const next = this.#queue.then(() => this.#runNow(code, timeoutMs));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #runNow(code: string, timeoutMs: number): Promise<EngineRunResult> {
    await this.start();
    const child = this.#child;
    if (child === undefined) throw new Error('the Pyodide process stopped before the run');
    const notes: string[] = [];
    if (this.#resetNote !== undefined) {
      notes.push(this.#resetNote);
      this.#resetNote = undefined;
    }
    const { files, removed } = this.#filesToCopyIn(notes);
    const id = this.#nextId++;

    return new Promise<EngineRunResult>((resolve) => {
      let settled = false;
      const finish = (result: EngineRunResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(terminateTimer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(result);
      };
      // Everything in a reply comes from the process Python runs in: checked here, never trusted.
      const onMessage = (reply: WorkerReply) => {
        if (reply === null || typeof reply !== 'object' || reply.type !== 'result' || reply.id !== id) return;
        const overWriteLimit = this.#copyOut(reply.written, reply.deleted, notes);
        if (reply.fatal === true) {
          this.#resetNote = 'The previous run broke the Python interpreter; it was reset (variables are gone).';
          this.#kill();
        }
        const cap = this.#options.maxOutputBytes;
        const limit = isSandboxLimit(reply.limit) ? reply.limit : overWriteLimit ? 'disk' : undefined;
        finish({
          stdout: typeof reply.stdout === 'string' ? reply.stdout.slice(0, cap) : '',
          stderr: typeof reply.stderr === 'string' ? reply.stderr.slice(0, cap) : '',
          exitCode: limit !== undefined ? null : reply.exitCode === 0 ? 0 : 1,
          limit,
          outputTruncated: reply.outputTruncated === true,
          notes,
        });
      };
      const onExit = () => {
        this.#resetNote =
          'The previous run crashed the Python process; the interpreter was reset (variables are gone).';
        finish({
          stdout: '',
          stderr: 'The Python process stopped unexpectedly.',
          exitCode: null,
          limit: 'memory',
          outputTruncated: false,
          notes,
        });
      };
      // The process raises a KeyboardInterrupt at the deadline (the interpreter and its
      // variables survive); past the grace period the whole process is killed.
      const terminateTimer = setTimeout(() => {
        this.#resetNote =
          'The previous run ignored its time limit and was killed; the interpreter was reset (variables are gone).';
        this.#kill();
        finish({ stdout: '', stderr: '', exitCode: null, limit: 'time', outputTruncated: false, notes });
      }, timeoutMs + terminateGraceMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ type: 'run', id, code, files, removed, timeoutMs });
    });
  }

  /** Workspace files that changed since the last copy into Pyodide, read through descriptors. */
  #filesToCopyIn(notes: string[]): { files: Array<{ path: string; data: Uint8Array }>; removed: string[] } {
    const access = this.#access;
    if (access === undefined) return { files: [], removed: [] };
    const root = resolveInWorkspace(access.root, '.');
    const current = snapshotWorkspace(root);
    for (const path of current.keys()) if (this.#protectedPaths.isProtected(path)) current.delete(path);
    const files: Array<{ path: string; data: Uint8Array }> = [];
    for (const [path, stamp] of current) {
      const previous = this.#synced.get(path);
      if (previous !== undefined && previous.size === stamp.size && previous.modifiedMs === stamp.modifiedMs) continue;
      if (stamp.size > maxCopiedFileBytes) {
        notes.push(
          `${path} (${stamp.size} bytes) is larger than ${maxCopiedFileBytes} bytes and was not copied into Python.`,
        );
        continue;
      }
      try {
        files.push({ path, data: new Uint8Array(readFileWithoutLinks(access, path, maxCopiedFileBytes)) });
        this.#synced.set(path, stamp);
      } catch (error) {
        notes.push(`${path} was not copied into Python: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const removed = [...this.#synced.keys()].filter((path) => !current.has(path));
    for (const path of removed) this.#synced.delete(path);
    return { files, removed };
  }

  /**
   * Write back what the run wrote: each path checked, opened without following links, verified.
   * All or nothing against the write limit: past it, no file is written. True when it was passed.
   */
  #copyOut(written: unknown, deleted: unknown, notes: string[]): boolean {
    const files = Array.isArray(written) ? written.slice(0, maxWrittenFiles) : [];
    const access = this.#access;
    if (access === undefined) {
      if (files.length > 0) notes.push('This run has no workspace; files written by Python were not kept.');
      return false;
    }
    const limit = this.#options.maxWriteBytes ?? Number.POSITIVE_INFINITY;
    let total = 0;
    let entries = 0;
    for (const file of files as Array<{ path?: unknown; data?: unknown }>) {
      const data = file?.data;
      if (data instanceof ArrayBuffer || data instanceof Uint8Array) total += data.byteLength;
      if (typeof file?.path === 'string') entries += file.path.split('/').filter((name) => name !== '').length;
    }
    // Each name of a path may become a file or folder: empty files and deep paths take inodes
    // and folders' blocks without a byte of data. More files than are copied back is refused
    // whole too, rather than some kept and the rest silently dropped.
    const tooMany =
      (Array.isArray(written) && written.length > maxWrittenFiles) ||
      (Number.isFinite(limit) && entries > maxEntriesWithin(limit));
    if (tooMany) {
      for (const file of files as Array<{ path?: unknown }>) {
        if (typeof file?.path === 'string') this.#synced.set(file.path, { size: -1, modifiedMs: -1 });
      }
      notes.push(
        `Python wrote ${Array.isArray(written) ? written.length : 0} files whose paths name ${entries} files and folders, more than a run may make (${maxWrittenFiles} files, and one file or folder per ${bytesPerEntry} bytes of the write limit, maxWriteBytes): none of them was saved to the workspace, and no file was deleted. Write fewer files, in shallower folders.`,
      );
      return true;
    }
    if (total > limit) {
      // Python's memory still holds them: marked out of date, so the next run copies in what
      // the workspace has instead (or removes them there).
      for (const file of files as Array<{ path?: unknown }>) {
        if (typeof file?.path === 'string') this.#synced.set(file.path, { size: -1, modifiedMs: -1 });
      }
      notes.push(
        `Python wrote ${total} bytes of files, more than a run may write (${limit} bytes, the write limit, maxWriteBytes): none of them was saved to the workspace, and no file was deleted. Write less, or fewer and smaller files.`,
      );
      return true;
    }
    for (const file of files as Array<{ path?: unknown; data?: unknown }>) {
      const path = typeof file?.path === 'string' ? file.path : undefined;
      const data = file?.data instanceof ArrayBuffer ? new Uint8Array(file.data) : file?.data;
      if (path === undefined || !(data instanceof Uint8Array)) continue;
      try {
        writeFileWithoutLinks(access, path, data);
        const root = resolveInWorkspace(access.root, '.');
        const stamp = snapshotStamp(root, path);
        if (stamp !== undefined) this.#synced.set(path, stamp);
      } catch (error) {
        notes.push(`${path} was not saved: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    for (const path of Array.isArray(deleted) ? deleted : []) {
      if (typeof path !== 'string') continue;
      try {
        removeFileWithoutLinks(access, path);
        this.#synced.delete(path);
      } catch (error) {
        notes.push(`${path} was not deleted: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return false;
  }

  #kill(): void {
    const child = this.#child;
    this.#child = undefined;
    this.#ready = undefined;
    if (child?.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  async dispose(): Promise<void> {
    const child = this.#child;
    this.#kill();
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => child.once('exit', resolve));
    }
    if (this.#scratch !== undefined) rmSync(this.#scratch, { recursive: true, force: true });
    this.#scratch = undefined;
  }
}

const sandboxLimits: readonly SandboxLimit[] = ['time', 'memory', 'output', 'cpu', 'processes', 'file-size'];

function isSandboxLimit(value: unknown): value is SandboxLimit {
  return sandboxLimits.includes(value as SandboxLimit);
}

/** The stamp of one workspace file, as {@link snapshotWorkspace} would record it. */
function snapshotStamp(root: string, path: string): FileStamp | undefined {
  const stats = lstatSync(join(root, path), { throwIfNoEntry: false });
  return stats?.isFile() === true ? { size: stats.size, modifiedMs: stats.mtimeMs } : undefined;
}
