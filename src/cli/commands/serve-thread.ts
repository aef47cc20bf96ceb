/**
 * The thread `hataraku serve` runs its server in (`serve-command.ts` says why). It serves with the
 * flags and working directory it was given until its parent sends `stopServeThread`, writes what
 * the command would (one line for a user's error), and posts its exit status last.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HatarakuError } from '../../errors.js';
import { type ServeFlags, type ServeThreadResult, stopServeThread } from './serve-command.js';
import { serveInThisThread } from './serve-in-thread.js';

const { flags, cwd } = workerData as { flags: ServeFlags; cwd: string };
const port = parentPort;
if (!port) throw new Error('serve-thread.js runs as a worker thread of `hataraku serve`.');
const controller = new AbortController();
port.on('message', (message: unknown) => {
  if (message === stopServeThread) controller.abort();
});

let exitCode: number;
try {
  exitCode = await serveInThisThread(flags, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd,
    signal: controller.signal,
  });
} catch (error) {
  if (!(error instanceof HatarakuError)) throw error;
  process.stderr.write(`hataraku: ${error.message}\n`);
  exitCode = 1;
}
port.postMessage({ exitCode } satisfies ServeThreadResult);
// Nothing else keeps the thread: it ends once the server's handles are closed.
port.unref();
