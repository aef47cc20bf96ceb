/**
 * `hataraku worker` taking queued runs from the shared queue, on each journal: runs submitted
 * by another process (here: straight through the engine, as an API server would) are taken
 * and finished by the worker; flags are checked at the edge. The PostgreSQL case needs
 * `HATARAKU_TEST_DATABASE_URL` and skips without it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/engine.js';
import {
  createTestDatabase,
  postgresSkipReason,
  testDatabaseUrl,
} from '../../engine/postgres/__fixtures__/test-database.js';
import { openPostgresEngine } from '../../engine/postgres/postgres-engine.js';
import { openSqliteEngine } from '../../engine/sqlite/sqlite-engine.js';
import { captureCliIo } from '../__fixtures__/captured-io.js';
import { main } from '../main.js';

const journals = [
  {
    name: 'sqlite',
    available: true,
    setUp: (cwd: string) => ({
      env: {},
      open: (): Engine => openSqliteEngine({ path: join(cwd, '.hataraku', 'hataraku.db'), heartbeatMs: 0 }),
    }),
  },
  {
    name: 'postgres',
    available: testDatabaseUrl !== undefined,
    setUp: () => {
      const url = createTestDatabase('worker');
      return { env: { HATARAKU_DATABASE_URL: url }, open: (): Engine => openPostgresEngine({ url, heartbeatMs: 0 }) };
    },
  },
];

describe.each(journals.filter((journal) => journal.available))('hataraku worker on $name', (journal) => {
  it('takes queued runs submitted elsewhere and finishes each once, within its limits', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-worker-'));
    writeFileSync(join(cwd, 'answer.json'), JSON.stringify({ version: 1, turns: [{ text: 'Done.' }] }));
    const { env, open } = journal.setUp(cwd);
    const producer = open();
    const runIds = Array.from({ length: 6 }, (_, index) => `run_submitted_${index}`);
    try {
      for (const [index, id] of runIds.entries()) {
        await producer.createRun({
          id,
          agentName: 'hataraku',
          model: 'scripted:answer.json',
          input: `task ${index}`,
          spec: { name: 'hataraku', model: 'scripted:answer.json', tools: [] },
          tenant: index < 4 ? 'acme' : 'zen',
          queued: true,
        });
      }
    } finally {
      await producer.close();
    }

    const worker = captureCliIo(cwd, env);
    const args = ['worker', '--once', '--concurrency', '3', '--tenant-concurrency', '1'];
    expect(await main(args, worker.io)).toBe(0);
    expect(worker.stderr()).toBe('');
    expect(worker.stdout()).toMatch(
      /^hataraku worker executor_\w+: taking runs from .+, 3 at once, 1 per tenant, looking every 5 s\n/,
    );
    for (const id of runIds) {
      expect(worker.stdout().match(new RegExp(`${id} completed \\(final-answer\\)`, 'g'))).toHaveLength(1);
    }

    const reader = open();
    try {
      for (const id of runIds) expect(await reader.getRun(id)).toMatchObject({ status: 'completed', output: 'Done.' });
      expect(await reader.recoverableRuns()).toEqual([]);
    } finally {
      await reader.close();
    }
  });
});

describe.each(journals.filter((journal) => journal.available))('hataraku run --queue on $name', (journal) => {
  it('queues a run on one "host" that a worker started elsewhere finishes', async () => {
    const submitter = mkdtempSync(join(tmpdir(), 'hataraku-submitter-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'hataraku-worker-host-'));
    for (const directory of [submitter, elsewhere]) {
      writeFileSync(join(directory, 'answer.json'), JSON.stringify({ version: 1, turns: [{ text: 'Done.' }] }));
    }
    const { env, open } = journal.setUp(submitter);
    // Both processes name the same journal: the database URL, or for SQLite the same file.
    const shared = { ...env, HATARAKU_DB: join(submitter, '.hataraku', 'hataraku.db') };

    const submit = captureCliIo(submitter, shared);
    const args = ['run', 'say done', '--model', 'scripted:answer.json', '--tenant', 'acme', '--queue'];
    expect(await main(args, submit.io)).toBe(0);
    const runId = /^Queued run (run_\w+): /.exec(submit.stdout())?.[1] as string;
    expect(runId).toBeDefined();
    const reader = open();
    try {
      expect(await reader.getRun(runId)).toMatchObject({ status: 'pending', owner: undefined, tenant: 'acme' });
      expect(await reader.listSteps(runId)).toEqual([]);
    } finally {
      await reader.close();
    }

    const worker = captureCliIo(elsewhere, shared);
    expect(await main(['worker', '--once'], worker.io)).toBe(0);
    expect(worker.stdout()).toMatch(new RegExp(`${runId} completed \\(final-answer\\)`));
    const after = open();
    try {
      expect(await after.getRun(runId)).toMatchObject({ status: 'completed', output: 'Done.' });
    } finally {
      await after.close();
    }
  });
});

describe('hataraku worker flags', () => {
  it('rejects a concurrency that is not a positive whole number, in one line', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-worker-'));
    const run = captureCliIo(cwd);
    expect(await main(['worker', '--once', '--concurrency', '0'], run.io)).toBe(1);
    expect(run.stderr()).toBe('hataraku: --concurrency must be a positive number, e.g. --concurrency 8 (got "0").\n');
    const tenant = captureCliIo(cwd);
    expect(await main(['worker', '--once', '--tenant-concurrency', '1.5'], tenant.io)).toBe(1);
    expect(tenant.stderr()).toBe(
      'hataraku: --tenant-concurrency must be a whole number, e.g. --tenant-concurrency 2 (got "1.5").\n',
    );
  });

  if (!testDatabaseUrl) it.skip(postgresSkipReason, () => {});
});
