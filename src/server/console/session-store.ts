/**
 * Console sessions, kept in the journal (`console_sessions`), so that they outlive a server
 * restart and every server on one journal (several `hataraku serve` behind a load balancer)
 * shares them.
 *
 * The browser holds an opaque random token in an http-only, SameSite=Strict, Secure cookie. The
 * journal holds neither that token nor the API key: only the token's SHA-256, the SHA-256 of the
 * session's CSRF token, and the key's public id. Each request checks the key again by that id,
 * so revoking the key ends its sessions at once (and deletes them). A session ends after
 * `idleMs` without a request (default 12 hours), `lifetimeMs` after sign-in however busy
 * (default 24 hours), or on sign-out (its row is deleted); expired rows are purged.
 *
 * The CSRF token is derived from the session token (an HMAC keyed by it), so any server can
 * render it into the page from the cookie alone; the journal keeps only its hash to check it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleSessionJournal } from '../../engine/engine.js';
import type { SessionLookup } from '../auth.js';
import type { ApiKey, KeyStore } from '../keys/key-store.js';

export const sessionCookieName = 'hataraku_session';

/** How long sessions last. */
export interface SessionLifetimes {
  /** A session unused for this long ends (ms; default 12 hours). */
  idleMs?: number;
  /** A session ends this long after sign-in, however much it is used (ms; default 24 hours). */
  lifetimeMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** What a request's session cookie stands for. */
export type SessionState =
  /** A live session: the key it acts as (active right now) and its CSRF token, for the page. */
  | { status: 'live'; key: ApiKey; csrfToken: string }
  /** The session's key was revoked: the session (and every other of that key) is gone. */
  | { status: 'revoked' };

export interface SessionStore extends SessionLookup {
  /** Open a session for a key the caller has just verified: the cookie's value and its lifetime. */
  open(key: ApiKey): Promise<{ token: string; maxAgeSeconds: number }>;
  /** The session a request's cookie names; undefined without one, or when it expired. */
  current(cookieHeader: string | undefined): Promise<SessionState | undefined>;
  /** Sign out: delete the session, if `csrfToken` is its CSRF token; whether one was deleted. */
  close(cookieHeader: string | undefined, csrfToken: string | undefined): Promise<boolean>;
  /** Delete expired sessions; resolves with how many. */
  purgeExpired(): Promise<number>;
}

/** A use renews a session's idle expiry in the journal at most this often (ms). */
const renewEveryMs = 60_000;
/** What `open` hands out: 32 random bytes, base64url. Anything else is not looked up. */
const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

export function createSessionStore(
  init: { journal: ConsoleSessionJournal; keys: KeyStore } & SessionLifetimes,
): SessionStore {
  const { journal, keys } = init;
  const idleMs = init.idleMs ?? 12 * 3_600_000;
  const lifetimeMs = init.lifetimeMs ?? 24 * 3_600_000;
  if (!(idleMs > 0) || !(lifetimeMs > 0)) {
    throw new RangeError('createSessionStore: `idleMs` and `lifetimeMs` must be positive');
  }
  const now = init.now ?? Date.now;

  /** The live session row of a cookie, with the key it acts as, or why there is none. */
  async function lookUp(cookieHeader: string | undefined) {
    const token = readCookie(cookieHeader, sessionCookieName);
    if (token === undefined || !tokenPattern.test(token)) return undefined;
    const tokenSha256 = sha256(token);
    const session = await journal.getConsoleSession(tokenSha256);
    if (!session) return undefined;
    const time = now();
    if (session.idleExpiresAt <= time || session.expiresAt <= time) {
      await journal.deleteConsoleSession(tokenSha256);
      return undefined;
    }
    const key = keys.findById(session.keyId);
    // A key this server does not know (its key file is not the one the session's server had)
    // is refused here, but the session is left alone: it is not this server's to end.
    if (!key) return undefined;
    if (key.revokedAt !== undefined) {
      await journal.deleteConsoleSessionsOfKey(session.keyId);
      return { token, session, key: undefined };
    }
    // Renewed at most once a minute: a session used all day writes to the journal ~once a minute.
    if (time - session.lastSeenAt >= Math.min(renewEveryMs, idleMs / 2)) {
      await journal.touchConsoleSession(tokenSha256, { lastSeenAt: time, idleExpiresAt: time + idleMs });
    }
    return { token, session, key };
  }

  const csrfMatches = (expectedSha256: string, given: string | undefined) => {
    if (given === undefined) return false;
    const expected = Buffer.from(expectedSha256, 'hex');
    const actual = createHash('sha256').update(given).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  };

  return {
    async open(key) {
      const token = randomBytes(32).toString('base64url');
      const time = now();
      await journal.createConsoleSession({
        tokenSha256: sha256(token),
        csrfSha256: sha256(csrfTokenOf(token)),
        keyId: key.id,
        createdAt: time,
        lastSeenAt: time,
        idleExpiresAt: Math.min(time + idleMs, time + lifetimeMs),
        expiresAt: time + lifetimeMs,
      });
      return { token, maxAgeSeconds: Math.floor(lifetimeMs / 1000) };
    },
    async current(cookieHeader) {
      const found = await lookUp(cookieHeader);
      if (!found) return undefined;
      if (!found.key) return { status: 'revoked' };
      return { status: 'live', key: found.key, csrfToken: csrfTokenOf(found.token) };
    },
    async find(cookieHeader) {
      const found = await lookUp(cookieHeader);
      if (!found) return undefined;
      const { csrfSha256 } = found.session;
      return { key: found.key, csrfMatches: (given) => csrfMatches(csrfSha256, given) };
    },
    async close(cookieHeader, csrfToken) {
      const token = readCookie(cookieHeader, sessionCookieName);
      if (token === undefined || !tokenPattern.test(token)) return false;
      const tokenSha256 = sha256(token);
      const session = await journal.getConsoleSession(tokenSha256);
      if (!session || !csrfMatches(session.csrfSha256, csrfToken)) return false;
      return journal.deleteConsoleSession(tokenSha256);
    },
    purgeExpired: () => journal.purgeConsoleSessions(now()),
  };
}

/** The CSRF token of a session: derived from its token, so that any server can show it. */
function csrfTokenOf(token: string): string {
  return createHmac('sha256', token).update('hataraku console csrf').digest('base64url');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [rawName, ...rest] = part.split('=');
    if (rawName?.trim() === name) return rest.join('=').trim();
  }
  return undefined;
}
