/** Waiting for a sandbox worker to say it is ready (or that it failed to start). */
import type { Worker } from 'node:worker_threads';

/** Resolves on the worker's `{ type: 'ready' }` message; rejects on `{ type: 'failed' }` or an error. */
export function workerReady(worker: Worker, label: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onMessage = (reply: { type: string; error?: string }) => {
      if (reply.type === 'ready') resolve();
      else if (reply.type === 'failed') reject(new Error(`${label} failed to start: ${reply.error}`));
      else return;
      worker.off('message', onMessage);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}
