/**
 * Scale-out benchmark: the PostgreSQL journal beside the SQLite one, on this machine.
 *
 * (a) What one step costs the database: one run committing steps one after another through
 *     `engine.commitStep` (asynchronous commit: a round trip; and `durable: true`: a round trip
 *     plus a WAL flush), and 32 runs committing at once in one process (group commit).
 * (b) Worker processes (1, 2, 4) taking queued runs from the shared queue (`engine.takeRuns`)
 *     and running them through the real run loop with a scripted model (no latency): runs
 *     completed per second and durable steps per second (5 steps per run, all durable once the
 *     run's final result is written).
 * (c) Recovery: a process starts 1,000 runs, each commits four steps, and is SIGKILLed. Timed on
 *     fresh copies of that journal: one process taking all of them (`takeRuns` until none is
 *     left), and 1 or 4 worker processes resuming all of them to completion.
 *
 * Needs a PostgreSQL server where it may create databases: BENCH_DATABASE_URL, else
 * HATARAKU_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres).
 * Run: `npm run build && node bench/scale-out/run.mjs`. Environment: BENCH_RUNS (300 queued runs
 * in (b)), BENCH_RECOVER_RUNS (1000), BENCH_NO_WRITE=1 to leave the results files alone.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openPostgresEngine, openSqliteEngine } from '../../dist/engine/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const adminUrl = process.env.BENCH_DATABASE_URL || process.env.HATARAKU_TEST_DATABASE_URL;
if (!adminUrl) {
  process.stderr.write(
    'bench/scale-out needs a PostgreSQL server: set BENCH_DATABASE_URL (or HATARAKU_TEST_DATABASE_URL), e.g. postgres://postgres@127.0.0.1:5432/postgres\n',
  );
  process.exit(2);
}
const settings = {
  queuedRuns: positiveInteger('BENCH_RUNS', 300),
  recoverRuns: positiveInteger('BENCH_RECOVER_RUNS', 1000),
  sequentialSteps: 1000,
  durableSteps: 300,
  parallelRuns: 32,
  stepsPerParallelRun: 50,
  workerConcurrency: 16,
  stepsPerRun: 5,
};

function positiveInteger(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${text}`);
  return value;
}

const scratch = mkdtempSync(join(os.tmpdir(), 'hataraku-bench-scale-out-'));
const seconds = (started) => Number(process.hrtime.bigint() - started) / 1e9;
const round = (value, digits = 3) => Number(value.toFixed(digits));

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const serverVersion = (await admin.query('SHOW server_version')).rows[0].server_version;
const createdDatabases = [];
let databaseCount = 0;
function databaseUrl(name) {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
async function freshPostgres(template) {
  const name = `hataraku_bench_${process.pid}_${++databaseCount}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
      break;
    } catch (error) {
      // A template still has the killed process's connections for a moment.
      if (attempt > 50 || !/being accessed by other users/.test(error.message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  createdDatabases.push(name);
  return { name, url: databaseUrl(name) };
}
let sqliteCount = 0;
const freshSqlite = () => join(scratch, `journal-${++sqliteCount}.db`);
const journals = {
  postgres: {
    fresh: async () => (await freshPostgres()).url,
    open: (url) => openPostgresEngine({ url, heartbeatMs: 0 }),
  },
  sqlite: { fresh: async () => freshSqlite(), open: (path) => openSqliteEngine({ path, heartbeatMs: 0 }) },
};

function stepRecord(runId, index) {
  const now = Date.now();
  return {
    runId,
    index,
    name: 'tool:record',
    kind: 'tool',
    requestDigest: 'a'.repeat(64),
    output: { ok: true, content: `recorded ${index}`, toolName: 'record', input: { n: index }, repairs: [] },
    model: undefined,
    usage: undefined,
    costUsd: undefined,
    startedAt: now,
    finishedAt: now,
  };
}

/** (a) Steps committed one after another by one run, or by many runs at once. */
async function commitCost(kind) {
  const location = await journals[kind].fresh();
  const engine = journals[kind].open(location);
  const rows = [];
  if (kind === 'postgres') {
    // What a round trip costs here, without any work: the floor under every PostgreSQL figure.
    const client = new pg.Client({ connectionString: location });
    await client.connect();
    const started = process.hrtime.bigint();
    for (let index = 0; index < settings.sequentialSteps; index++) await client.query('SELECT 1');
    const elapsed = seconds(started);
    await client.end();
    rows.push({
      journal: kind,
      case: 'baseline: `SELECT 1` round trips, one after another (no step)',
      steps: settings.sequentialSteps,
      seconds: round(elapsed),
      stepsPerSecond: Math.round(settings.sequentialSteps / elapsed),
      msPerStep: round((elapsed * 1000) / settings.sequentialSteps, 3),
    });
  }
  try {
    await engine.createRun({ id: 'sequential', agentName: 'bench', model: 'scripted:bench', input: 'x', spec: {} });
    let started = process.hrtime.bigint();
    for (let index = 0; index < settings.sequentialSteps; index++)
      await engine.commitStep(stepRecord('sequential', index));
    await engine.sync();
    let elapsed = seconds(started);
    rows.push({
      journal: kind,
      case: '1 run, steps one after another, one sync at the end',
      steps: settings.sequentialSteps,
      seconds: round(elapsed),
      stepsPerSecond: Math.round(settings.sequentialSteps / elapsed),
      msPerStep: round((elapsed * 1000) / settings.sequentialSteps, 3),
    });

    await engine.createRun({ id: 'durable', agentName: 'bench', model: 'scripted:bench', input: 'x', spec: {} });
    started = process.hrtime.bigint();
    for (let index = 0; index < settings.durableSteps; index++) {
      await engine.commitStep(stepRecord('durable', index), { durable: true });
    }
    elapsed = seconds(started);
    rows.push({
      journal: kind,
      case: '1 run, each step durable before the next',
      steps: settings.durableSteps,
      seconds: round(elapsed),
      stepsPerSecond: Math.round(settings.durableSteps / elapsed),
      msPerStep: round((elapsed * 1000) / settings.durableSteps, 3),
    });

    const ids = Array.from({ length: settings.parallelRuns }, (_, n) => `parallel_${n}`);
    for (const id of ids)
      await engine.createRun({ id, agentName: 'bench', model: 'scripted:bench', input: 'x', spec: {} });
    started = process.hrtime.bigint();
    await Promise.all(
      ids.map(async (id) => {
        for (let index = 0; index < settings.stepsPerParallelRun; index++) {
          await engine.commitStep(stepRecord(id, index), { durable: index === settings.stepsPerParallelRun - 1 });
        }
      }),
    );
    elapsed = seconds(started);
    const total = settings.parallelRuns * settings.stepsPerParallelRun;
    rows.push({
      journal: kind,
      case: `${settings.parallelRuns} runs at once in one process, durable at each run's end (group commit)`,
      steps: total,
      seconds: round(elapsed),
      stepsPerSecond: Math.round(total / elapsed),
      msPerStep: round((elapsed * 1000) / total, 3),
    });
  } finally {
    await engine.close();
  }
  return rows;
}

function startWorker(journal) {
  const child = spawn(process.execPath, [join(here, 'worker.mjs'), journal, String(settings.workerConcurrency)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const ready = new Promise((resolve, reject) => {
    const check = setInterval(() => {
      if (stdout.includes('ready')) {
        clearInterval(check);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(check);
        reject(new Error(`worker exited before it was ready: ${stderr}`));
      }
    }, 5);
  });
  return { child, ready, exited, go: () => child.stdin.write('go\n') };
}

/** Time `processes` workers draining the queue of `journal`, from `go` until all exit. */
async function drain(journal, processes) {
  const workers = Array.from({ length: processes }, () => startWorker(journal));
  await Promise.all(workers.map((worker) => worker.ready));
  const started = process.hrtime.bigint();
  for (const worker of workers) worker.go();
  const exits = await Promise.all(workers.map((worker) => worker.exited));
  const elapsed = seconds(started);
  for (const exit of exits) if (exit.code !== 0 || exit.stderr !== '') throw new Error(`worker failed: ${exit.stderr}`);
  const completed = exits.reduce((sum, exit) => sum + Number(/done (\d+)/.exec(exit.stdout)?.[1] ?? 0), 0);
  return { elapsed, completed };
}

/** (b) Queued runs drained by 1, 2 and 4 worker processes. */
async function workerThroughput(kind) {
  const rows = [];
  for (const processes of [1, 2, 4]) {
    const location = await journals[kind].fresh();
    const engine = journals[kind].open(location);
    for (let index = 0; index < settings.queuedRuns; index++) {
      await engine.createRun({
        id: `run_queued_${String(index).padStart(4, '0')}`,
        agentName: 'counter',
        model: 'scripted:counter',
        input: 'Count to two.',
        spec: {},
        queued: true,
      });
    }
    await engine.sync();
    await engine.close();
    const { elapsed, completed } = await drain(location, processes);
    if (completed !== settings.queuedRuns)
      throw new Error(`${kind}: ${completed} of ${settings.queuedRuns} runs completed`);
    rows.push({
      journal: kind,
      processes,
      runs: completed,
      seconds: round(elapsed),
      runsPerSecond: round(completed / elapsed, 1),
      durableStepsPerSecond: Math.round((completed * settings.stepsPerRun) / elapsed),
    });
  }
  return rows;
}

/** A journal with `recoverRuns` interrupted runs, left by a process killed with SIGKILL. */
async function interruptedJournal(location) {
  const child = spawn(process.execPath, [join(here, 'interrupted-runs.mjs'), location, String(settings.recoverRuns)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      if (chunk.includes('started')) resolve();
    });
    child.on('close', () => reject(new Error('the interrupting process ended before its runs started')));
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
}

/** (c) Recovery of the interrupted runs, each measurement on a fresh copy of the journal. */
async function recovery(kind) {
  let copy;
  if (kind === 'postgres') {
    const template = await freshPostgres();
    await interruptedJournal(template.url);
    copy = async () => (await freshPostgres(template.name)).url;
  } else {
    const original = freshSqlite();
    await interruptedJournal(original);
    copy = async () => {
      const target = freshSqlite();
      for (const suffix of ['', '-wal', '-shm']) {
        if (existsSync(original + suffix)) copyFileSync(original + suffix, target + suffix);
      }
      return target;
    };
  }
  const rows = [];
  // The interrupted process ran on this machine: its runs are free at once (dead-executor
  // reaping), as they would be for a worker on another machine once their leases expire.
  const engine = journals[kind].open(await copy());
  try {
    const started = process.hrtime.bigint();
    let taken = 0;
    for (;;) {
      const batch = await engine.takeRuns({ limit: 250 });
      if (batch.length === 0) break;
      taken += batch.length;
    }
    const elapsed = seconds(started);
    if (taken !== settings.recoverRuns) throw new Error(`${kind}: took ${taken} of ${settings.recoverRuns} runs`);
    rows.push({ journal: kind, case: 'take all (takeRuns until none is left), one process', seconds: round(elapsed) });
  } finally {
    await engine.close();
  }
  for (const processes of [1, 4]) {
    const { elapsed, completed } = await drain(await copy(), processes);
    if (completed !== settings.recoverRuns)
      throw new Error(`${kind}: ${completed} of ${settings.recoverRuns} recovered`);
    rows.push({
      journal: kind,
      case: `resume all to completion, ${processes} worker process${processes > 1 ? 'es' : ''} (${settings.workerConcurrency} runs at once each)`,
      seconds: round(elapsed),
    });
  }
  return rows;
}

const started = new Date();
const results = { commitCost: [], workers: [], recovery: [] };
try {
  for (const kind of ['sqlite', 'postgres']) results.commitCost.push(...(await commitCost(kind)));
  for (const kind of ['sqlite', 'postgres']) results.workers.push(...(await workerThroughput(kind)));
  for (const kind of ['sqlite', 'postgres']) results.recovery.push(...(await recovery(kind)));
} finally {
  for (const name of createdDatabases)
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  await admin.end();
}
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  logicalCores: os.cpus().length,
  node: process.version,
  platform: `${os.type()} ${os.release()} (${process.platform}/${process.arch})`,
  loadAverage: os.loadavg().map((value) => round(value, 1)),
  postgres: serverVersion,
};
const output = { generatedAt: started.toISOString(), machine, settings, results };
console.log(JSON.stringify(output, null, 2));

if (process.env.BENCH_NO_WRITE !== '1') {
  writeFileSync(join(here, 'results.json'), `${JSON.stringify(output, null, 2)}\n`);
  process.stderr.write('wrote bench/scale-out/results.json (RESULTS.md is written by hand from it)\n');
}
