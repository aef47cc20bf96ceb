/** Outcome feedback on runs, on PostgreSQL: one row per run, the last word replaces the earlier one. */
import type { FeedbackJournal } from '../engine.js';
import { type FeedbackRow, feedbackFromRow } from '../feedback-row.js';
import type { PostgresJournalDatabase } from './journal-database.js';

export function createFeedbackJournal(database: PostgresJournalDatabase): FeedbackJournal {
  const { pool, operation, transaction, now } = database;
  return {
    recordFeedback(runId, feedback) {
      // Durable like an approval decision: under `power`, its commit flushes the WAL.
      return operation('recording feedback', () =>
        transaction(async (client) => {
          // Inserting from the run's row: no row is written for a run that does not exist.
          const result = await client.query<FeedbackRow>(
            `INSERT INTO feedback (run_id, solved, note, actor, at)
           SELECT id, $2, $3, $4, $5 FROM runs WHERE id = $1
           ON CONFLICT (run_id) DO UPDATE SET solved = excluded.solved, note = excluded.note, actor = excluded.actor,
             at = excluded.at
           RETURNING *`,
            [runId, feedback.solved, feedback.note ?? null, feedback.actor, now()],
          );
          const row = result.rows[0];
          return row === undefined ? undefined : feedbackFromRow(row);
        }, true),
      );
    },
    getFeedback(runId) {
      return operation('reading feedback', async () => {
        const row = (await pool.query<FeedbackRow>('SELECT * FROM feedback WHERE run_id = $1', [runId])).rows[0];
        return row === undefined ? undefined : feedbackFromRow(row);
      });
    },
    listFeedback(query = {}) {
      const since = query.since ?? 0;
      if (query.newest !== undefined) {
        const { limit, before } = query.newest;
        return operation('listing feedback', async () =>
          (
            await pool.query<FeedbackRow>(
              `SELECT * FROM feedback WHERE at >= $1
                 AND ($2::bigint IS NULL OR at < $2::bigint OR (at = $2::bigint AND run_id < $3::text))
               ORDER BY at DESC, run_id DESC LIMIT $4`,
              [since, before?.at ?? null, before?.runId ?? null, limit],
            )
          ).rows.map(feedbackFromRow),
        );
      }
      return operation('listing feedback', async () =>
        (await pool.query<FeedbackRow>('SELECT * FROM feedback WHERE at >= $1 ORDER BY at, run_id', [since])).rows.map(
          feedbackFromRow,
        ),
      );
    },
  };
}
