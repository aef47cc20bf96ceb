/**
 * Console sessions kept in the journal, on every journal: the embedded SQLite engine always, and
 * the PostgreSQL engine when `HATARAKU_TEST_DATABASE_URL` names a server. Two stores over two
 * engines on one journal stand for two servers: a session opened on one works on the other. The
 * journal holds only hashes and the key's id; the idle and absolute expiries, sign-out (with the
 * CSRF token), revocation of the key and purging all end sessions. A version 3 SQLite journal
 * gains the table when opened.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/engine.js';
import {
  createTestDatabase,
  postgresSkipReason,
  testDatabaseUrl,
} from '../../engine/postgres/__fixtures__/test-database.js';
import { openPostgresEngine } from '../../engine/postgres/postgres-engine.js';
import { openSqliteEngine } from '../../engine/sqlite/sqlite-engine.js';
import { openKeyStore } from '../keys/key-store.js';
import { createSessionStore, type SessionStore, sessionCookieName } from './session-store.js';

interface Journal {
  name: string;
  available: boolean;
  /** A new journal's location (a file, or a database URL). */
  create(): string;
  open(location: string): Engine;
}

const journals: Journal[] = [
  {
    name: 'sqlite',
    available: true,
    create: () => join(mkdtempSync(join(tmpdir(), 'hataraku-sessions-')), 'journal.db'),
    open: (path) => openSqliteEngine({ path, heartbeatMs: 0 }),
  },
  {
    name: 'postgres',
    available: testDatabaseUrl !== undefined,
    create: () => createTestDatabase('console_sessions'),
    open: (url) => openPostgresEngine({ url, heartbeatMs: 0 }),
  },
];

if (!testDatabaseUrl) {
  describe('postgres console sessions', () => {
    it.skip(postgresSkipReason, () => {});
  });
}

const hour = 3_600_000;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const cookieOf = (token: string) => `other=1; ${sessionCookieName}=${token}`;

describe.each(journals.filter((journal) => journal.available))('console sessions on the $name journal', (journal) => {
  const closing: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });

  /** Two "servers" (engine and session store each) on one journal, one key file, one clock. */
  function setUp() {
    const location = journal.create();
    const keys = openKeyStore({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-session-keys-')), 'keys.db') });
    closing.push(() => keys.close());
    const clock = { now: 1_000_000 };
    const server = (): { engine: Engine; sessions: SessionStore } => {
      const engine = journal.open(location);
      closing.push(() => engine.close());
      const sessions = createSessionStore({
        journal: engine,
        keys,
        idleMs: hour,
        lifetimeMs: 4 * hour,
        now: () => clock.now,
      });
      return { engine, sessions };
    };
    return { location, keys, clock, serverA: server(), serverB: server() };
  }

  it('opens a session on one server that another server on the journal honours, keeping only hashes', async () => {
    const { keys, serverA, serverB } = setUp();
    const { key, secret } = keys.create({ name: 'ops', tenant: 'acme' });
    const opened = await serverA.sessions.open(key);
    expect(opened.maxAgeSeconds).toBe(4 * 3600);

    const onB = await serverB.sessions.current(cookieOf(opened.token));
    expect(onB).toMatchObject({ status: 'live', key: { id: key.id, name: 'ops', tenant: 'acme' } });
    const onA = await serverA.sessions.current(cookieOf(opened.token));
    expect(onA?.status === 'live' && onB?.status === 'live' && onA.csrfToken === onB.csrfToken).toBe(true);
    const csrfToken = onB?.status === 'live' ? onB.csrfToken : '';

    const stored = await serverB.engine.getConsoleSession(sha256(opened.token));
    expect(stored).toMatchObject({ keyId: key.id, csrfSha256: sha256(csrfToken) });
    const storedText = JSON.stringify(stored);
    for (const secretValue of [opened.token, csrfToken, secret]) expect(storedText).not.toContain(secretValue);

    const lookup = await serverB.sessions.find(cookieOf(opened.token));
    expect(lookup?.key?.id).toBe(key.id);
    expect(lookup?.csrfMatches(csrfToken)).toBe(true);
    expect(lookup?.csrfMatches(`${csrfToken}x`)).toBe(false);
    expect(lookup?.csrfMatches(undefined)).toBe(false);

    // Not a session: no cookie, a made-up token, a token of the wrong shape.
    expect(await serverB.sessions.current(undefined)).toBeUndefined();
    expect(await serverB.sessions.current(cookieOf('A'.repeat(43)))).toBeUndefined();
    expect(await serverB.sessions.current(cookieOf(`${opened.token}x`))).toBeUndefined();
  });

  it('signs out on any server with the CSRF token only, deleting the session', async () => {
    const { keys, serverA, serverB } = setUp();
    const { key } = keys.create({ name: 'ops', tenant: 'acme' });
    const { token } = await serverA.sessions.open(key);
    const state = await serverA.sessions.current(cookieOf(token));
    const csrfToken = state?.status === 'live' ? state.csrfToken : '';
    expect(await serverB.sessions.close(cookieOf(token), undefined)).toBe(false);
    expect(await serverB.sessions.close(cookieOf(token), 'not-the-token')).toBe(false);
    expect((await serverA.sessions.current(cookieOf(token)))?.status).toBe('live');
    expect(await serverB.sessions.close(cookieOf(token), csrfToken)).toBe(true);
    expect(await serverA.sessions.current(cookieOf(token))).toBeUndefined();
    expect(await serverA.engine.getConsoleSession(sha256(token))).toBeUndefined();
  });

  it('ends every session of a revoked key at the next request, and deletes them', async () => {
    const { keys, serverA, serverB } = setUp();
    const { key } = keys.create({ name: 'ops', tenant: 'acme' });
    const { key: other } = keys.create({ name: 'other', tenant: 'acme' });
    const first = await serverA.sessions.open(key);
    const second = await serverB.sessions.open(key);
    const unrelated = await serverA.sessions.open(other);
    expect(keys.revoke('ops')).toBe(true);

    expect(await serverB.sessions.current(cookieOf(first.token))).toEqual({ status: 'revoked' });
    const lookup = await serverA.sessions.find(cookieOf(second.token));
    // Already deleted with the first: the key's sessions went together.
    expect(lookup).toBeUndefined();
    expect(await serverA.engine.getConsoleSession(sha256(first.token))).toBeUndefined();
    expect(await serverA.engine.getConsoleSession(sha256(second.token))).toBeUndefined();
    expect((await serverB.sessions.current(cookieOf(unrelated.token)))?.status).toBe('live');
  });

  it('refuses, without ending it, a session whose key this server does not know (another key file)', async () => {
    const { location, keys, clock, serverA } = setUp();
    const { key } = keys.create({ name: 'ops', tenant: 'acme' });
    const { token } = await serverA.sessions.open(key);
    const elsewhere = openKeyStore({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-session-keys-')), 'keys.db') });
    closing.push(() => elsewhere.close());
    const engine = journal.open(location);
    closing.push(() => engine.close());
    const serverC = createSessionStore({ journal: engine, keys: elsewhere, now: () => clock.now });
    expect(await serverC.current(cookieOf(token))).toBeUndefined();
    expect(await serverC.find(cookieOf(token))).toBeUndefined();
    expect((await serverA.sessions.current(cookieOf(token)))?.status).toBe('live');
  });

  it('refuses a session idle for longer than the idle time, and any session past its lifetime', async () => {
    const { keys, clock, serverA, serverB } = setUp();
    const { key } = keys.create({ name: 'ops', tenant: 'acme' });
    const idle = await serverA.sessions.open(key);
    const busy = await serverA.sessions.open(key);

    // Used every 50 minutes, the busy session outlives the idle hour; the idle one does not.
    for (let use = 1; use <= 4; use++) {
      clock.now += 50 * 60_000;
      expect((await serverB.sessions.current(cookieOf(busy.token)))?.status, `use ${use}`).toBe('live');
    }
    expect(await serverA.sessions.current(cookieOf(idle.token))).toBeUndefined();
    expect(await serverA.engine.getConsoleSession(sha256(idle.token))).toBeUndefined();

    // 200 minutes in: still within the 4 hours; at 4 hours it ends, however busy.
    clock.now += 39 * 60_000;
    expect((await serverA.sessions.current(cookieOf(busy.token)))?.status).toBe('live');
    clock.now += 60_000;
    expect(await serverA.sessions.current(cookieOf(busy.token))).toBeUndefined();
    expect(await serverB.sessions.find(cookieOf(busy.token))).toBeUndefined();
  });

  it('purges expired sessions and keeps live ones', async () => {
    const { keys, clock, serverA, serverB } = setUp();
    const { key } = keys.create({ name: 'ops', tenant: 'acme' });
    const old = await serverA.sessions.open(key);
    clock.now += 30 * 60_000;
    const recent = await serverA.sessions.open(key);
    clock.now += 31 * 60_000;
    expect(await serverB.sessions.purgeExpired()).toBe(1);
    expect(await serverA.engine.getConsoleSession(sha256(old.token))).toBeUndefined();
    expect(await serverA.engine.getConsoleSession(sha256(recent.token))).toMatchObject({ keyId: key.id });
    expect(await serverB.sessions.purgeExpired()).toBe(0);
  });
});

describe('sqlite journal upgrade', () => {
  it('adds the console_sessions table to a version 3 journal when it is opened', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hataraku-sessions-')), 'journal.db');
    await openSqliteEngine({ path, heartbeatMs: 0 }).close();
    // Make it what version 3 wrote: no console_sessions table, version 3 in meta.
    const raw = new Database(path);
    raw.exec("DROP TABLE console_sessions; UPDATE meta SET value = '3' WHERE key = 'schema_version';");
    raw.close();

    const upgraded = openSqliteEngine({ path, heartbeatMs: 0 });
    try {
      const session = {
        tokenSha256: 'a'.repeat(64),
        csrfSha256: 'b'.repeat(64),
        keyId: 'key',
        createdAt: 1,
        lastSeenAt: 1,
        idleExpiresAt: 2,
        expiresAt: 3,
      };
      await upgraded.createConsoleSession(session);
      expect(await upgraded.getConsoleSession(session.tokenSha256)).toEqual(session);
    } finally {
      await upgraded.close();
    }
    const check = new Database(path, { readonly: true });
    try {
      expect(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: '4' });
    } finally {
      check.close();
    }
  });
});
