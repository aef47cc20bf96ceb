/**
 * `hataraku journal migrate --from sqlite --to postgres`, end to end through the CLI: a real
 * SQLite journal with runs, steps, the ledger, approvals, audit and artifacts is copied into a
 * real PostgreSQL database, and both engines then answer every query the same way. The copy
 * cases need PostgreSQL (`HATARAKU_TEST_DATABASE_URL`) and skip without it.
 */
import { mkdtempSync } from 'node:fs';
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
import { openKeyStore } from '../../server/keys/key-store.js';
import { openPostgresKeyStore } from '../../server/keys/postgres-key-store.js';
import { captureCliIo } from '../__fixtures__/captured-io.js';
import { main } from '../main.js';

/** A journal with a finished run (with a child), an open run waiting on a decided approval, and an artifact. */
async function fillJournal(engine: Engine): Promise<void> {
  await engine.createRun({
    id: 'parent',
    agentName: 'analyst',
    model: 'scripted:x',
    input: 'sum it',
    spec: { a: 1 },
    tenant: 'acme',
  });
  await engine.createRun({
    id: 'child',
    agentName: 'helper',
    model: 'scripted:x',
    input: 'part',
    spec: {},
    parentRunId: 'parent',
  });
  for (const [runId, index, cost] of [
    ['parent', 0, 0.25],
    ['child', 0, 0.5],
    ['parent', 1, undefined],
  ] as const) {
    await engine.commitStep({
      runId,
      index,
      name: 'model',
      kind: 'model',
      requestDigest: `digest-${runId}-${index}`,
      output: { text: `${runId} ${index}`, nested: [1, 'two'] },
      model: 'scripted:x',
      usage: { inputTokens: 10 + index, outputTokens: 3 },
      costUsd: cost,
      startedAt: 1_700_000_000_000 + index,
      finishedAt: 1_700_000_000_500 + index,
      ledger: [{ model: 'scripted:x', usage: { inputTokens: 10 + index, outputTokens: 3 }, costUsd: cost }],
    });
  }
  await engine.finishRun('child', { status: 'completed', stopReason: 'final-answer', output: 'part done' });
  await engine.recordArtifact({
    runId: 'parent',
    stepIndex: 1,
    path: 'chart.png',
    mediaType: 'image/png',
    description: 'sales',
    createdAt: 7,
  });
  await engine.requestApproval({
    runId: 'parent',
    stepIndex: 2,
    toolName: 'pay',
    input: { amount: 5 },
    inputDigest: 'd',
    reason: 'ask',
  });
  await engine.setRunStatus('parent', 'waiting');
  await engine.decideApproval({ runId: 'parent', outcome: 'approve', actor: 'ana', note: 'fine' });
  await engine.recordFeedback('child', { solved: true, actor: 'ana', note: 'right part' });
  await engine.sync();
}

async function answers(engine: Engine) {
  return {
    runs: (await engine.listRuns({ limit: 10 })).map(({ owner, leaseExpiresAt, ...run }) => run),
    steps: [...(await engine.listSteps('parent')), ...(await engine.listSteps('child'))],
    totals: await engine.totals('parent'),
    costs: await engine.costReport({ by: 'run' }),
    byTenant: await engine.costReport({ by: 'tenant' }),
    approvals: await engine.listApprovals(),
    audit: await engine.listAudit(),
    artifacts: await engine.listArtifacts('parent'),
    feedback: await engine.listFeedback(),
  };
}

describe('hataraku journal migrate', () => {
  it('says in one line what it can move when asked for another pair', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-migrate-'));
    const run = captureCliIo(cwd);
    expect(await main(['journal', 'migrate', '--from', 'mysql', '--to', 'postgres'], run.io)).toBe(1);
    expect(run.stderr()).toBe(
      'hataraku: journal migrate moves a journal from sqlite to postgres (got --from mysql --to postgres); use --from sqlite --to postgres.\n',
    );
    const noUrl = captureCliIo(cwd);
    expect(await main(['journal', 'migrate', '--from', 'sqlite', '--to', 'postgres'], noUrl.io)).toBe(1);
    expect(noUrl.stderr()).toMatch(
      /^hataraku: journal migrate needs the PostgreSQL database: pass --url postgres:\/\/.+HATARAKU_DATABASE_URL\.\n$/,
    );
  });

  it.skipIf(!testDatabaseUrl)(
    'copies every table; both journals then answer alike, and the open run is queued',
    async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'hataraku-migrate-'));
      const sqlitePath = join(cwd, '.hataraku', 'hataraku.db');
      const sqlite = openSqliteEngine({ path: sqlitePath, heartbeatMs: 0 });
      await fillJournal(sqlite);
      await sqlite.close();
      // Keys made by the server in the same file: one in use, one revoked.
      const sqliteKeys = openKeyStore({ path: sqlitePath });
      const kept = sqliteKeys.create({ name: 'ops', tenant: 'acme', budgetDayUsd: 5 });
      const revoked = sqliteKeys.create({ name: 'old', tenant: 'acme' });
      sqliteKeys.revoke('old');
      sqliteKeys.close();
      const url = createTestDatabase('migrate');

      const run = captureCliIo(cwd, { HATARAKU_DATABASE_URL: url });
      expect(await main(['journal', 'migrate', '--from', 'sqlite', '--to', 'postgres'], run.io)).toBe(0);
      expect(run.stderr()).toBe('');
      expect(run.stdout()).toMatch(
        /^Copied .+hataraku\.db to PostgreSQL: 2 runs, 3 steps, 3 ledger, 0 budget_reservations, 1 artifacts, 1 approvals, 2 audit, 1 feedback, 2 api_keys\.\n1 open runs are queued there/,
      );

      const before = openSqliteEngine({ path: sqlitePath, heartbeatMs: 0 });
      const after = openPostgresEngine({ url, heartbeatMs: 0 });
      try {
        expect(await answers(after)).toEqual(await answers(before));
        // The open run waits for a worker on the new journal.
        expect((await after.recoverableRuns()).map((record) => record.id)).toEqual(['parent']);
        expect((await after.takeRuns({ limit: 5 })).map((record) => record.id)).toEqual(['parent']);
      } finally {
        await Promise.all([before.close(), after.close()]);
      }

      // The keys work on a server of the new journal, with their limits; the revoked one stays revoked.
      const postgresKeys = openPostgresKeyStore({ url });
      try {
        await postgresKeys.ready();
        expect(postgresKeys.verify(kept.secret)).toMatchObject({ name: 'ops', tenant: 'acme', budgetDayUsd: 5 });
        expect(postgresKeys.verify(revoked.secret)).toBeUndefined();
      } finally {
        postgresKeys.close();
      }

      // A second copy into the same database is refused: nothing is doubled.
      const again = captureCliIo(cwd, { HATARAKU_DATABASE_URL: url });
      expect(await main(['journal', 'migrate', '--from', 'sqlite', '--to', 'postgres'], again.io)).toBe(1);
      expect(again.stderr()).toMatch(
        /^hataraku: the PostgreSQL journal at .+ already holds 2 runs; migrate into an empty database\.\n$/,
      );
    },
  );

  if (!testDatabaseUrl) it.skip(postgresSkipReason, () => {});
});
