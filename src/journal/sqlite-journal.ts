/**
 * The embedded journal on SQLite (better-sqlite3, WAL). Writes are group-committed: a step is
 * committed with synchronous=NORMAL, which survives the process being killed (the WAL frame is
 * in the operating system's cache), and made durable on disk by the next write under
 * synchronous=FULL, which fsyncs the WAL and with it every frame before it. The runtime issues
 * such a write (`sync()`, a durable step, a run's creation or final result) before anything that
 * depends on earlier steps leaves the process. One fsync thus covers many steps.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { JournalError } from '../errors.js';
import type { JsonValue, Usage } from '../models/spec.js';
import {
  type ArtifactRecord,
  type Journal,
  journalSchemaVersion,
  type NewRun,
  type RunOutcome,
  type RunRecord,
  type RunStatus,
  type RunTotals,
  type StepRecord,
} from './journal.js';

const schema = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  agent_name TEXT NOT NULL,
  model TEXT NOT NULL,
  input TEXT NOT NULL,
  spec TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'stopped', 'failed')),
  stop_reason TEXT,
  output TEXT,
  error TEXT,
  workspace TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_created ON runs (created_at);
CREATE TABLE IF NOT EXISTS steps (
  run_id TEXT NOT NULL REFERENCES runs (id),
  step_index INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('model', 'tool')),
  request_digest TEXT NOT NULL,
  output TEXT NOT NULL,
  model TEXT,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cached_input_tokens INTEGER,
  cache_write_tokens INTEGER,
  cost_usd REAL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, step_index)
);
CREATE TABLE IF NOT EXISTS artifacts (
  run_id TEXT NOT NULL REFERENCES runs (id),
  path TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  media_type TEXT NOT NULL,
  description TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, path)
);
`;

interface RunRow {
  id: string;
  agent_name: string;
  model: string;
  input: string;
  spec: string;
  status: RunStatus;
  stop_reason: string | null;
  output: string | null;
  error: string | null;
  workspace: string | null;
  created_at: number;
  updated_at: number;
}

interface StepRow {
  run_id: string;
  step_index: number;
  name: string;
  kind: 'model' | 'tool';
  request_digest: string;
  output: string;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  cost_usd: number | null;
  started_at: number;
  finished_at: number;
}

export interface SqliteJournalOptions {
  /** Database file; created with its directory when missing. `:memory:` for a throwaway journal. */
  path: string;
  /** Milliseconds to wait on a locked database before failing (default 5000). */
  busyTimeoutMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export function openSqliteJournal(options: SqliteJournalOptions): Journal {
  const now = options.now ?? Date.now;
  let database: Database.Database;
  try {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    database = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    migrate(database, options.path);
  } catch (error) {
    if (error instanceof JournalError) throw error;
    throw new JournalError('journal_error', `cannot open the journal at ${options.path}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  const statements = {
    insertRun: database.prepare(
      `INSERT INTO runs (id, agent_name, model, input, spec, status, workspace, created_at, updated_at)
       VALUES (@id, @agent_name, @model, @input, @spec, 'pending', @workspace, @now, @now)`,
    ),
    getRun: database.prepare('SELECT * FROM runs WHERE id = ?'),
    listRuns: database.prepare('SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ?'),
    listRunsByStatus: database.prepare(
      'SELECT * FROM runs WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
    ),
    getStep: database.prepare('SELECT * FROM steps WHERE run_id = ? AND step_index = ?'),
    listSteps: database.prepare('SELECT * FROM steps WHERE run_id = ? ORDER BY step_index'),
    insertStep: database.prepare(
      `INSERT INTO steps (run_id, step_index, name, kind, request_digest, output, model, input_tokens, output_tokens,
         cached_input_tokens, cache_write_tokens, cost_usd, started_at, finished_at)
       VALUES (@run_id, @step_index, @name, @kind, @request_digest, @output, @model, @input_tokens, @output_tokens,
         @cached_input_tokens, @cache_write_tokens, @cost_usd, @started_at, @finished_at)
       ON CONFLICT (run_id, step_index) DO NOTHING`,
    ),
    upsertArtifact: database.prepare(
      `INSERT INTO artifacts (run_id, path, step_index, media_type, description, created_at)
       VALUES (@run_id, @path, @step_index, @media_type, @description, @created_at)
       ON CONFLICT (run_id, path) DO UPDATE SET step_index = excluded.step_index, media_type = excluded.media_type,
         description = excluded.description, created_at = excluded.created_at`,
    ),
    listArtifacts: database.prepare('SELECT * FROM artifacts WHERE run_id = ? ORDER BY created_at, path'),
    markSynced: database.prepare(
      "INSERT INTO meta (key, value) VALUES ('synced_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
    finishRun: database.prepare(
      `UPDATE runs SET status = @status, stop_reason = @stop_reason, output = @output, error = @error, updated_at = @now
       WHERE id = @id AND status = 'pending'`,
    ),
    reopenRun: database.prepare(
      `UPDATE runs SET status = 'pending', stop_reason = NULL, output = NULL, error = NULL, updated_at = ? WHERE id = ?`,
    ),
    totals: database.prepare(
      `SELECT COUNT(*) AS steps,
              COALESCE(SUM(kind = 'model'), 0) AS model_calls,
              COALESCE(SUM(kind = 'tool'), 0) AS tool_calls,
              COALESCE(SUM(input_tokens), 0) AS input_tokens,
              COALESCE(SUM(output_tokens), 0) AS output_tokens,
              COALESCE(SUM(cached_input_tokens), 0) AS cached_input_tokens,
              COALESCE(SUM(cost_usd), 0) AS cost_usd,
              COALESCE(SUM(kind = 'model' AND cost_usd IS NULL), 0) AS unpriced
       FROM steps WHERE run_id = ?`,
    ),
  };

  // One INSERT is atomic on its own: no explicit transaction is needed around it.
  const insertStepOnce = (step: StepRecord): StepRecord => {
    const result = statements.insertStep.run({
      run_id: step.runId,
      step_index: step.index,
      name: step.name,
      kind: step.kind,
      request_digest: step.requestDigest,
      output: JSON.stringify(step.output),
      model: step.model ?? null,
      input_tokens: step.usage?.inputTokens ?? null,
      output_tokens: step.usage?.outputTokens ?? null,
      cached_input_tokens: step.usage?.cachedInputTokens ?? null,
      cache_write_tokens: step.usage?.cacheWriteTokens ?? null,
      cost_usd: step.costUsd ?? null,
      started_at: step.startedAt,
      finished_at: step.finishedAt,
    });
    if (result.changes === 0) {
      const existing = statements.getStep.get(step.runId, step.index) as StepRow;
      return stepFromRow(existing);
    }
    return step;
  };

  /** Run `action` in a transaction whose commit fsyncs the WAL (and so every earlier commit). */
  function durably<T>(action: () => T): T {
    database.pragma('synchronous = FULL');
    try {
      return database.transaction(action).immediate();
    } finally {
      database.pragma('synchronous = NORMAL');
    }
  }

  function guard<T>(what: string, action: () => T): T {
    try {
      return action();
    } catch (error) {
      if (error instanceof JournalError) throw error;
      throw new JournalError('journal_error', `journal: ${what} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  return {
    createRun(run: NewRun): RunRecord {
      return guard('creating a run', () => {
        const time = now();
        // Not durable by itself: the run becomes durable with its first durable write.
        statements.insertRun.run({
          id: run.id,
          agent_name: run.agentName,
          model: run.model,
          input: run.input,
          spec: JSON.stringify(run.spec),
          workspace: run.workspace ?? null,
          now: time,
        });
        return runFromRow(statements.getRun.get(run.id) as RunRow);
      });
    },
    getRun(runId) {
      return guard('reading a run', () => {
        const row = statements.getRun.get(runId) as RunRow | undefined;
        return row ? runFromRow(row) : undefined;
      });
    },
    listRuns(query = {}) {
      return guard('listing runs', () => {
        const limit = query.limit ?? 50;
        const rows = (
          query.status ? statements.listRunsByStatus.all(query.status, limit) : statements.listRuns.all(limit)
        ) as RunRow[];
        return rows.map(runFromRow);
      });
    },
    getStep(runId, index) {
      return guard('reading a step', () => {
        const row = statements.getStep.get(runId, index) as StepRow | undefined;
        return row ? stepFromRow(row) : undefined;
      });
    },
    listSteps(runId) {
      return guard('listing steps', () => (statements.listSteps.all(runId) as StepRow[]).map(stepFromRow));
    },
    totals(runId): RunTotals {
      return guard('summing a run', () => {
        const row = statements.totals.get(runId) as Record<string, number>;
        return {
          steps: row.steps ?? 0,
          modelCalls: row.model_calls ?? 0,
          toolCalls: row.tool_calls ?? 0,
          inputTokens: row.input_tokens ?? 0,
          outputTokens: row.output_tokens ?? 0,
          cachedInputTokens: row.cached_input_tokens ?? 0,
          costUsd: row.cost_usd ?? 0,
          unpricedModelCalls: row.unpriced ?? 0,
        };
      });
    },
    commitStep(step, options = {}) {
      return guard(`committing step ${step.index} of run ${step.runId}`, () =>
        options.durable ? durably(() => insertStepOnce(step)) : insertStepOnce(step),
      );
    },
    sync() {
      guard('syncing to disk', () => durably(() => statements.markSynced.run(String(now()))));
    },
    finishRun(runId, outcome: RunOutcome) {
      return guard('finishing a run', () => {
        const result = durably(() =>
          statements.finishRun.run({
            id: runId,
            status: outcome.status,
            stop_reason: outcome.stopReason,
            output: outcome.output === undefined ? null : JSON.stringify(outcome.output),
            error: outcome.error ?? null,
            now: now(),
          }),
        );
        return result.changes === 1;
      });
    },
    recordArtifact(artifact: ArtifactRecord) {
      guard('recording an artifact', () =>
        statements.upsertArtifact.run({
          run_id: artifact.runId,
          path: artifact.path,
          step_index: artifact.stepIndex,
          media_type: artifact.mediaType,
          description: artifact.description ?? null,
          created_at: artifact.createdAt,
        }),
      );
    },
    listArtifacts(runId) {
      return guard('listing artifacts', () =>
        (
          statements.listArtifacts.all(runId) as Array<{
            run_id: string;
            path: string;
            step_index: number;
            media_type: string;
            description: string | null;
            created_at: number;
          }>
        ).map((row) => ({
          runId: row.run_id,
          stepIndex: row.step_index,
          path: row.path,
          mediaType: row.media_type,
          description: row.description ?? undefined,
          createdAt: row.created_at,
        })),
      );
    },
    reopenRun(runId) {
      guard('reopening a run', () => durably(() => statements.reopenRun.run(now(), runId)));
    },
    close() {
      if (database.open) database.close();
    },
  };
}

function migrate(database: Database.Database, path: string): void {
  const hasMeta = database.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (hasMeta) {
    const row = database.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    const stored = Number(row?.value ?? 0);
    if (stored > journalSchemaVersion) {
      throw new JournalError(
        'journal_error',
        `the journal at ${path} has schema version ${stored}, newer than this Hataraku understands (${journalSchemaVersion}); upgrade Hataraku.`,
      );
    }
    if (stored === journalSchemaVersion) return;
  }
  database.transaction(() => {
    database.exec(schema);
    database
      .prepare(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(String(journalSchemaVersion));
  })();
}

function parseJson(text: string | null): JsonValue | undefined {
  return text === null ? undefined : (JSON.parse(text) as JsonValue);
}

function runFromRow(row: RunRow): RunRecord {
  return {
    id: row.id,
    agentName: row.agent_name,
    model: row.model,
    input: row.input,
    spec: JSON.parse(row.spec) as JsonValue,
    status: row.status,
    stopReason: row.stop_reason ?? undefined,
    output: parseJson(row.output),
    error: row.error ?? undefined,
    workspace: row.workspace ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function stepFromRow(row: StepRow): StepRecord {
  const usage: Usage | undefined =
    row.kind === 'model'
      ? {
          inputTokens: row.input_tokens ?? undefined,
          outputTokens: row.output_tokens ?? undefined,
          cachedInputTokens: row.cached_input_tokens ?? undefined,
          cacheWriteTokens: row.cache_write_tokens ?? undefined,
        }
      : undefined;
  return {
    runId: row.run_id,
    index: row.step_index,
    name: row.name,
    kind: row.kind,
    requestDigest: row.request_digest,
    output: JSON.parse(row.output) as JsonValue,
    model: row.model ?? undefined,
    usage,
    costUsd: row.cost_usd ?? undefined,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
