/**
 * Vitest global setup, for every suite: the PostgreSQL databases a run creates for its tests
 * (`createTestDatabase` in `src/engine/postgres/__fixtures__/test-database.ts`, on the server
 * `HATARAKU_TEST_DATABASE_URL` names) carry this run's id in their names, and are dropped when the
 * run ends. Another run against the same server keeps its own, since their ids differ.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const runIdVariable = 'HATARAKU_TEST_RUN_ID';

export default function setup(): () => void {
  const previous = process.env[runIdVariable];
  const runId = randomBytes(4).toString('hex');
  process.env[runIdVariable] = runId;
  return () => {
    if (previous === undefined) delete process.env[runIdVariable];
    else process.env[runIdVariable] = previous;
    const server = process.env.HATARAKU_TEST_DATABASE_URL;
    if (!server) return;
    try {
      const psql = (sql: string) =>
        execFileSync('psql', [server, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      const names = psql(`SELECT datname FROM pg_database WHERE datname LIKE 'hataraku\\_test\\_${runId}\\_%'`)
        .split('\n')
        .filter((name) => /^[a-z0-9_]+$/.test(name));
      for (const name of names) psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } catch (error) {
      // Never fails the run: what is left is only disk space on the test server.
      console.warn(`could not drop this run's test databases: ${String(error)}`);
    }
  };
}
