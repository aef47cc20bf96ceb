/**
 * The server's record of run events, for live streams that can be resumed. Run events are not
 * part of the journal, so the server appends every event of the runs it executes to a
 * `run_events` table of the journal's SQLite file, with a sequence number per run (1, 2, 3…).
 * That number is the SSE event id: a client reconnecting with `Last-Event-ID: 7` gets events
 * 8 onwards, from the table and then live, also after the server restarted. The server forgets
 * the events of runs quiet for a week (`prune`); a run's outcome stays in the journal.
 */
import type { RunEvent } from '../agent/events.js';
import { connectJournalFile, type JournalFile } from './journal-file.js';

const eventsSchema = `
CREATE TABLE IF NOT EXISTS run_events (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
`;

export interface SequencedEvent {
  seq: number;
  event: RunEvent;
}

export interface EventLog {
  /** Append an event of its run; returns its sequence number. */
  append(event: RunEvent): number;
  /** Recorded events of a run after `afterSeq`, in order. */
  since(runId: string, afterSeq: number): SequencedEvent[];
  /** Be told of each event appended from now on for a run; returns the unsubscribe function. */
  subscribe(runId: string, listener: (event: SequencedEvent) => void): () => void;
  /** Forget the events of runs with no event since `before` (ms since epoch); returns how many. */
  prune(before: number): number;
  close(): void;
}

/**
 * Open the event table, creating it when missing: in the SQLite file at `path` (the journal's
 * file) over a connection of its own, or over `connection`, an open connection to that file
 * that someone else owns (the SQLite journal's: see `sqliteConnectionOf`), which `close` leaves
 * open.
 */
export function openEventLog(options: JournalFile & { now?: () => number }): EventLog {
  const now = options.now ?? Date.now;
  const { database, owned } = connectJournalFile(options);
  // The journal's own connection is already in WAL mode with synchronous=NORMAL.
  if (owned) database.pragma('synchronous = NORMAL');
  database.exec(eventsSchema);
  const insert = database.prepare('INSERT INTO run_events (run_id, seq, event, at) VALUES (?, ?, ?, ?)');
  const lastSeq = database.prepare('SELECT MAX(seq) AS seq FROM run_events WHERE run_id = ?');
  const after = database.prepare('SELECT seq, event FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq');
  // Whole runs only, so a run's numbering never restarts under a client that is following it.
  const olderThan = database.prepare(
    'DELETE FROM run_events WHERE run_id IN (SELECT run_id FROM run_events GROUP BY run_id HAVING MAX(at) < ?)',
  );
  const sequences = new Map<string, number>();
  const listeners = new Map<string, Set<(event: SequencedEvent) => void>>();

  return {
    append(event) {
      let seq = sequences.get(event.runId);
      if (seq === undefined) seq = (lastSeq.get(event.runId) as { seq: number | null }).seq ?? 0;
      seq += 1;
      sequences.set(event.runId, seq);
      insert.run(event.runId, seq, JSON.stringify(event), now());
      // A finished run's counter is not needed any more; a resumed run reads it back.
      if (event.type === 'run-end') sequences.delete(event.runId);
      for (const listener of listeners.get(event.runId) ?? []) listener({ seq, event });
      return seq;
    },
    since(runId, afterSeq) {
      return (after.all(runId, afterSeq) as Array<{ seq: number; event: string }>).map((row) => ({
        seq: row.seq,
        event: JSON.parse(row.event) as RunEvent,
      }));
    },
    subscribe(runId, listener) {
      let set = listeners.get(runId);
      if (!set) {
        set = new Set();
        listeners.set(runId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(runId);
      };
    },
    prune: (before) => olderThan.run(before).changes,
    close() {
      if (owned) database.close();
    },
  };
}
