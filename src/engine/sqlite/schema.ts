/**
 * The SQLite schema of the engine, and opening a database with it. The stored format's version
 * is `meta.schema_version`; see docs/journal-format.md for its history.
 */
import type Database from 'better-sqlite3';
import { JournalError } from '../../errors.js';
import { engineSchemaVersion } from '../engine.js';

const schema = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS executors (
  id TEXT PRIMARY KEY,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
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
  lease_expires_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_created ON runs (created_at);
CREATE INDEX IF NOT EXISTS open_runs ON runs (status, lease_expires_at) WHERE status IN ('pending', 'waiting');
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
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS ledger (
  run_id TEXT NOT NULL REFERENCES runs (id),
  step_index INTEGER NOT NULL,
  model TEXT NOT NULL,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cached_input_tokens INTEGER,
  cache_write_tokens INTEGER,
  cost_usd REAL,
  at INTEGER NOT NULL,
  PRIMARY KEY (run_id, step_index, model)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS budget_reservations (
  id TEXT PRIMARY KEY,
  reservation_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  scope TEXT NOT NULL,
  scope_key TEXT NOT NULL,
  amount_usd REAL NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_by_scope ON budget_reservations (scope, scope_key);
CREATE INDEX IF NOT EXISTS reservations_by_group ON budget_reservations (reservation_id);
CREATE TABLE IF NOT EXISTS artifacts (
  run_id TEXT NOT NULL REFERENCES runs (id),
  path TEXT NOT NULL,
  step_index INTEGER NOT NULL,
  media_type TEXT NOT NULL,
  description TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, path)
);
CREATE TABLE IF NOT EXISTS approvals (
  run_id TEXT NOT NULL REFERENCES runs (id),
  step_index INTEGER NOT NULL,
  tool_name TEXT NOT NULL,
  input TEXT NOT NULL,
  input_digest TEXT NOT NULL,
  reason TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
  deadline INTEGER,
  default_outcome TEXT NOT NULL CHECK (default_outcome IN ('approve', 'deny')),
  decided_by TEXT,
  decided_at INTEGER,
  note TEXT,
  requested_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, step_index)
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  step_index INTEGER,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  at INTEGER NOT NULL,
  tool_name TEXT,
  input_digest TEXT,
  cost_usd_so_far REAL NOT NULL,
  note TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_run ON audit (run_id, id);
CREATE TABLE IF NOT EXISTS feedback (
  run_id TEXT PRIMARY KEY REFERENCES runs (id),
  solved INTEGER NOT NULL CHECK (solved IN (0, 1)),
  note TEXT,
  actor TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_time ON feedback (at);
CREATE TABLE IF NOT EXISTS console_sessions (
  token_sha256 TEXT PRIMARY KEY,
  csrf_sha256 TEXT NOT NULL,
  key_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  idle_expires_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS console_sessions_by_key ON console_sessions (key_id);
CREATE INDEX IF NOT EXISTS console_sessions_by_idle_expiry ON console_sessions (idle_expires_at);
CREATE TRIGGER IF NOT EXISTS audit_is_append_only_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_is_append_only_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

/**
 * Changes from each version to the next, applied in order to an older journal before the schema
 * above (whose statements create only what is missing) runs.
 */
const upgrades: Record<number, string> = {
  // 1 → 2: the reservation a row belongs to is a column, no longer packed into the row's id.
  1: `ALTER TABLE budget_reservations ADD COLUMN reservation_id TEXT NOT NULL DEFAULT '';
      UPDATE budget_reservations SET reservation_id = substr(id, 1, instr(id, ':') - 1) WHERE instr(id, ':') > 0;`,
  // 2 → 3: the `feedback` table (outcome labels on runs), created by the schema's IF NOT EXISTS.
  // 3 → 4: the `console_sessions` table (signed-in console sessions), created the same way.
};

interface SchemaVersionRow {
  value: string;
}

/** Create the tables of a new database, or check the version of an existing one and upgrade it. */
export function migrate(database: Database.Database, path: string): void {
  const hasMeta = database.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  let stored = 0;
  if (hasMeta) {
    const row = database.prepare<[], SchemaVersionRow>("SELECT value FROM meta WHERE key = 'schema_version'").get();
    stored = Number(row?.value ?? 0);
    if (stored > engineSchemaVersion) {
      throw new JournalError(
        'journal_error',
        `the journal at ${path} has schema version ${stored}, newer than this Hataraku understands (${engineSchemaVersion}); upgrade Hataraku.`,
      );
    }
    if (stored === engineSchemaVersion) return;
  }
  database.transaction(() => {
    for (let version = stored; version > 0 && version < engineSchemaVersion; version++) {
      const upgrade = upgrades[version];
      if (upgrade) database.exec(upgrade);
    }
    database.exec(schema);
    database
      .prepare(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(String(engineSchemaVersion));
  })();
}
