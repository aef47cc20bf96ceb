/**
 * A thread's priority, checked on the thread the kernel sees: a worker thread of this process
 * sets its level and the test reads its nice value from `/proc/self/task/<tid>/stat`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { niceOfThreads } from './__fixtures__/thread-nice.js';

const built = fileURLToPath(new URL('../../dist/engine/thread-priority.js', import.meta.url));

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

// Lowered only where it may be raised back: as root (CAP_SYS_NICE), as CI runs. A process without
// it leaves every thread as it is (`level` undefined), which the second test shows.
const mayRaise = process.getuid?.() === 0;

describe.runIf(process.platform === 'linux' && mayRaise)('createThreadPriority', () => {
  it('lowers the calling thread only, and raises it back', async () => {
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
      expect(normal.level).toBe('normal');
      expect(niceOfThreads().get(normal.threadId)).toBe(0);
    } finally {
      await worker.stop();
    }
  });

  it('leaves the thread alone in a process that may not raise it back (an unprivileged user)', () => {
    // `nobody`, with no capabilities and the default nice limit of 0, running a copy of the
    // module where it can read it (the checkout may sit in a directory only root can enter).
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-priority-'));
    chmodSync(directory, 0o755);
    const module = join(directory, 'thread-priority.js');
    copyFileSync(built, module);
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { createThreadPriority } = await import(${JSON.stringify(module)});
         const { readFileSync } = await import('node:fs');
         const priority = createThreadPriority();
         priority.set('background');
         const stat = readFileSync('/proc/thread-self/stat', 'utf8');
         console.log(JSON.stringify({ level: priority.level ?? null, nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) }));`,
      ],
      { uid: 65534, gid: 65534, cwd: directory, encoding: 'utf8', timeout: 20_000 },
    );
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ level: null, nice: 0 });
  });
});
