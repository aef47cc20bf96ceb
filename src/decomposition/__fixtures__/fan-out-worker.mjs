// A real process for the fan-out fault case: a lead agent delegates four tasks in one turn
// (at most two at once); each child records items in a side-effect ledger, one per turn.
// The test kills this process with SIGKILL in the middle of the fan-out and resumes the run in
// a fresh one.
//
// Usage: node fan-out-worker.mjs <journal> <ledger> <workspace> <runId> [delegate|plan]
// `delegate`: four delegate calls in one turn. `plan`: one plan_and_run call whose steps are the
// same four tasks, `last` depending on `slow-1`.
// Starts the run when it is not in the journal, resumes it otherwise; prints the result as one
// JSON line.
import Database from 'better-sqlite3';
import { z } from 'zod';
import { agent } from '../../../dist/agent/agent.js';
import { resume, run } from '../../../dist/agent/run.js';
import { delegateTool } from '../../../dist/decomposition/delegate-tool.js';
import { planAndRunTool } from '../../../dist/decomposition/plan-and-run-tool.js';
import { openSqliteEngine } from '../../../dist/engine/sqlite/sqlite-engine.js';
import { createScriptedModel } from '../../../dist/models/scripted/scripted-model.js';
import { tool } from '../../../dist/tools/define-tool.js';

const [journal, ledgerPath, workspace, runId, style = 'delegate'] = process.argv.slice(2);
const engine = openSqliteEngine({ path: journal });
const ledger = new Database(ledgerPath, { timeout: 10_000 });
ledger.pragma('journal_mode = WAL');
ledger.exec('CREATE TABLE IF NOT EXISTS ledger (key TEXT UNIQUE, attempts INTEGER NOT NULL)');
const countExecution = ledger.prepare(
  'INSERT INTO ledger (key, attempts) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET attempts = attempts + 1',
);

const record = tool({
  name: 'record',
  description: 'Record an item (a side effect).',
  input: z.object({ item: z.string() }),
  effect: 'side-effect',
  execute: ({ item }, context) => {
    countExecution.run(context.idempotencyKey);
    return `recorded ${item}`;
  },
});

/** A child that records `turns` items, one per model turn, each turn taking `delayMs`. */
function recorder(name, turns, delayMs) {
  return agent({
    name,
    instructions: `Record the ${name} items.`,
    model: createScriptedModel({
      script: {
        turns: [
          ...Array.from({ length: turns }, (_, n) => ({
            toolCalls: [{ name: 'record', arguments: { item: `${name}-${n}` } }],
            delayMs,
          })),
          { text: `${name}: ${turns} items recorded.`, delayMs },
        ],
      },
    }),
    tools: [record],
  });
}

// `fast` ends first; `slow-1` and `slow-2` take long; `last` waits for a free slot.
const children = [recorder('fast', 1, 10), recorder('slow-1', 6, 60), recorder('slow-2', 6, 60), recorder('last', 2, 10)];
const delegateTurn = {
  toolCalls: children.map((child) => ({
    name: 'delegate',
    arguments: { agent: child.name, task: `Record the ${child.name} items.` },
  })),
};
const planTurn = {
  toolCalls: [
    {
      name: 'plan_and_run',
      arguments: {
        steps: children.map((child) => ({
          id: child.name,
          agent: child.name,
          task: `Record the ${child.name} items.`,
          dependsOn: child.name === 'last' ? ['slow-1'] : [],
        })),
      },
    },
  ],
};
const lead = agent({
  name: 'lead',
  instructions: 'Split the recording.',
  maxToolConcurrency: style === 'plan' ? 3 : 2,
  model: createScriptedModel({
    script: { turns: [style === 'plan' ? planTurn : delegateTurn, { text: 'All four recordings are done.' }] },
  }),
  tools: [style === 'plan' ? planAndRunTool({ agents: children }) : delegateTool({ agents: children })],
});

const existing = await engine.getRun(runId);
const handle = existing ? resume(lead, runId, { engine }) : run(lead, 'Record everything.', { engine, workspace, runId });
const result = await handle.result;
process.stdout.write(`${JSON.stringify({ status: result.status, output: result.output })}\n`);
await engine.close();
ledger.close();
