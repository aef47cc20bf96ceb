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

export function openSqliteEngine(options: SqliteEngineOptions): Engine {
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
    async close() {
      runs.release();
      if (database.db.open) database.db.close();
    },
  };
}
