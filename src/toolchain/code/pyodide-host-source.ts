/**
 * The main program of the Pyodide sandbox process, kept as plain JavaScript text and started
 * with `node -e`. It is the only thing in that process besides Pyodide: it starts the Pyodide
 * worker thread (`pyodide-worker-source.ts`), relays runs and results over the IPC channel to
 * Hataraku, and raises the KeyboardInterrupt at a run's deadline, again and again until the run
 * ends (a worker busy in Python cannot read its own timers, so the interrupt comes from this
 * thread through a shared buffer, and one write of it can be lost).
 * Under Node's permission model alone (no bubblewrap) there is no worker: Node 20 lets code in
 * a worker start another one with `execArgv: []`, outside the permission model; so Pyodide runs
 * on the main thread, `--allow-worker` is not granted, and a run past its deadline is killed.
 *
 * Everything here is assumed reachable by the Python code it hosts: this process holds no
 * secret (its environment is empty), no workspace (files arrive as bytes and leave as bytes,
 * checked by the host), and runs under Node's permission model and, where bubblewrap exists,
 * inside a bubblewrap sandbox with no file system but Node, Pyodide and an empty /tmp.
 */
export const pyodideHostSource = String.raw`
'use strict';
const { Worker } = require('node:worker_threads');
let worker;
let interruptTimer;
const interrupt = new Uint8Array(new SharedArrayBuffer(1));
const send = (message) => { if (process.connected) process.send(message); };

process.on('message', (message) => {
  if (message === null || typeof message !== 'object') return;
  if (message.type === 'start' && message.inline === true && worker === undefined) {
    // No worker thread (Node 20 lets a worker drop the permission model with execArgv): Pyodide
    // runs on this thread, talking straight over the IPC channel. A run past its deadline
    // cannot be interrupted from here, so the host kills the process.
    worker = 'inline';
    globalThis.__pyodideChannel = {
      importModule: (url) => import(url),
      workerData: { ...message.workerData, interruptBuffer: interrupt.buffer },
      parentPort: {
        postMessage: (reply) => send(reply),
        on: (event, listener) => process.on(event, (next) => { if (next && next.type === 'run') listener(next); }),
      },
    };
    require('node:vm').runInThisContext('(function (require) {' + message.workerSource + '\n})')(require);
    return;
  }
  if (message.type === 'start' && worker === undefined) {
    worker = new Worker(message.workerSource, {
      eval: true,
      workerData: { ...message.workerData, interruptBuffer: interrupt.buffer },
      resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
      env: {},
    });
    worker.on('message', (reply) => {
      if (reply && reply.type === 'result') clearTimeout(interruptTimer);
      send(reply);
    });
    worker.on('error', (error) => send({ type: 'failed', error: String(error && error.message) }));
    worker.on('exit', (code) => process.exit(code === 0 ? 70 : code));
    return;
  }
  if (message.type === 'run' && worker !== undefined && worker !== 'inline') {
    interrupt[0] = 0;
    clearTimeout(interruptTimer);
    // Pyodide takes the flag in two steps (read it, then write 0), not atomically: a write from
    // this thread that falls between them is lost, and the run would loop on until it is killed
    // (seen about once in 60 deadlines on a loaded machine). So past the deadline the interrupt
    // is raised again every 200 ms until the result is back; the worker stops listening for it
    // as soon as the program has ended.
    const raise = () => {
      interrupt[0] = 2;
      interruptTimer = setTimeout(raise, 200);
    };
    interruptTimer = setTimeout(raise, message.timeoutMs);
    worker.postMessage(message);
  }
});
process.on('disconnect', () => process.exit(0));
`;
