/**
 * API keys on a PostgreSQL journal, against a real database (`HATARAKU_TEST_DATABASE_URL`; each
 * test on a database of its own; skipped without it): a key made with `hataraku keys create`
 * works on two servers, one of them started before the key existed; revoked with `hataraku keys
 * revoke`, both refuse it (polled for, within the documented bound); a revocation that notifies
 * nobody (a plain UPDATE) is still seen, by the periodic comparison. Only the SHA-256 is stored.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/cli-context.js';
import { keysCreateCommand, keysListCommand, keysRevokeCommand } from '../../cli/commands/keys-command.js';
import {
  createTestDatabase,
  postgresSkipReason,
  psql,
  testDatabaseUrl,
} from '../../engine/postgres/__fixtures__/test-database.js';
import { createHataraku, type Hataraku } from '../../hataraku.js';
import { createServer, type HatarakuServer, startServer } from '../server.js';
import { openPostgresKeyAdmin, openPostgresKeyStore } from './postgres-key-store.js';

const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A project directory whose journal is the PostgreSQL database `url`. */
function project(url: string): { cwd: string; env: Record<string, string> } {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-pg-keys-'));
  writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify({}));
  return { cwd, env: { HATARAKU_DATABASE_URL: url } };
}

/** Run a `hataraku keys` command in process; its exit code and what it printed. */
async function cli(
  where: { cwd: string; env: Record<string, string> },
  command: (io: CliIo) => Promise<number>,
): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const io: CliIo = {
    cwd: where.cwd,
    env: where.env,
    stdout: {
      write: (text) => {
        stdout += text;
      },
    },
    stderr: { write: () => {} },
  };
  const code = await command(io);
  return { code, stdout };
}

/** A listening server on the project's journal (its own Hataraku, as another machine would have). */
async function serve(where: { cwd: string; env: Record<string, string> }): Promise<string> {
  const hataraku: Hataraku = createHataraku({ cwd: where.cwd, env: where.env });
  const server: HatarakuServer = createServer({ hataraku, recoverIntervalMs: 0, log: () => {} });
  const listening = await startServer(server, { host: '127.0.0.1', port: 0 });
  closers.push(async () => {
    await listening.close();
    await server.close();
    await hataraku.close();
  });
  return listening.url;
}

const status = async (url: string, secret: string) =>
  (await fetch(`${url}/runs`, { headers: { authorization: `Bearer ${secret}` } })).status;

/** Wait until `check` holds: a change reaches a server by notification, or at worst by the poll. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(await check()).toBe(true);
}

if (!testDatabaseUrl) {
  describe('API keys on a PostgreSQL journal', () => {
    it.skip(postgresSkipReason, () => {});
  });
} else {
  describe('API keys on a PostgreSQL journal', () => {
    it('are created and revoked with the CLI and honoured, then refused, by every server', async () => {
      const url = createTestDatabase('pg_keys');
      const where = project(url);
      // Server A runs before the key exists; it must see the key without a restart.
      const serverA = await serve(where);

      const created = await cli(where, (io) =>
        keysCreateCommand('ops-bot', { tenant: 'acme', budgetDay: '5', agents: 'support', json: true }, io),
      );
      expect(created.code).toBe(0);
      const { secret, id } = JSON.parse(created.stdout) as { secret: string; id: string };
      expect(secret).toMatch(/^hk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);

      // Only the hash is in the database.
      const stored = psql(url, `SELECT name || ' ' || tenant || ' ' || secret_sha256 FROM api_keys`);
      expect(stored).toMatch(/^ops-bot acme [0-9a-f]{64}\n$/);
      expect(psql(url, 'SELECT row_to_json(api_keys)::text FROM api_keys')).not.toContain(secret.slice(20));

      const serverB = await serve(where);
      await eventually(async () => (await status(serverA, secret)) === 200);
      expect(await status(serverB, secret)).toBe(200);
      expect(await status(serverB, `${secret.slice(0, -1)}x`)).toBe(401);

      const listed = await cli(where, (io) => keysListCommand({ json: true }, io));
      expect(
        listed.stdout
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { name: string }).name),
      ).toEqual(['ops-bot']);
      const duplicate = cli(where, (io) => keysCreateCommand('ops-bot', { tenant: 'acme' }, io));
      await expect(duplicate).rejects.toThrow(/already exists; choose another name/);

      expect((await cli(where, (io) => keysRevokeCommand(`hk_${id}`, {}, io))).code).toBe(0);
      await eventually(async () => (await status(serverA, secret)) === 401);
      await eventually(async () => (await status(serverB, secret)) === 401);
      await expect(cli(where, (io) => keysRevokeCommand('ops-bot', {}, io))).rejects.toThrow(/no active key named/);
    }, 60_000);

    it('sees a revocation that notified nobody, by the periodic comparison', async () => {
      const url = createTestDatabase('pg_keys_poll');
      const admin = openPostgresKeyAdmin({ url });
      closers.push(() => admin.close());
      const { key, secret } = await admin.create({ name: 'night-shift', tenant: 'acme' });
      const store = openPostgresKeyStore({ url, pollMs: 100 });
      closers.push(async () => store.close());
      await store.ready();
      expect(store.verify(secret)).toMatchObject({ name: 'night-shift', tenant: 'acme' });
      expect(store.findById(key.id)?.revokedAt).toBeUndefined();
      expect(() => store.revoke('night-shift')).toThrow(/hataraku keys create\|revoke/);

      // Written behind the admin's back: no NOTIFY, only the poll can find it.
      psql(url, `UPDATE api_keys SET revoked_at = 1 WHERE name = 'night-shift'`);
      await eventually(async () => store.verify(secret) === undefined);
      expect(store.findById(key.id)?.revokedAt).toBe(1);
    }, 60_000);

    it('refuses every key once the database has been out of reach longer than the stale bound', async () => {
      const url = createTestDatabase('pg_keys_stale');
      const admin = openPostgresKeyAdmin({ url });
      closers.push(() => admin.close());
      const { secret } = await admin.create({ name: 'ops', tenant: 'acme' });
      let clock = Date.now();
      // Polls never run here (an hour apart): the mirror ages with the clock alone.
      const store = openPostgresKeyStore({ url, pollMs: 3_600_000, staleAfterMs: 30_000, now: () => clock });
      closers.push(async () => store.close());
      await store.ready();
      expect(store.verify(secret)).toMatchObject({ name: 'ops' });
      clock += 30_001;
      expect(store.verify(secret)).toBeUndefined();
    }, 60_000);
  });
}
