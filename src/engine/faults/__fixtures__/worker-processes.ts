/**
 * What the fault-injection tests share: starting `fault-worker.mjs` as a real process and reading
 * its events, reading the journal and the side-effect ledger straight from their SQLite files,
 * and polling for a condition with a deadline (never a bare sleep).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Engine } from '../../engine.js';
import { isPostgresUrl } from '../../postgres/connection.js';
import { openPostgresEngine } from '../../postgres/postgres-engine.js';
import { openSqliteEngine } from '../../sqlite/sqlite-engine.js';
import { createTestDatabase, psql, testDatabaseUrl } from '../../postgres/__fixtures__/test-database.js';

const workerPath = fileURLToPath(new URL('./fault-worker.mjs', import.meta.url));

/** The job a worker process is given (see fault-worker.mjs for each field). */
export interface WorkerJob {
  mode: 'run' | 'recover' | 'queue';
  database: string;
  ledger: string;
  runIds?: string[];
  turns?: number;
  delayMs?: number;
  concurrency?: number;
  busyTimeoutMs?: number;
  leaseMs?: number;
  reconnectTimeoutMs?: number;
  renamed?: boolean;
  requests?: string;
  waitForGo?: boolean;
}

export type WorkerEvent =
  | { event: 'ready'; executorId: string; pid: number }
  | {
      event: 'result';
      runId: string;
      status: string;
      stopReason: string;
      output: unknown;
      totals: Record<string, number>;
    }
  | { event: 'error'; runId: string | undefined; name: string; code: string | undefined; message: string }
  | { event: 'skipped'; runId: string; reason: string }
  | { event: 'taken'; runId: string };

export type ResultEvent = Extract<WorkerEvent, { event: 'result' }>;
export type ErrorEvent = Extract<WorkerEvent, { event: 'error' }>;

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: WorkerEvent[];
  stderr: string;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Events seen so far, in order. */
  readonly events: WorkerEvent[];
  readonly exited: Promise<WorkerExit>;
  /** Resolves with the ready event (the worker's executor id and pid). */
  ready(timeoutMs?: number): Promise<Extract<WorkerEvent, { event: 'ready' }>>;
  /** Let a worker started with `waitForGo` begin. */
  go(): void;
  kill(): Promise<WorkerExit>;
}

/** A temporary directory with a journal and a side-effect ledger, the ledger table created. */
export interface Workspace {
  directory: string;
  database: string;
  ledger: string;
  /** A fresh path in the workspace. */
  file(name: string): string;
}

/** The journals the suite runs against: SQLite always, PostgreSQL when a test server is named. */
export type JournalKind = 'sqlite' | 'postgres';
export const journalKinds: JournalKind[] = testDatabaseUrl ? ['sqlite', 'postgres'] : ['sqlite'];

/**
 * A workspace; its journal (`database`) is a SQLite file, or for `postgres` the URL of a new
 * database on the test server. The side-effect ledger is a SQLite file either way.
 */
export function createWorkspace(name: string, kind: JournalKind = 'sqlite'): Workspace {
  const directory = mkdtempSync(join(tmpdir(), `hataraku-faults-${name}-`));
  const workspace = {
    directory,
    database: kind === 'postgres' ? createTestDatabase(name) : join(directory, 'journal.db'),
    ledger: join(directory, 'ledger.db'),
    file: (file: string) => join(directory, file),
  };
  createLedger(workspace.ledger);
  return workspace;
}

export function createLedger(path: string): void {
  const ledger = new Database(path);
  ledger.pragma('journal_mode = WAL');
  ledger.exec(
    'CREATE TABLE IF NOT EXISTS ledger (key TEXT UNIQUE, attempts INTEGER NOT NULL, executors TEXT NOT NULL)',
  );
  ledger.close();
}

export function startWorker(job: WorkerJob, options: { faults?: string } = {}): WorkerProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.HATARAKU_FAULTS;
  if (options.faults) env.HATARAKU_FAULTS = options.faults;
  const child = spawn(process.execPath, [workerPath, JSON.stringify(job)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  const events: WorkerEvent[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== '') events.push(JSON.parse(line) as WorkerEvent);
      newline = buffered.indexOf('\n');
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  // A worker waiting for `go` may be killed before it reads stdin.
  child.stdin?.on('error', () => {});
  const exited = new Promise<WorkerExit>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, events, stderr }));
  });
  return {
    child,
    events,
    exited,
    async ready(timeoutMs = 15_000) {
      let found: Extract<WorkerEvent, { event: 'ready' }> | undefined;
      await waitUntil(
        () => {
          found = events.find((event) => event.event === 'ready');
          return found !== undefined || child.exitCode !== null || child.signalCode !== null;
        },
        timeoutMs,
        'the worker to start',
      );
      if (!found) throw new Error(`the worker exited before it was ready: ${stderr}`);
      return found;
    },
    go() {
      child.stdin?.write('go\n');
    },
    async kill() {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

/** An engine in the test process on a workspace's journal, without a heartbeat. */
export function openJournal(location: string, options: { leaseMs?: number } = {}): Engine {
  return isPostgresUrl(location)
    ? openPostgresEngine({ url: location, heartbeatMs: 0, poolSize: 2, ...options })
    : openSqliteEngine({ path: location, heartbeatMs: 0, ...options });
}

/** Run a worker to its end and fail with its stderr when it does not exit cleanly. */
export async function runWorker(job: WorkerJob, options: { faults?: string } = {}): Promise<WorkerExit> {
  const exit = await startWorker(job, options).exited;
  if (exit.code !== 0 || exit.stderr !== '') {
    throw new Error(`worker exited with ${exit.code ?? exit.signal}: ${exit.stderr}`);
  }
  return exit;
}

export function resultsOf(exit: WorkerExit | WorkerEvent[]): ResultEvent[] {
  const events = Array.isArray(exit) ? exit : exit.events;
  return events.filter((event): event is ResultEvent => event.event === 'result');
}

export function errorsOf(exit: WorkerExit | WorkerEvent[]): ErrorEvent[] {
  const events = Array.isArray(exit) ? exit : exit.events;
  return events.filter((event): event is ErrorEvent => event.event === 'error');
}

/** Poll `condition` every few milliseconds until it holds; throw naming `what` at the deadline. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Open a SQLite file for reading only what is committed; the caller closes it. */
function openForReading(path: string): Database.Database {
  return new Database(path, { fileMustExist: true, timeout: 10_000 });
}

export interface JournalStep {
  runId: string;
  index: number;
  name: string;
  kind: string;
  output: unknown;
}

export interface JournalRun {
  id: string;
  status: string;
  output: unknown;
  owner: string | null;
}

export interface JournalSnapshot {
  runs: Map<string, JournalRun>;
  /** Committed steps by run, in index order. */
  steps: Map<string, JournalStep[]>;
}

/**
 * Everything committed in a journal now: a SQLite file (readers never wait on a writer in WAL
 * mode) or a PostgreSQL database (one statement, so one consistent snapshot).
 */
export function readJournal(path: string): JournalSnapshot {
  const runs = new Map<string, JournalRun>();
  const steps = new Map<string, JournalStep[]>();
  if (isPostgresUrl(path)) return readPostgresJournal(path);
  if (!existsSync(path)) return { runs, steps };
  const database = openForReading(path);
  try {
    const hasRuns = database.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").get();
    if (!hasRuns) return { runs, steps };
    const read = database.transaction(() => {
      const runRows = database.prepare('SELECT id, status, output, owner FROM runs').all() as Array<{
        id: string;
        status: string;
        output: string | null;
        owner: string | null;
      }>;
      const stepRows = database
        .prepare('SELECT run_id, step_index, name, kind, output FROM steps ORDER BY run_id, step_index')
        .all() as Array<{ run_id: string; step_index: number; name: string; kind: string; output: string }>;
      return { runRows, stepRows };
    });
    const { runRows, stepRows } = read();
    for (const row of runRows) {
      runs.set(row.id, {
        id: row.id,
        status: row.status,
        output: row.output === null ? undefined : JSON.parse(row.output),
        owner: row.owner,
      });
    }
    for (const row of stepRows) {
      const list = steps.get(row.run_id) ?? [];
      list.push({
        runId: row.run_id,
        index: row.step_index,
        name: row.name,
        kind: row.kind,
        output: JSON.parse(row.output),
      });
      steps.set(row.run_id, list);
    }
    return { runs, steps };
  } finally {
    database.close();
  }
}

function readPostgresJournal(url: string): JournalSnapshot {
  const runs = new Map<string, JournalRun>();
  const steps = new Map<string, JournalStep[]>();
  // Before the first worker has migrated the database, there is nothing to read.
  if (psql(url, "SELECT to_regclass('public.steps') IS NULL").trim() === 't') return { runs, steps };
  const text = psql(
    url,
    `SELECT json_build_object(
       'runs', (SELECT json_agg(json_build_object('id', id, 'status', status, 'output', output, 'owner', owner)) FROM runs),
       'steps', (SELECT json_agg(json_build_object('run_id', run_id, 'step_index', step_index, 'name', name,
                  'kind', kind, 'output', output) ORDER BY run_id, step_index) FROM steps))`,
  );
  const parsed = JSON.parse(text) as {
    runs?: Array<{ id: string; status: string; output: string | null; owner: string | null }> | null;
    steps?: Array<{ run_id: string; step_index: number; name: string; kind: string; output: string }> | null;
  };
  for (const row of parsed.runs ?? []) {
    runs.set(row.id, {
      id: row.id,
      status: row.status,
      output: row.output === null ? undefined : JSON.parse(row.output),
      owner: row.owner,
    });
  }
  for (const row of parsed.steps ?? []) {
    const list = steps.get(row.run_id) ?? [];
    list.push({ runId: row.run_id, index: row.step_index, name: row.name, kind: row.kind, output: JSON.parse(row.output) });
    steps.set(row.run_id, list);
  }
  return { runs, steps };
}

/** Executions of one idempotency key: how many, and by which executors in order. */
export interface LedgerEntry {
  attempts: number;
  executors: string[];
}

/** The side-effect ledger: executions per idempotency key. */
export function readLedger(path: string): Map<string, LedgerEntry> {
  const database = openForReading(path);
  try {
    const rows = database.prepare('SELECT key, attempts, executors FROM ledger').all() as Array<{
      key: string;
      attempts: number;
      executors: string;
    }>;
    return new Map(rows.map((row) => [row.key, { attempts: row.attempts, executors: row.executors.split(' ') }]));
  } finally {
    database.close();
  }
}

/**
 * Check the ledger against the guarantee, given the executors that were killed: a key executed
 * more than once was in flight at a crash each time but the last (every earlier attempt is by a
 * killed executor, once each), and a killed executor left at most one step in flight per run.
 * Returns the number of repeated executions; throws describing the first violation.
 */
export function checkRepeats(ledger: Map<string, LedgerEntry>, killed: ReadonlySet<string>): number {
  let repeats = 0;
  const inFlightPerRun = new Map<string, number>();
  for (const [key, entry] of ledger) {
    if (entry.attempts !== entry.executors.length) throw new Error(`ledger ${key}: attempts and executors disagree`);
    const earlier = entry.executors.slice(0, -1);
    for (const executor of earlier) {
      if (!killed.has(executor)) {
        throw new Error(`${key} ran ${entry.attempts} times (${entry.executors.join(', ')}); ${executor} was not killed`);
      }
      const runId = key.slice(0, key.lastIndexOf(':'));
      const slot = `${executor} ${runId}`;
      inFlightPerRun.set(slot, (inFlightPerRun.get(slot) ?? 0) + 1);
      if ((inFlightPerRun.get(slot) ?? 0) > 1) {
        throw new Error(`${executor} left more than one step of ${runId} in flight at its crash`);
      }
    }
    if (new Set(earlier).size !== earlier.length) throw new Error(`${key} ran twice in one process`);
    repeats += earlier.length;
  }
  return repeats;
}

/** Idempotency keys of the side-effect (`record`) steps committed in a journal snapshot. */
export function committedSideEffectKeys(snapshot: JournalSnapshot): Set<string> {
  const keys = new Set<string>();
  for (const [runId, steps] of snapshot.steps) {
    for (const step of steps) if (step.name === 'tool:record') keys.add(`${runId}:${step.index}`);
  }
  return keys;
}

/** How many committed steps of `kind` a run has in a snapshot. */
export function countSteps(snapshot: JournalSnapshot, runId: string, kind?: 'model' | 'tool'): number {
  return (snapshot.steps.get(runId) ?? []).filter((step) => kind === undefined || step.kind === kind).length;
}

/** Step names and outputs of a run, the part of the journal compared with the reference run. */
export function stepTrace(snapshot: JournalSnapshot, runId: string): Array<[string, unknown]> {
  return (snapshot.steps.get(runId) ?? []).map((step) => [step.name, step.output]);
}

/** Number of lines in a requests file written by the scripted model (0 when absent). */
export function countLines(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '').length;
}

/** The outcome of a run uninterrupted, to compare crashed-and-recovered runs with. */
export interface Reference {
  results: Map<string, ResultEvent>;
  journal: JournalSnapshot;
  ledger: Map<string, LedgerEntry>;
}

/** Run `runIds` once with no fault, in a workspace of its own. */
export async function referenceRun(runIds: string[], turns: number, name = 'reference'): Promise<Reference> {
  const workspace = createWorkspace(name);
  const exit = await runWorker({
    mode: 'run',
    database: workspace.database,
    ledger: workspace.ledger,
    runIds,
    turns,
    concurrency: 32,
  });
  const results = new Map(resultsOf(exit).map((result) => [result.runId, result]));
  return { results, journal: readJournal(workspace.database), ledger: readLedger(workspace.ledger) };
}
