// A real process that runs (or resumes) a journaled agent run, for the kill-and-resume test.
// Usage: node durable-worker.mjs start|resume DB_PATH RUN_ID LEDGER_PATH REQUESTS_PATH
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { openSqliteEngine } from '../../../dist/engine/index.js';
import { agent, resume, run, tool } from '../../../dist/index.js';
import { createScriptedModel } from '../../../dist/testing/index.js';

const [mode, databasePath, runId, ledgerPath, requestsPath] = process.argv.slice(2);

export const turnCount = 8;
const turns = Array.from({ length: turnCount }, (_, n) => ({
  text: `Recording item ${n}.`,
  toolCalls: [{ name: 'record', arguments: { n } }],
  delayMs: 25,
}));
turns.push({ text: `Recorded ${turnCount} items.`, delayMs: 25 });

const model = createScriptedModel({ script: { turns }, recordTo: requestsPath });
const record = tool({
  name: 'record',
  description: 'Record an item in the ledger (a side effect).',
  input: z.object({ n: z.number().int() }),
  effect: 'side-effect',
  execute: async ({ n }, context) => {
    appendFileSync(ledgerPath, `${JSON.stringify({ key: context.idempotencyKey, n })}\n`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    return `recorded ${n}`;
  },
});
const worker = agent({ name: 'recorder', instructions: 'Record the items.', model, tools: [record] });
const engine = openSqliteEngine({ path: databasePath });
const handle = mode === 'start' ? run(worker, 'Record eight items.', { engine, runId }) : resume(worker, runId, { engine });
const result = await handle;
await engine.close();
process.stdout.write(JSON.stringify(result));
