/**
 * A thread's priority, checked on the thread the kernel sees: a worker thread of this process
 * sets its level and the test reads its nice value from `/proc/self/task/<tid>/stat`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

const built = fileURLToPath(new URL('../../dist/engine/thread-priority.js', import.meta.url));

/** Each thread of this process and its nice value (the 19th field of its stat line). */
function niceOfThreads(): Map<number, number> {
  const threads = new Map<number, number>();
  for (const name of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${name}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.set(Number(name), Number(fields[16]));
  }
  return threads;
}

/** A worker thread running the built module: it sets each level it is sent and answers with its thread id. */
function startWorker(): {
  ask: (level: string) => Promise<{ threadId: number; level: string }>;
  stop: () => Promise<number>;
} {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     import(${JSON.stringify(built)}).then(({ createThreadPriority }) => {
       const priority = createThreadPriority();
       const threadId = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').at(-1));
       parentPort.on('message', (level) => {
         priority.set(level);
         parentPort.postMessage({ threadId, level: priority.level });
       });
       parentPort.postMessage('ready');
     });`,
    { eval: true },
  );
  const ready = new Promise((resolve) => worker.once('message', resolve));
  return {
    ask: async (level) => {
      await ready;
      const answer = new Promise<{ threadId: number; level: string }>((resolve) => worker.once('message', resolve));
      worker.postMessage(level);
      return answer;
    },
    stop: () => worker.terminate(),
  };
}

describe.runIf(process.platform === 'linux')('createThreadPriority', () => {
  it('lowers the calling thread only, and raises it back where the process may', async () => {
    const worker = startWorker();
    try {
      const before = niceOfThreads();
      const background = await worker.ask('background');
      expect(background.level).toBe('background');
      const threads = niceOfThreads();
      expect(threads.get(background.threadId)).toBe(10);
      // This thread, and the others, keep theirs.
      for (const [threadId, nice] of before) {
        if (threadId !== background.threadId && threads.has(threadId)) expect(threads.get(threadId)).toBe(nice);
      }

      const normal = await worker.ask('normal');
      if (process.getuid?.() === 0) {
        expect(normal.level).toBe('normal');
        expect(niceOfThreads().get(normal.threadId)).toBe(0);
      } else {
        // Without CAP_SYS_NICE the kernel refuses a higher priority: the thread stays in the background.
        expect(normal.level).toBe('background');
        expect(niceOfThreads().get(normal.threadId)).toBe(10);
      }
    } finally {
      await worker.stop();
    }
  });
});
