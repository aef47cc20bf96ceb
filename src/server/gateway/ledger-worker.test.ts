/**
 * The built ledger worker (`dist/`: the sources run without one) writes at background priority,
 * and takes normal priority while it is behind. Its nice value is read from the kernel.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { niceOfThreads } from '../../engine/__fixtures__/thread-nice.js';
import type { LedgerWorkerData, LedgerWorkerMessage, LedgerWorkerReply } from './gateway-ledger.js';

const built = fileURLToPath(new URL('../../../dist/server/gateway/ledger-worker.js', import.meta.url));

// As root, as CI runs: a process that may not raise a priority back never lowers one
// (`thread-priority.test.ts` checks that case).
describe.runIf(process.platform === 'linux' && process.getuid?.() === 0)('the ledger worker', () => {
  it('writes in the background, and at normal priority while it is over a second behind', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hataraku-ledger-worker-')), 'journal.db');
    const before = new Set(niceOfThreads().keys());
    const worker = new Worker(built, { workerData: { path, durability: undefined } satisfies LedgerWorkerData });
    let nextId = 0;
    const send = (queuedSince: number) =>
      new Promise<LedgerWorkerReply>((resolve) => {
        worker.once('message', resolve);
        const message: LedgerWorkerMessage = {
          id: nextId++,
          calls: new TextEncoder().encode('[]'),
          durable: false,
          queuedSince,
        };
        worker.postMessage(message);
      });
    const workerNice = () => [...niceOfThreads()].filter(([threadId]) => !before.has(threadId)).map(([, nice]) => nice);
    try {
      expect(await send(Date.now())).toEqual({ id: 0 });
      expect(workerNice()).toContain(10);

      expect(await send(Date.now() - 5000)).toEqual({ id: 1 });
      expect(workerNice()).toContain(0);
      expect(workerNice()).not.toContain(10);

      expect(await send(Date.now())).toEqual({ id: 2 });
      expect(workerNice()).toContain(10);
    } finally {
      await worker.terminate();
    }
  });
});
