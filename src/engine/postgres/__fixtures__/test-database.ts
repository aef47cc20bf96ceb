/**
 * PostgreSQL for tests: `HATARAKU_TEST_DATABASE_URL` names a server and a database the tests may
 * create databases from (CI starts one: see .ci/run). Each test gets a database of its own, so
 * tests run in parallel and leave nothing shared behind; the run drops them at its end
 * (`vitest.test-databases.ts`). Without the variable, the Postgres
 * cases are skipped and say so.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';

export const testDatabaseUrl: string | undefined = process.env.HATARAKU_TEST_DATABASE_URL || undefined;

export const postgresSkipReason =
  'PostgreSQL cases skipped: set HATARAKU_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run them';

/** A URL naming the same server as `base`, database `name`. */
export function withDatabase(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Run SQL on the test server with psql (synchronously: the fault fixtures read journals this way). */
export function psql(url: string, sql: string): string {
  return execFileSync('psql', [url, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Create an empty database for one test and return its URL. */
export function createTestDatabase(label: string): string {
  if (!testDatabaseUrl) throw new Error(postgresSkipReason);
  // The run's id (set by `vitest.test-databases.ts`, which drops the run's databases at its end).
  const runId = (process.env.HATARAKU_TEST_RUN_ID ?? 'adhoc').replace(/[^a-z0-9]/gi, '').slice(0, 8);
  const name = `hataraku_test_${runId}_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomUUID().slice(0, 8)}`;
  psql(testDatabaseUrl, `CREATE DATABASE ${name}`);
  return withDatabase(testDatabaseUrl, name);
}
