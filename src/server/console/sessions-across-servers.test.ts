/**
 * Console sessions across real `hataraku serve` processes on one journal: signed in on server A,
 * the session works on server B (two processes, one SQLite file; one PostgreSQL database when
 * `HATARAKU_TEST_DATABASE_URL` is set), and on A again after A was killed and started anew.
 * `hataraku keys revoke` ends the session at once on every server; sign-out on one server ends
 * it on the others.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtCli, type ServeProcess, startServeProcess } from '../../cli/__fixtures__/serve-process.js';
import {
  createTestDatabase,
  postgresSkipReason,
  testDatabaseUrl,
} from '../../engine/postgres/__fixtures__/test-database.js';

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

interface Journal {
  name: string;
  available: boolean;
  /** Environment of every process: where the journal is. */
  env(): Record<string, string>;
}

const journals: Journal[] = [
  { name: 'sqlite', available: true, env: () => ({}) },
  {
    name: 'postgres',
    available: testDatabaseUrl !== undefined,
    env: () => ({ HATARAKU_DATABASE_URL: createTestDatabase('console_serve') }),
  },
];

if (!testDatabaseUrl) {
  describe('console sessions across PostgreSQL servers', () => {
    it.skip(postgresSkipReason, () => {});
  });
}

function hataraku(cwd: string, env: Record<string, string>, ...args: string[]) {
  return spawnSync(process.execPath, [builtCli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
}

async function startServe(cwd: string, env: Record<string, string>): Promise<ServeProcess> {
  const serve = await startServeProcess(cwd, { env });
  children.push(serve.child);
  return serve;
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Sign in on a server with a key; returns the cookie to send back (`hataraku_session=…`). */
async function signIn(url: string, key: string): Promise<string> {
  const response = await fetch(`${url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
    body: new URLSearchParams({ key }).toString(),
  });
  expect(response.status).toBe(303);
  const setCookie = response.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(/^hataraku_session=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict; Max-Age=86400/);
  return setCookie.split(';')[0] ?? '';
}

/** The console page a session gets: who is signed in and the CSRF token, or the sign-in form. */
async function consolePage(url: string, cookie: string): Promise<{ signedIn: boolean; csrf: string; html: string }> {
  const html = await (await fetch(`${url}/`, { headers: { cookie } })).text();
  const csrf = /data-csrf="([\w-]+)"/.exec(html)?.[1] ?? '';
  return { signedIn: csrf !== '', csrf, html };
}

const runsStatus = async (url: string, cookie: string) => (await fetch(`${url}/runs`, { headers: { cookie } })).status;

describe.each(journals.filter((journal) => journal.available))(
  'console sessions across `hataraku serve` processes on one $name journal',
  (journal) => {
    it('work on every server and after a restart, and end on revocation and sign-out everywhere', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'hataraku-console-servers-'));
      writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify({}));
      const env = journal.env();
      const created = hataraku(cwd, env, 'keys', 'create', 'ops-bot', '--tenant', 'acme', '--json');
      expect(created.stderr).toBe('');
      const { secret } = JSON.parse(created.stdout) as { secret: string };
      const other = JSON.parse(
        hataraku(cwd, env, 'keys', 'create', 'night-shift', '--tenant', 'acme', '--json').stdout,
      ) as { secret: string };

      const [serverA, serverB] = await Promise.all([startServe(cwd, env), startServe(cwd, env)]);
      const cookie = await signIn(serverA.url, secret);

      // Server B honours the session A opened: the page, reads, and changes with the CSRF token.
      const onB = await consolePage(serverB.url, cookie);
      expect(onB.signedIn).toBe(true);
      expect(onB.html).toContain('ops-bot · tenant acme');
      expect(await runsStatus(serverB.url, cookie)).toBe(200);
      const cancel = (url: string, csrf?: string) =>
        fetch(`${url}/runs/run_missing/cancel`, {
          method: 'POST',
          headers: { cookie, ...(csrf !== undefined ? { 'x-csrf-token': csrf } : {}) },
        });
      expect((await cancel(serverB.url)).status).toBe(403);
      // Past authentication: the run does not exist.
      expect((await cancel(serverB.url, onB.csrf)).status).toBe(404);
      expect((await consolePage(serverA.url, cookie)).csrf).toBe(onB.csrf);

      // A is killed and started again on the same journal: the session still works there.
      await stop(serverA.child);
      const restarted = await startServe(cwd, env);
      expect(await runsStatus(restarted.url, cookie)).toBe(200);
      expect((await consolePage(restarted.url, cookie)).signedIn).toBe(true);
      expect((await cancel(restarted.url, onB.csrf)).status).toBe(404);

      // Revoking the key (another process, the CLI) ends the session on every server at once.
      expect(hataraku(cwd, env, 'keys', 'revoke', 'ops-bot').status).toBe(0);
      expect(await runsStatus(serverB.url, cookie)).toBe(401);
      expect(await runsStatus(restarted.url, cookie)).toBe(401);
      expect((await consolePage(restarted.url, cookie)).signedIn).toBe(false);

      // Signing out on one server ends the session on the others.
      const second = await signIn(serverB.url, other.secret);
      const { csrf } = await consolePage(restarted.url, second);
      expect(await runsStatus(restarted.url, second)).toBe(200);
      const signedOut = await fetch(`${restarted.url}/console/sign-out`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: second, 'content-type': 'application/x-www-form-urlencoded', origin: restarted.url },
        body: new URLSearchParams({ csrf }).toString(),
      });
      expect(signedOut.status).toBe(303);
      expect(signedOut.headers.get('set-cookie')).toMatch(/^hataraku_session=; .*Max-Age=0/);
      expect(await runsStatus(serverB.url, second)).toBe(401);
      expect((await consolePage(serverB.url, second)).signedIn).toBe(false);
    }, 120_000);
  },
);
