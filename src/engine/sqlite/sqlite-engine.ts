/**
 * The embedded engine on SQLite (better-sqlite3, WAL): the journal's parts over one shared
 * database handle, one file per concern:
 * - `journal-database.ts`: the connection, the executor, commits and group commit (durability);
 * - `run-journal.ts`: runs and leases, the shared queue, child runs;
 * - `step-journal.ts`: steps and their ledger rows;
 * - `approval-journal.ts`: approvals and the audit log;
 * - `spend-ledger.ts`: cost reports, spend and budget reservations;
 * - `artifact-journal.ts`: files runs produced;
 * - `feedback-journal.ts`: whether runs solved their tasks (outcome labels);
 * - `console-session-journal.ts`: signed-in console sessions (hashed tokens).
 *
 * Each engine is an executor: it registers itself, renews the leases of the runs it owns on a
 * heartbeat, and may commit steps only for runs it owns (a fence against a process that lost
 * its lease while paused).
 */
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { Engine } from '../engine.js';
import { createApprovalJournal } from './approval-journal.js';
import { createArtifactJournal } from './artifact-journal.js';
import { createConsoleSessionJournal } from './console-session-journal.js';
import { createFeedbackJournal } from './feedback-journal.js';
import { openJournalDatabase, type SqliteEngineOptions } from './journal-database.js';
import { createRunJournal } from './run-journal.js';
import { createSpendLedger } from './spend-ledger.js';
import { createStepJournal } from './step-journal.js';

export type { SqliteEngineOptions } from './journal-database.js';

/** An engine on an SQLite file, which lends its connection to the server's tables in that file. */
export interface SqliteEngine extends Engine {
  /**
   * The journal's file and its one connection, for the tables `hataraku serve` keeps in the same
   * file (API keys, run events): one connection serves them all. It is the engine's: it closes
   * with the engine, and a borrower never closes it.
   */
  readonly sqlite: { readonly path: string; readonly database: Database.Database };
}

/**
 * The connection of `engine`'s journal when it is an open SQLite engine on the file at `path`;
 * undefined otherwise (a PostgreSQL engine, a journal elsewhere, a closed engine): the caller
 * then opens the file itself.
 */
export function sqliteConnectionOf(engine: Engine, path: string): Database.Database | undefined {
  const sqlite = (engine as Partial<SqliteEngine>).sqlite;
  if (!sqlite?.database.open || path === ':memory:' || resolve(sqlite.path) !== resolve(path)) return undefined;
  return sqlite.database;
}

export function openSqliteEngine(options: SqliteEngineOptions): SqliteEngine {
  const database = openJournalDatabase(options);
  const steps = createStepJournal(database);
  const runs = createRunJournal(database, steps.insertStepOnce);
  return {
    ...runs.journal,
    ...steps.journal,
    ...createApprovalJournal(database),
    ...createSpendLedger(database),
    ...createArtifactJournal(database),
    ...createFeedbackJournal(database),
    ...createConsoleSessionJournal(database),
    sqlite: { path: database.path, database: database.db },
    async close() {
      runs.release();
      if (database.db.open) database.db.close();
    },
  };
}
