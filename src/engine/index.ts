/**
 * `hataraku/journal`: the durable journal runs are recorded in (the `Engine`), on SQLite or
 * PostgreSQL, and the records it keeps.
 */
export type {
  ApprovalRecord,
  ArtifactRecord,
  AuditEntry,
  Engine,
  FeedbackJournal,
  RunFeedback,
  RunRecord,
  RunStatus,
  StepRecord,
} from './engine.js';
export { openPostgresEngine, type PostgresEngineOptions } from './postgres/postgres-engine.js';
export { openSqliteEngine, type SqliteEngine, type SqliteEngineOptions } from './sqlite/sqlite-engine.js';
