/**
 * The PostgreSQL schema of the engine as a list of versioned migrations, applied in order on
 * start under an advisory lock, so that workers starting at once on a new database do not race.
 * Applied versions are rows of `hataraku_migrations`. The tables mirror the SQLite journal
 * (docs/journal-format.md) with three differences: times are BIGINT milliseconds, JSON stays
 * TEXT (the exact serialized bytes, as SQLite stores them, so digests and outputs compare
 * equal), and a run carries a `lease_epoch` that fences commits (docs/scale-out.md).
 */
import type { PoolClient } from 'pg';
import { JournalError } from '../../errors.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'the journal: runs, steps, ledger, budget reservations, artifacts, approvals, audit',
    sql: `
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE executors (
  id TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  agent_name TEXT NOT NULL,
  model TEXT NOT NULL,
  input TEXT NOT NULL,
  spec TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'waiting', 'completed', 'stopped', 'failed')),
  stop_reason TEXT,
  output TEXT,
  error TEXT,
  workspace TEXT,
  tenant TEXT,
  parent_run_id TEXT,
  owner TEXT,
  lease_expires_at BIGINT,
  lease_epoch BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  seq BIGSERIAL NOT NULL
);
CREATE INDEX runs_by_created ON runs (created_at, seq);
CREATE INDEX open_runs ON runs (status, lease_expires_at) WHERE status IN ('pending', 'waiting');
CREATE INDEX owned_runs ON runs (owner) WHERE owner IS NOT NULL;
CREATE INDEX runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE TABLE steps (
  run_id TEXT NOT NULL REFERENCES runs (id),
  step_index INTEGER NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('model', 'tool')),
  request_digest TEXT NOT NULL,
  output TEXT NOT NULL,
  model TEXT,
  input_tokens BIGINT,
  output_tokens BIGINT,
  cached_input_tokens BIGINT,
  cache_write_tokens BIGINT,
  cost_usd DOUBLE PRECISION,
  started_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  PRIMARY KEY (run_id, step_index)
);
CREATE TABLE ledger (
  run_id TEXT NOT NULL REFERENCES runs (id),
  step_index INTEGER NOT NULL,
  model TEXT NOT NULL,
  input_tokens BIGINT,
  output_tokens BIGINT,
  cached_input_tokens BIGINT,
  cache_write_tokens BIGINT,
  cost_usd DOUBLE PRECISION,
  at BIGINT NOT NULL,
  PRIMARY KEY (run_id, step_index, model)
);
CREATE INDEX ledger_by_time ON ledger (at);
CREATE TABLE budget_reservations (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  scope TEXT NOT NULL,
  scope_key TEXT NOT NULL,
  amount_usd DOUBLE PRECISION NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX reservations_by_scope ON budget_reservations (scope, scope_key);
CREATE TABLE artifacts (
  run_id TEXT NOT NULL REFERENCES runs (id),
  path TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  media_type TEXT NOT NULL,
  description TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (run_id, path)
);
CREATE TABLE approvals (
  run_id TEXT NOT NULL REFERENCES runs (id),
  step_index INTEGER NOT NULL,
  tool_name TEXT NOT NULL,
  input TEXT NOT NULL,
  input_digest TEXT NOT NULL,
  reason TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
  deadline BIGINT,
  default_outcome TEXT NOT NULL CHECK (default_outcome IN ('approve', 'deny')),
  decided_by TEXT,
  decided_at BIGINT,
  note TEXT,
  requested_at BIGINT NOT NULL,
  PRIMARY KEY (run_id, step_index)
);
CREATE TABLE audit (
  id BIGSERIAL PRIMARY KEY,
  run_id TEXT NOT NULL,
  step_index INTEGER,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  at BIGINT NOT NULL,
  tool_name TEXT,
  input_digest TEXT,
  cost_usd_so_far DOUBLE PRECISION NOT NULL,
  note TEXT
);
CREATE INDEX audit_by_run ON audit (run_id, id);
CREATE FUNCTION hataraku_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_is_append_only BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION hataraku_audit_is_append_only();
`,
  },
  {
    version: 2,
    description: 'the exact model-call cache, shared by every worker',
    sql: `
CREATE TABLE model_cache (
  key TEXT PRIMARY KEY,
  tenant TEXT,
  model TEXT NOT NULL,
  response TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX model_cache_expires_at ON model_cache (expires_at);
CREATE INDEX model_cache_tenant ON model_cache (tenant);
`,
  },
  {
    version: 3,
    description: 'budget reservations: the reservation a row belongs to as a column',
    sql: `
ALTER TABLE budget_reservations ADD COLUMN reservation_id TEXT NOT NULL DEFAULT '';
UPDATE budget_reservations SET reservation_id = split_part(id, ':', 1);
CREATE INDEX reservations_by_group ON budget_reservations (reservation_id);
`,
  },
  {
    version: 4,
    description: 'feedback: whether a run solved its task, the labels routers learn from',
    sql: `
CREATE TABLE feedback (
  run_id TEXT PRIMARY KEY REFERENCES runs (id),
  solved BOOLEAN NOT NULL,
  note TEXT,
  actor TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX feedback_by_time ON feedback (at);
`,
  },
  {
    version: 5,
    description: 'console sessions: hashed session tokens, shared by every server on the journal',
    sql: `
CREATE TABLE console_sessions (
  token_sha256 TEXT PRIMARY KEY,
  csrf_sha256 TEXT NOT NULL,
  key_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  idle_expires_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_by_key ON console_sessions (key_id);
CREATE INDEX console_sessions_by_idle_expiry ON console_sessions (idle_expires_at);
`,
  },
  {
    version: 6,
    description: 'API keys: hashed, shared by every server on the journal (src/server/keys)',
    sql: `
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL,
  budget_day_usd DOUBLE PRECISION,
  budget_month_usd DOUBLE PRECISION,
  requests_per_minute INTEGER,
  agents TEXT,
  models TEXT,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
`,
  },
];

/** Key of the advisory lock held while migrating (any fixed 64-bit number). */
const migrationLockKey = 7_246_831_905_114;

/**
 * Apply the migrations this database lacks, in one transaction. Refuses a database migrated by
 * a newer Hataraku (a version this one does not know).
 */
export async function applyMigrations(client: PoolClient, where: string): Promise<number[]> {
  await client.query('BEGIN');
  try {
    // The schema is on disk before anything is written into it, whatever `durability` says:
    // sessions commit asynchronously, and a server crash must not take back the tables.
    await client.query("SELECT set_config('synchronous_commit', 'on', true)");
    await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS hataraku_migrations (
         version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const applied = new Set(
      (await client.query<{ version: number }>('SELECT version FROM hataraku_migrations')).rows.map(
        (row) => row.version,
      ),
    );
    const known = new Set(migrations.map((migration) => migration.version));
    const unknown = [...applied].filter((version) => !known.has(version));
    if (unknown.length > 0) {
      throw new JournalError(
        'journal_error',
        `the journal at ${where} has migration ${Math.max(...unknown)}, newer than this Hataraku understands (${Math.max(...known)}); upgrade Hataraku.`,
      );
    }
    const newlyApplied: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO hataraku_migrations (version, description) VALUES ($1, $2)', [
        migration.version,
        migration.description,
      ]);
      newlyApplied.push(migration.version);
    }
    await client.query('COMMIT');
    return newlyApplied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
