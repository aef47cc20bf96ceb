/**
 * Console sessions, in this process's memory: an opaque random id (the cookie's value) maps to
 * the API key it was opened with and a CSRF token. The key never reaches the browser's storage;
 * the cookie is http-only, SameSite=Strict and Secure. Sessions end after `ttlMs` idle (default
 * 12 hours), on sign-out, and when the server restarts (sign in again).
 */
import { randomBytes } from 'node:crypto';
import type { SessionLookup } from '../auth.js';

export const sessionCookieName = 'hataraku_session';

export interface ConsoleSession {
  id: string;
  secret: string;
  csrfToken: string;
  expiresAt: number;
}

export interface SessionStore extends SessionLookup {
  open(secret: string): ConsoleSession;
  close(cookieHeader: string | undefined): void;
  /** The session of a request, if it has a live one (its expiry is pushed back). */
  current(cookieHeader: string | undefined): ConsoleSession | undefined;
}

export function createSessionStore(init: { ttlMs?: number } = {}): SessionStore {
  const ttlMs = init.ttlMs ?? 12 * 3_600_000;
  const sessions = new Map<string, ConsoleSession>();
  const current = (cookieHeader: string | undefined) => {
    const id = readCookie(cookieHeader, sessionCookieName);
    if (!id) return undefined;
    const session = sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt < Date.now()) {
      sessions.delete(id);
      return undefined;
    }
    session.expiresAt = Date.now() + ttlMs;
    return session;
  };
  return {
    open(secret) {
      if (sessions.size > 10_000) {
        for (const [id, session] of sessions) if (session.expiresAt < Date.now()) sessions.delete(id);
      }
      const session = {
        id: randomBytes(32).toString('base64url'),
        secret,
        csrfToken: randomBytes(32).toString('base64url'),
        expiresAt: Date.now() + ttlMs,
      };
      sessions.set(session.id, session);
      return session;
    },
    close(cookieHeader) {
      const id = readCookie(cookieHeader, sessionCookieName);
      if (id) sessions.delete(id);
    },
    current,
    find: (cookieHeader) => current(cookieHeader),
  };
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [rawName, ...rest] = part.split('=');
    if (rawName?.trim() === name) return rest.join('=').trim();
  }
  return undefined;
}
