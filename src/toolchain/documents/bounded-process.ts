/**
 * A parser or renderer run in a child Node process whose whole memory is bounded, not only its
 * JavaScript heap.
 *
 * A worker thread's `resourceLimits` cap the V8 heap, but not the memory behind ArrayBuffers and
 * typed arrays, which parsers use for decoded data: a 765 KB PDF whose content stream pdfjs
 * inflated into a `Uint8Array` grew the host by 1.3 GB under a 64 MB heap cap, and a Vega
 * `kde2d` transform asking for a 12 000 × 12 000 grid of `Float32Array`s by 1.1 GB — all of it
 * in the host's own process. A child process is measured by the kernel: its resident memory is
 * read from `/proc/<pid>/status` every 25 ms, and past the limit the process is killed; the V8
 * heap keeps its own cap too. On systems without `/proc` only the heap cap holds.
 *
 * The program is JavaScript text (the same code from the TypeScript sources and from `dist/`),
 * run with `node -e`, an empty environment and no inherited flags. It sees `parentPort` (with
 * `postMessage`, `on`, `once`, as in a worker thread) and `workerData`, the first message.
 * Messages use Node's structured-clone serialization, so typed arrays pass as they are.
 */
import { type ChildProcess, type Serializable, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';

/** Limits of one child process. */
export interface BoundedProcessLimits {
  /** Cap of the V8 heap, in MB. */
  heapMb: number;
  /** Most resident memory of the whole process (heap, buffers, code), in MB. */
  residentMb: number;
  /**
   * Let the program turn text into code (`eval`, `new Function`). Default false: V8 refuses it
   * (`--disallow-code-generation-from-strings`), so a parser tricked into building code from a
   * document's text gets an error, not a program.
   */
  codeFromStrings?: boolean;
}

/** Resident memory on top of the heap cap: Node itself, the loaded libraries and decoded buffers. */
export const residentHeadroomMb = 256;

const pollMilliseconds = 25;

/**
 * The child's program: `parentPort` and `workerData` as a worker thread has them, then `source`,
 * run once the first message (the worker data) is in.
 */
function childProgram(source: string): string {
  return [
    "'use strict';",
    'const parentPort = {',
    '  postMessage(message) { process.send(message); },',
    '  on(event, listener) { process.on(event, listener); return parentPort; },',
    '  once(event, listener) { process.once(event, listener); return parentPort; },',
    '};',
    "process.on('disconnect', () => process.exit(0));",
    "process.once('message', (workerData) => {",
    source,
    '});',
  ].join('\n');
}

/**
 * A running bounded process. Events: `message` (a message it posted), `out-of-memory` (it passed
 * a limit and was killed), `exit` (it ended, for any reason).
 */
export class BoundedProcess extends EventEmitter {
  readonly #child: ChildProcess;
  readonly #watch: NodeJS.Timeout;
  #ended = false;

  constructor(source: string, workerData: Serializable, limits: BoundedProcessLimits) {
    super();
    this.#child = spawn(
      process.execPath,
      [
        `--max-old-space-size=${limits.heapMb}`,
        '--max-semi-space-size=16',
        ...(limits.codeFromStrings === true ? [] : ['--disallow-code-generation-from-strings']),
        '-e',
        childProgram(source),
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'advanced', env: {} },
    );
    this.#child.on('message', (message: unknown) => this.emit('message', message));
    // A process that cannot start (no memory, no process slot left) or a send that fails ends it.
    this.#child.on('error', () => {
      this.terminate();
      this.#end();
    });
    this.#child.on('exit', (code, signal) => {
      // V8 aborts a process whose heap is full ("Reached heap limit").
      if (signal === 'SIGABRT' || code === 134) this.emit('out-of-memory');
      this.#end();
    });
    const residentBytes = limits.residentMb * 1024 * 1024;
    this.#watch = setInterval(() => {
      const resident = residentMemory(this.#child.pid);
      if (resident !== undefined && resident > residentBytes) {
        this.emit('out-of-memory');
        this.terminate();
      }
    }, pollMilliseconds);
    this.#watch.unref();
    if (this.#child.connected) this.#child.send(workerData);
  }

  postMessage(message: Serializable): void {
    if (!this.#ended && this.#child.connected) this.#child.send(message);
  }

  /** Let the host exit while this process waits idle. */
  unref(): void {
    this.#child.unref();
    this.#child.channel?.unref();
  }

  /** Kill the process at once. */
  terminate(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    clearInterval(this.#watch);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#watch);
    this.emit('exit');
  }
}

/** Resident bytes of a process, from `/proc`; undefined where that cannot be read. */
function residentMemory(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kilobytes = /VmRSS:\s*(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return kilobytes === undefined ? undefined : Number(kilobytes) * 1024;
  } catch {
    return undefined;
  }
}
