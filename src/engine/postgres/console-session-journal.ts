/**
 * Console sessions on PostgreSQL, shared by every server on the journal. Writes commit
 * asynchronously like the pool's other sessions: a session lost to a database crash only means
 * signing in again.
 */
import { type ConsoleSessionRow, consoleSessionFromRow, consoleSessionToRow } from '../console-session-row.js';
import type { ConsoleSessionJournal } from '../engine.js';
import type { PostgresJournalDatabase } from './journal-database.js';

export function createConsoleSessionJournal(database: PostgresJournalDatabase): ConsoleSessionJournal {
  const { pool, operation } = database;
  return {
    createConsoleSession(session) {
      const row = consoleSessionToRow(session);
      return operation('opening a console session', async () => {
        // A retry after a commit whose answer was lost finds its own row: nothing to do.
        await pool.query(
          `INSERT INTO console_sessions (token_sha256, csrf_sha256, key_id, created_at, last_seen_at, idle_expires_at,
             expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (token_sha256) DO NOTHING`,
          [
            row.token_sha256,
            row.csrf_sha256,
            row.key_id,
            row.created_at,
            row.last_seen_at,
            row.idle_expires_at,
            row.expires_at,
          ],
        );
      });
    },
    getConsoleSession(tokenSha256) {
      return operation('reading a console session', async () => {
        const row = (
          await pool.query<ConsoleSessionRow>('SELECT * FROM console_sessions WHERE token_sha256 = $1', [tokenSha256])
        ).rows[0];
        return row === undefined ? undefined : consoleSessionFromRow(row);
      });
    },
    touchConsoleSession(tokenSha256, seen) {
      return operation('renewing a console session', async () => {
        await pool.query(
          `UPDATE console_sessions SET last_seen_at = $1, idle_expires_at = LEAST($2, expires_at)
           WHERE token_sha256 = $3`,
          [seen.lastSeenAt, seen.idleExpiresAt, tokenSha256],
        );
      });
    },
    deleteConsoleSession(tokenSha256) {
      return operation(
        'closing a console session',
        async () =>
          ((await pool.query('DELETE FROM console_sessions WHERE token_sha256 = $1', [tokenSha256])).rowCount ?? 0) > 0,
      );
    },
    deleteConsoleSessionsOfKey(keyId) {
      return operation(
        "closing a key's console sessions",
        async () => (await pool.query('DELETE FROM console_sessions WHERE key_id = $1', [keyId])).rowCount ?? 0,
      );
    },
    purgeConsoleSessions(now) {
      // idle_expires_at is never after expires_at, so one indexed bound covers both expiries.
      return operation(
        'purging expired console sessions',
        async () => (await pool.query('DELETE FROM console_sessions WHERE idle_expires_at <= $1', [now])).rowCount ?? 0,
      );
    },
  };
}
