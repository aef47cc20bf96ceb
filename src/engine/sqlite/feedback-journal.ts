/** Outcome feedback on runs, on SQLite: one row per run, the last word replaces the earlier one. */
import type { FeedbackJournal } from '../engine.js';
import { type FeedbackRow, feedbackFromRow } from '../feedback-row.js';
import type { JournalDatabase } from './journal-database.js';

export function createFeedbackJournal(database: JournalDatabase): FeedbackJournal {
  const { db, guard, now } = database;
  const statements = {
    runExists: db.prepare<[string], { id: string }>('SELECT id FROM runs WHERE id = ?'),
    upsert: db.prepare<FeedbackRow>(
      `INSERT INTO feedback (run_id, solved, note, actor, at) VALUES (@run_id, @solved, @note, @actor, @at)
       ON CONFLICT (run_id) DO UPDATE SET solved = excluded.solved, note = excluded.note, actor = excluded.actor,
         at = excluded.at`,
    ),
    get: db.prepare<[string], FeedbackRow>('SELECT * FROM feedback WHERE run_id = ?'),
    listSince: db.prepare<[number], FeedbackRow>('SELECT * FROM feedback WHERE at >= ? ORDER BY at, run_id'),
    newestPage: db.prepare<
      { since: number; before_at: number | null; before_run: string | null; limit: number },
      FeedbackRow
    >(
      `SELECT * FROM feedback WHERE at >= @since
         AND (@before_at IS NULL OR at < @before_at OR (at = @before_at AND run_id < @before_run))
       ORDER BY at DESC, run_id DESC LIMIT @limit`,
    ),
  };
  return {
    recordFeedback(runId, feedback) {
      return guard('recording feedback', () =>
        database.durably(() => {
          if (!statements.runExists.get(runId)) return undefined;
          const row: FeedbackRow = {
            run_id: runId,
            solved: feedback.solved ? 1 : 0,
            note: feedback.note ?? null,
            actor: feedback.actor,
            at: now(),
          };
          statements.upsert.run(row);
          return feedbackFromRow(row);
        }),
      );
    },
    getFeedback(runId) {
      return guard('reading feedback', () => {
        const row = statements.get.get(runId);
        return row === undefined ? undefined : feedbackFromRow(row);
      });
    },
    listFeedback(query = {}) {
      return guard('listing feedback', () => {
        const since = query.since ?? 0;
        if (query.newest === undefined) return statements.listSince.all(since).map(feedbackFromRow);
        const { limit, before } = query.newest;
        return statements.newestPage
          .all({ since, before_at: before?.at ?? null, before_run: before?.runId ?? null, limit })
          .map(feedbackFromRow);
      });
    },
  };
}
