/**
 * Console sessions on SQLite, over the journal's own connection. Writes are plain commits (they
 * survive the process being killed); a session lost to a power cut only means signing in again,
 * so none waits for an fsync.
 */
import { type ConsoleSessionRow, consoleSessionFromRow, consoleSessionToRow } from '../console-session-row.js';
import type { ConsoleSessionJournal } from '../engine.js';
import type { JournalDatabase } from './journal-database.js';

export function createConsoleSessionJournal(database: JournalDatabase): ConsoleSessionJournal {
  const { db, guard } = database;
  const statements = {
    insert: db.prepare<ConsoleSessionRow>(
      `INSERT INTO console_sessions (token_sha256, csrf_sha256, key_id, created_at, last_seen_at, idle_expires_at,
         expires_at)
       VALUES (@token_sha256, @csrf_sha256, @key_id, @created_at, @last_seen_at, @idle_expires_at, @expires_at)`,
    ),
    get: db.prepare<[string], ConsoleSessionRow>('SELECT * FROM console_sessions WHERE token_sha256 = ?'),
    touch: db.prepare<[number, number, string]>(
      `UPDATE console_sessions SET last_seen_at = ?, idle_expires_at = MIN(?, expires_at)
       WHERE token_sha256 = ?`,
    ),
    delete: db.prepare<[string]>('DELETE FROM console_sessions WHERE token_sha256 = ?'),
    deleteOfKey: db.prepare<[string]>('DELETE FROM console_sessions WHERE key_id = ?'),
    // idle_expires_at is never after expires_at, so one indexed bound covers both expiries.
    purge: db.prepare<[number]>('DELETE FROM console_sessions WHERE idle_expires_at <= ?'),
  };
  return {
    createConsoleSession(session) {
      return guard('opening a console session', () => {
        statements.insert.run(consoleSessionToRow(session));
      });
    },
    getConsoleSession(tokenSha256) {
      return guard('reading a console session', () => {
        const row = statements.get.get(tokenSha256);
        return row === undefined ? undefined : consoleSessionFromRow(row);
      });
    },
    touchConsoleSession(tokenSha256, seen) {
      return guard('renewing a console session', () => {
        statements.touch.run(seen.lastSeenAt, seen.idleExpiresAt, tokenSha256);
      });
    },
    deleteConsoleSession(tokenSha256) {
      return guard('closing a console session', () => statements.delete.run(tokenSha256).changes > 0);
    },
    deleteConsoleSessionsOfKey(keyId) {
      return guard("closing a key's console sessions", () => statements.deleteOfKey.run(keyId).changes);
    },
    purgeConsoleSessions(now) {
      return guard('purging expired console sessions', () => statements.purge.run(now).changes);
    },
  };
}
