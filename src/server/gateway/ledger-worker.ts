/**
 * The thread that writes gateway calls to a SQLite journal for `createGatewayRecorder`: it opens
 * its own connection (its own engine, an executor of its own) on the journal's file and writes
 * each batch it is sent in one transaction, so that neither the rows nor the commits (nor a WAL
 * checkpoint now and then) hold up the server's event loop. Answers each batch with its id, and
 * an error message when the batch could not be written.
 *
 * It is background work, so on Linux the thread runs at a lower priority (`createThreadPriority`
 * in `engine/thread-priority.ts`): on a machine whose cores are all busy, a request's thread then
 * gets a core before it. Should the writer fall behind (its batch's oldest call waiting over a second), it takes normal priority
 * until it has caught up.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteEngine } from '../../engine/sqlite/sqlite-engine.js';
import { createThreadPriority } from '../../engine/thread-priority.js';
import {
  type GatewayCall,
  type LedgerWorkerData,
  type LedgerWorkerMessage,
  type LedgerWorkerReply,
  recordGatewayCalls,
} from './gateway-ledger.js';
import { parseJsonBatch } from './json-batch.js';

/** Behind by this much (its batch's oldest call, in ms), the writer takes normal priority ... */
const behindMs = 1000;
/** ... until it is this close again. */
const caughtUpMs = 250;

const port = parentPort;
if (port) {
  const { path, durability } = workerData as LedgerWorkerData;
  // No heartbeat: this executor never owns an open run.
  const engine = openSqliteEngine({ path, durability, heartbeatMs: 0 });
  const priority = createThreadPriority();
  priority.set('background');
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (message: LedgerWorkerMessage) => {
    queue = queue.then(async () => {
      const reply: LedgerWorkerReply = { id: message.id };
      try {
        if ('close' in message) await engine.close();
        else {
          const lagMs = Date.now() - message.queuedSince;
          if (lagMs > behindMs) priority.set('normal');
          else if (lagMs < caughtUpMs) priority.set('background');
          const calls = parseJsonBatch(message.calls) as GatewayCall[];
          await recordGatewayCalls(engine, calls, Math.max(1, calls.length));
          if (message.durable) await engine.sync();
        }
      } catch (error) {
        reply.error = error instanceof Error ? error.message : String(error);
      }
      port.postMessage(reply);
    });
  });
}
