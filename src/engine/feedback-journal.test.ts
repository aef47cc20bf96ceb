/**
 * Outcome feedback on runs, on every journal: the embedded SQLite engine always, and the
 * PostgreSQL engine when `HATARAKU_TEST_DATABASE_URL` names a server. Feedback is durable, one
 * per run (the last word counts), refused for a run that does not exist, and listed by time. A
 * SQLite journal of the version before feedback existed gains the table when opened.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from './engine.js';
import { createTestDatabase, postgresSkipReason, testDatabaseUrl } from './postgres/__fixtures__/test-database.js';
import { openPostgresEngine } from './postgres/postgres-engine.js';
import { openSqliteEngine } from './sqlite/sqlite-engine.js';

interface Journal {
  name: string;
  available: boolean;
  create(label: string): string;
  open(location: string, now: () => number): Engine;
}

const journals: Journal[] = [
  {
    name: 'sqlite',
    available: true,
    create: () => join(mkdtempSync(join(tmpdir(), 'hataraku-feedback-')), 'journal.db'),
    open: (path, now) => openSqliteEngine({ path, heartbeatMs: 0, now }),
  },
  {
    name: 'postgres',
    available: testDatabaseUrl !== undefined,
    create: (label) => createTestDatabase(label),
    open: (url, now) => openPostgresEngine({ url, heartbeatMs: 0, now }),
  },
];

if (!testDatabaseUrl) {
  describe('postgres feedback journal', () => {
    it.skip(postgresSkipReason, () => {});
  });
}

const newRun = (id: string) => ({ id, agentName: 'agent', model: 'route:math', input: `task ${id}`, spec: {} });

describe.each(journals.filter((journal) => journal.available))('$name feedback journal', (journal) => {
  const opened: Engine[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((engine) => engine.close()));
  });

  it('records one feedback per run, the last word counting, and keeps it across reopening', async () => {
    const location = journal.create('feedback');
    let clock = 1_000;
    const engine = journal.open(location, () => clock);
    opened.push(engine);
    await engine.createRun(newRun('run_a'));
    await engine.createRun(newRun('run_b'));
    await engine.finishRun('run_a', { status: 'completed', stopReason: 'final-answer', output: '#### 42' });

    expect(await engine.recordFeedback('run_missing', { solved: true, actor: 'ana' })).toBeUndefined();
    expect(await engine.listFeedback()).toEqual([]);

    expect(await engine.recordFeedback('run_a', { solved: false, actor: 'ana', note: 'off by one' })).toEqual({
      runId: 'run_a',
      solved: false,
      note: 'off by one',
      actor: 'ana',
      at: 1_000,
    });
    clock = 2_000;
    await engine.recordFeedback('run_b', { solved: true, actor: 'key:support' });
    clock = 3_000;
    await engine.recordFeedback('run_a', { solved: true, actor: 'ben' });

    const reopened = journal.open(location, () => clock);
    opened.push(reopened);
    expect(await reopened.getFeedback('run_a')).toEqual({
      runId: 'run_a',
      solved: true,
      note: undefined,
      actor: 'ben',
      at: 3_000,
    });
    expect(await reopened.getFeedback('run_missing')).toBeUndefined();
    expect((await reopened.listFeedback()).map((item) => [item.runId, item.solved, item.at])).toEqual([
      ['run_b', true, 2_000],
      ['run_a', true, 3_000],
    ]);
    expect((await reopened.listFeedback({ since: 2_500 })).map((item) => item.runId)).toEqual(['run_a']);
  });

  it('lists feedback a page at a time, newest first', async () => {
    let clock = 1_000;
    const engine = journal.open(journal.create('feedback-pages'), () => clock);
    opened.push(engine);
    // Seven runs, two labelled in the same millisecond: pages must neither skip nor repeat them.
    for (const [id, at] of [
      ['run_1', 1_000],
      ['run_2', 2_000],
      ['run_3', 2_000],
      ['run_4', 3_000],
      ['run_5', 4_000],
      ['run_6', 5_000],
      ['run_7', 6_000],
    ] as const) {
      await engine.createRun(newRun(id));
      clock = at;
      await engine.recordFeedback(id, { solved: true, actor: 'ana' });
    }
    const pages: string[][] = [];
    let before: { at: number; runId: string } | undefined;
    for (;;) {
      const page = await engine.listFeedback({ since: 2_000, newest: { limit: 2, before } });
      if (page.length === 0) break;
      pages.push(page.map((item) => item.runId));
      const last = page[page.length - 1];
      before = last === undefined ? undefined : { at: last.at, runId: last.runId };
    }
    expect(pages).toEqual([
      ['run_7', 'run_6'],
      ['run_5', 'run_4'],
      ['run_3', 'run_2'],
    ]);
  });
});

describe('sqlite journal upgrade', () => {
  it('adds the feedback table to a version 2 journal when it is opened', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hataraku-feedback-')), 'journal.db');
    const first = openSqliteEngine({ path, heartbeatMs: 0 });
    await first.createRun(newRun('run_old'));
    await first.close();
    // Make it what version 2 wrote: no feedback table, version 2 in meta.
    const raw = new Database(path);
    raw.exec("DROP TABLE feedback; UPDATE meta SET value = '2' WHERE key = 'schema_version';");
    raw.close();

    const upgraded = openSqliteEngine({ path, heartbeatMs: 0 });
    try {
      expect((await upgraded.recordFeedback('run_old', { solved: true, actor: 'ana' }))?.solved).toBe(true);
      expect(await upgraded.getRun('run_old')).toMatchObject({ input: 'task run_old' });
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
