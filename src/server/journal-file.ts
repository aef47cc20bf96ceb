/**
 * The connection a server table (API keys, the run event log) is kept over: the SQLite journal's
 * own, when the caller has it (see `sqliteConnectionOf`), or one of the table's own to the
 * journal's file, made in WAL mode like the journal's.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** Where a server table lives: the journal's file, or an open connection to it that someone else owns. */
export type JournalFile = { path: string } | { connection: Database.Database };

/** The connection, and whether the table's store owns it (and so closes it). */
export function connectJournalFile(file: JournalFile): { database: Database.Database; owned: boolean } {
  if ('connection' in file) return { database: file.connection, owned: false };
  if (file.path !== ':memory:') mkdirSync(dirname(file.path), { recursive: true });
  const database = new Database(file.path, { timeout: 10_000 });
  database.pragma('journal_mode = WAL');
  return { database, owned: true };
}
