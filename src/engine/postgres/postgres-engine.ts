/**
 * The engine on PostgreSQL (node-postgres), for several workers on several machines sharing
 * one journal. Same interface, same records and the same guarantees as the SQLite engine;
 * docs/scale-out.md explains the choices.
 *
 * Sessions commit asynchronously (`synchronous_commit = off`), so a step is committed in one
 * round trip and survives this process being killed (it is in the server); the server flushes
 * its WAL on its own within a few hundred milliseconds. Under `durability: 'power'` (group
 * commit), a step is also made durable on disk by the next durable commit from any session
 * (`sync()`, a durable step, a final result, an approval decision: `synchronous_commit = on` for
 * that transaction), which flushes the WAL up to itself and so every commit before it. Under
 * `process` (the default) no commit waits for the flush. A server crash loses at most the
 * asynchronous commits no flush has covered yet.
 *
 * The journal's parts share one pool (`journal-database.ts`), one file per concern:
 * `run-journal.ts`, `step-journal.ts`, `approval-journal.ts`, `spend-ledger.ts`,
 * `artifact-journal.ts`, `feedback-journal.ts`, `console-session-journal.ts`.
 *
 * Leases use the database's clock, so machines with skewed clocks agree on who owns a run.
 * Claiming a run bumps its `lease_epoch`; a step commits only while the run's row still names
 * this executor at the epoch it claimed, checked under a row lock in the committing statement.
 * A worker paused past its lease and resumed after another took the run over thus cannot
 * commit, whatever the timing.
 *
 * A dropped connection or a restarting server is retried (every operation is idempotent or
 * checks its own earlier attempt) for up to `reconnectTimeoutMs`, then fails with one line. When
 * the server restarted, the steps this process committed since its last durable commit are
 * checked before a run writes again: a server crash may have lost them, and then the run stops
 * with a `JournalError` and resumes from what the journal kept, rather than run ahead of it.
 */
import type { Engine } from '../engine.js';
import { createApprovalJournal } from './approval-journal.js';
import { createArtifactJournal } from './artifact-journal.js';
import { createConsoleSessionJournal } from './console-session-journal.js';
import { createFeedbackJournal } from './feedback-journal.js';
import { openJournalDatabase, type PostgresEngineOptions } from './journal-database.js';
import { createRunJournal } from './run-journal.js';
import { createSpendLedger } from './spend-ledger.js';
import { createStepJournal } from './step-journal.js';

export type { PostgresEngineOptions } from './journal-database.js';

export function openPostgresEngine(options: PostgresEngineOptions): Engine {
  const database = openJournalDatabase(options);
  const runs = createRunJournal(database);
  return {
    ...runs.journal,
    ...createStepJournal(database),
    ...createApprovalJournal(database),
    ...createSpendLedger(database),
    ...createArtifactJournal(database),
    ...createFeedbackJournal(database),
    ...createConsoleSessionJournal(database),
    async close() {
      if (database.closed) return;
      await runs.release();
      await database.end();
    },
  };
}
