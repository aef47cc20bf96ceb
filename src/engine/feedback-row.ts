/** The stored shape of a `feedback` row, shared by the SQLite and PostgreSQL journals. */
import type { RunFeedback } from './engine.js';

export interface FeedbackRow {
  run_id: string;
  /** SQLite stores 0 or 1, PostgreSQL a boolean. */
  solved: number | boolean;
  note: string | null;
  actor: string;
  at: number;
}

export function feedbackFromRow(row: FeedbackRow): RunFeedback {
  return {
    runId: row.run_id,
    solved: row.solved === true || row.solved === 1,
    note: row.note ?? undefined,
    actor: row.actor,
    at: Number(row.at),
  };
}
