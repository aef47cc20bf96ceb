/** The stored shape of a `console_sessions` row, shared by the SQLite and PostgreSQL journals. */
import type { ConsoleSessionRecord } from './engine.js';

export interface ConsoleSessionRow {
  token_sha256: string;
  csrf_sha256: string;
  key_id: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  expires_at: number;
}

export function consoleSessionFromRow(row: ConsoleSessionRow): ConsoleSessionRecord {
  return {
    tokenSha256: row.token_sha256,
    csrfSha256: row.csrf_sha256,
    keyId: row.key_id,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    idleExpiresAt: Number(row.idle_expires_at),
    expiresAt: Number(row.expires_at),
  };
}

export function consoleSessionToRow(session: ConsoleSessionRecord): ConsoleSessionRow {
  return {
    token_sha256: session.tokenSha256,
    csrf_sha256: session.csrfSha256,
    key_id: session.keyId,
    created_at: session.createdAt,
    last_seen_at: session.lastSeenAt,
    idle_expires_at: Math.min(session.idleExpiresAt, session.expiresAt),
    expires_at: session.expiresAt,
  };
}
