/**
 * `hataraku serve`: the Runs API, the OpenAI-compatible gateway and the MCP endpoint in one
 * process, with the worker's recovery built in. Ctrl-C stops it; runs it was executing stay
 * pending and are recovered by the next server or worker.
 *
 * The server runs in a thread of its own (`serve-thread.ts`) with a larger young generation than
 * Node's default (`serveThreadResourceLimits`): a gateway allocates tens of kilobytes per call that die
 * young, and fewer, equally short young collections shorten its slowest calls. V8 fixes the size of
 * a heap when it is made, so a thread is how the process can choose it; the process's main thread
 * only passes the thread its output and its stop (Ctrl-C, SIGTERM). This module is all the main
 * thread loads of the server; the thread loads `serve-in-thread.ts`.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { CliIo } from '../cli-context.js';

export interface ServeFlags {
  port?: string;
  host?: string;
  dev?: boolean;
  sharedWorkspace?: boolean;
  maxBodyBytes?: string;
  maxConcurrentRequests?: string;
  /** False with `--no-relay`. */
  relay?: boolean;
  config?: string;
}

/**
 * The server's thread's heap. Its young generation, in MiB: three semi-spaces of 32 MiB, twice Node's
 * default on 64-bit machines. At 16 concurrent streamed calls it halves the number of young
 * collections (each pauses about 0.8 ms, whatever its size), and the p99 added went from
 * 0.91–1.83 ms to 0.68–1.09 ms, in six runs each (`bench/gateway`). Node's `--max-semi-space-size`, when given, wins.
 */
export const serveThreadResourceLimits = { maxYoungGenerationSizeMb: 96 } as const;

/**
 * The thread's code: a line that imports `serve-thread.ts`'s module. A thread inherits the
 * process's Node options, and with `--input-type` among them (the CLI imported from
 * `node --input-type=module -e "…"`) it refuses a file as its entry, but not code given as text;
 * and a dynamic `import()` reads the same as a script or as a module. Node's own options are
 * not passed on explicitly, since a thread refuses some of them (`--max-semi-space-size`) when
 * they are given, though it takes them when it inherits them.
 */
const serveThreadEntry = `import(${JSON.stringify(new URL('./serve-thread.js', import.meta.url).href)});`;

/** The message that asks the server's thread to stop. */
export const stopServeThread = 'stop';

/** The server's thread's last word: the command's exit status. */
export interface ServeThreadResult {
  exitCode: number;
}

/**
 * Serve from a thread of this process (see the module's comment); resolves with the exit status,
 * or rejects with what the thread threw.
 */
export function serveCommand(flags: ServeFlags, io: CliIo): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(serveThreadEntry, {
      eval: true,
      workerData: { flags, cwd: io.cwd },
      env: { ...io.env },
      stdout: true,
      stderr: true,
      resourceLimits: serveThreadResourceLimits,
    });
    worker.stdout.setEncoding('utf8');
    worker.stderr.setEncoding('utf8');
    worker.stdout.on('data', (text: string) => io.stdout.write(text));
    worker.stderr.on('data', (text: string) => io.stderr.write(text));
    let exitCode: number | undefined;
    let failure: unknown;
    worker.on('message', (message: ServeThreadResult) => {
      exitCode = message.exitCode;
    });
    worker.on('error', (error) => {
      failure = error;
    });
    const stop = () => worker.postMessage(stopServeThread);
    if (io.signal?.aborted) stop();
    io.signal?.addEventListener('abort', stop, { once: true });
    process.on('SIGTERM', stop);
    // Its output is read to the end before the status is known.
    let open = 3;
    const closed = () => {
      open--;
      if (open > 0) return;
      io.signal?.removeEventListener('abort', stop);
      process.off('SIGTERM', stop);
      // A bug in the thread is thrown on, for the CLI to report as it reports any bug.
      if (failure !== undefined) reject(failure);
      else resolve(exitCode ?? 70);
    };
    worker.stdout.on('end', closed);
    worker.stderr.on('end', closed);
    worker.on('exit', closed);
  });
}

/** The package's version, for the MCP server's name and version. */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
}
