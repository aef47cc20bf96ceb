// A real process for the fault-injection suite: it starts, resumes or recovers journaled agent
// runs, and may be killed by the test (SIGKILL) or by an armed fault point (HATARAKU_FAULTS).
//
// Usage: node fault-worker.mjs '<job as JSON>'
//   job.mode        'run': start each id in runIds that is not in the journal, resume the others;
//                   'recover': hataraku.recover() every recoverable run, then start the ids in
//                   runIds that are not in the journal yet.
//                   'queue': take runs from the journal's shared queue (engine.takeRuns), at most
//                   job.concurrency at once, until no pending run is left.
//   job.database    journal file, or a PostgreSQL URL;  job.ledger: side-effect ledger file (SQLite)
//   job.runIds      run ids;  job.turns: tool turns per run;  job.delayMs: model latency per turn
//   job.concurrency most runs at once (maxConcurrentRuns);  job.busyTimeoutMs, job.leaseMs
//   job.renamed     the side-effect tool is registered as `Record` (a rename since the crash)
//   job.requests    append each model request to this file (one JSON line each)
//   job.waitForGo   print the ready line, then wait for a line on stdin before doing anything
//
// Every event is one JSON line on stdout: ready (executor id, pid), result, error, skipped.
// Each run's agent has a side-effect tool `record` that counts its executions in the ledger
// table (one row per idempotency key: a repeated execution shows as attempts > 1), and a pure
// tool `square` (effect none).
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { z } from 'zod';
// Modules of the built library imported one by one, not through dist/index.js: the suite starts
// about fifty of these processes, and the full entry point loads every toolchain at start-up.
import { agent } from '../../../../dist/agent/agent.js';
import { armFaultPoints } from '../../../../dist/engine/fault-points.js';
import { openPostgresEngine } from '../../../../dist/engine/postgres/postgres-engine.js';
import { openSqliteEngine } from '../../../../dist/engine/sqlite/sqlite-engine.js';
import { createHataraku } from '../../../../dist/hataraku.js';
import { createScriptedModel } from '../../../../dist/models/scripted/scripted-model.js';
import { tool } from '../../../../dist/tools/define-tool.js';

const job = JSON.parse(process.argv[2] ?? '{}');
const turns = job.turns ?? 4;
const delayMs = job.delayMs ?? 0;
const faultSpec = process.env.HATARAKU_FAULTS;
const faults = faultSpec ? armFaultPoints(faultSpec) : undefined;

function emit(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const ledger = new Database(job.ledger, { timeout: 10_000 });
ledger.pragma('journal_mode = WAL');
ledger.exec(
  'CREATE TABLE IF NOT EXISTS ledger (key TEXT UNIQUE, attempts INTEGER NOT NULL, executors TEXT NOT NULL)',
);
// `executors` lists who executed the key, so the test can tell an in-flight step re-run after a
// crash (earlier attempts by killed processes) from a committed step run again (a bug).
const countExecution = ledger.prepare(
  `INSERT INTO ledger (key, attempts, executors) VALUES (?, 1, ?)
   ON CONFLICT (key) DO UPDATE SET attempts = attempts + 1, executors = executors || ' ' || excluded.executors`,
);

const record = tool({
  name: job.renamed ? 'Record' : 'record',
  description: 'Record an item in the ledger (a side effect).',
  input: z.object({ n: z.number().int() }),
  effect: 'side-effect',
  execute: ({ n }, context) => {
    countExecution.run(context.idempotencyKey, engine.executorId);
    return `recorded item ${n} as ${context.idempotencyKey}`;
  },
});
const square = tool({
  name: 'square',
  description: 'Square a number (no side effect).',
  input: z.object({ n: z.number().int() }),
  execute: ({ n }) => ({ n, square: n * n }),
});

/** The agent of run `runId`: its script depends on the id, so a crossed output would show. */
function agentFor(runId) {
  const script = {
    turns: [
      ...Array.from({ length: turns }, (_, n) => ({
        text: `Turn ${n} of ${runId}.`,
        toolCalls: [
          { name: 'record', arguments: { n } },
          { name: 'square', arguments: { n } },
        ],
        delayMs,
      })),
      { text: `Recorded ${turns} items for ${runId}.`, delayMs },
    ],
  };
  const model = createScriptedModel({ script, ...(job.requests ? { recordTo: job.requests } : {}) });
  return agent({ name: 'recorder', instructions: 'Record the items.', model, tools: [record, square] });
}

const engine = /^postgres(ql)?:\/\//.test(job.database)
  ? openPostgresEngine({
      url: job.database,
      poolSize: 4,
      ...(faults ? { faults } : {}),
      ...(job.leaseMs !== undefined ? { leaseMs: job.leaseMs } : {}),
      ...(job.reconnectTimeoutMs !== undefined ? { reconnectTimeoutMs: job.reconnectTimeoutMs } : {}),
    })
  : openSqliteEngine({
      path: job.database,
      ...(faults ? { faults } : {}),
      ...(job.busyTimeoutMs !== undefined ? { busyTimeoutMs: job.busyTimeoutMs } : {}),
      ...(job.leaseMs !== undefined ? { leaseMs: job.leaseMs } : {}),
    });
const hataraku = createHataraku({
  cwd: /^postgres(ql)?:\/\//.test(job.database) ? dirname(job.ledger) : dirname(job.database),
  env: {},
  engine,
  maxConcurrentRuns: job.concurrency ?? 8,
  ...(faults ? { faults } : {}),
});
const runOptions = faults ? { faults } : {};

emit({ event: 'ready', executorId: engine.executorId, pid: process.pid });
if (job.waitForGo) {
  const lines = createInterface({ input: process.stdin });
  await new Promise((resolve) => lines.once('line', resolve));
  lines.close();
}

function report(runId, result) {
  emit({
    event: 'result',
    runId,
    status: result.status,
    stopReason: result.stopReason,
    output: result.output,
    totals: result.totals,
  });
}

function reportError(runId, error) {
  emit({
    event: 'error',
    runId,
    name: error?.name,
    code: error?.code,
    message: error instanceof Error ? error.message : String(error),
    ...(error instanceof AggregateError
      ? { errors: error.errors.map((each) => ({ name: each?.name, code: each?.code, message: String(each?.message) })) }
      : {}),
  });
}

async function execute(runId) {
  try {
    const known = await engine.getRun(runId);
    const handle = known
      ? hataraku.resume(agentFor(runId), runId, runOptions)
      : hataraku.run(agentFor(runId), `Record ${turns} items.`, { ...runOptions, runId });
    report(runId, await handle.result);
  } catch (error) {
    reportError(runId, error);
  }
}

/** Take runs from the shared queue until no pending run is left, `job.concurrency` at once. */
async function drainQueue() {
  const limit = job.concurrency ?? 8;
  const active = new Map();
  for (;;) {
    const free = limit - active.size;
    const taken = free > 0 ? await engine.takeRuns({ limit: free }) : [];
    for (const run of taken) {
      emit({ event: 'taken', runId: run.id });
      const execution = hataraku
        .resume(agentFor(run.id), run.id, runOptions)
        .result.then(
          (result) => report(run.id, result),
          (error) => reportError(run.id, error),
        )
        .finally(() => active.delete(run.id));
      active.set(run.id, execution);
    }
    if (active.size === 0 && taken.length === 0) {
      const pending = await engine.listRuns({ status: 'pending', limit: 1 });
      if (pending.length === 0) return;
    }
    if (taken.length === 0) await Promise.race([...active.values(), new Promise((resolve) => setTimeout(resolve, 25))]);
  }
}

if (job.mode === 'queue') {
  try {
    await drainQueue();
  } catch (error) {
    reportError(undefined, error);
  }
} else if (job.mode === 'recover') {
  try {
    const recovered = await hataraku.recover({ agentFor: (run) => agentFor(run.id), runOptions });
    for (const result of recovered.results) report(result.runId, result);
    for (const skipped of recovered.skipped) emit({ event: 'skipped', ...skipped });
  } catch (error) {
    reportError(undefined, error);
  }
  const fresh = [];
  for (const runId of job.runIds ?? []) if (!(await engine.getRun(runId))) fresh.push(runId);
  await Promise.all(fresh.map(execute));
} else {
  await Promise.all((job.runIds ?? []).map(execute));
}

await hataraku.close();
await engine.close();
ledger.close();
