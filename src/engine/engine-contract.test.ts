/**
 * The Engine contract, run against every journal: the embedded SQLite engine always, and the
 * PostgreSQL engine when `HATARAKU_TEST_DATABASE_URL` names a server (each test on a database
 * of its own). Both must give the same answers to the same calls.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../errors.js';
import type { Engine, StepRecord } from './engine.js';
import { createTestDatabase, postgresSkipReason, testDatabaseUrl } from './postgres/__fixtures__/test-database.js';
import { openPostgresEngine } from './postgres/postgres-engine.js';
import { openSqliteEngine } from './sqlite/sqlite-engine.js';

interface Journal {
  name: string;
  available: boolean;
  /** A new, empty journal's location. */
  create(label: string): string;
  open(location: string, options?: { leaseMs?: number; executorId?: string }): Engine;
}

const journals: Journal[] = [
  {
    name: 'sqlite',
    available: true,
    create: () => join(mkdtempSync(join(tmpdir(), 'hataraku-contract-')), 'journal.db'),
    open: (path, options = {}) => openSqliteEngine({ path, heartbeatMs: 0, ...options }),
  },
  {
    name: 'postgres',
    available: testDatabaseUrl !== undefined,
    create: (label) => createTestDatabase(label),
    open: (url, options = {}) => openPostgresEngine({ url, heartbeatMs: 0, ...options }),
  },
];

if (!testDatabaseUrl) {
  describe('postgres engine contract', () => {
    it.skip(postgresSkipReason, () => {});
  });
}

function modelStep(runId: string, index: number, output: string, price: number | null = 0.001): StepRecord {
  const costUsd = price ?? undefined;
  return {
    runId,
    index,
    name: 'model',
    kind: 'model',
    requestDigest: `digest-${index}`,
    output: { text: output },
    model: 'scripted:test',
    usage: { inputTokens: 100, outputTokens: 10, cachedInputTokens: 40 },
    costUsd,
    startedAt: 1_700_000_000_000 + index,
    finishedAt: 1_700_000_000_001 + index,
    ledger: [{ model: 'scripted:test', usage: { inputTokens: 100, outputTokens: 10, cachedInputTokens: 40 }, costUsd }],
  };
}

const newRun = (id: string, extra: { tenant?: string; queued?: boolean } = {}) => ({
  id,
  agentName: 'agent',
  model: 'scripted:test',
  input: `task ${id}`,
  spec: { tools: ['a'], nested: { b: 1 } },
  ...extra,
});

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(journals.filter((journal) => journal.available))('$name engine contract', (journal) => {
  const opened: Engine[] = [];
  const open = (location: string, options?: { leaseMs?: number; executorId?: string }) => {
    const engine = journal.open(location, options);
    opened.push(engine);
    return engine;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((engine) => engine.close()));
  });

  it('records a run and its steps, commits a step once, and keeps them across reopening', async () => {
    const location = journal.create('records');
    const first = open(location);
    const created = await first.createRun(newRun('r1'));
    expect(created).toMatchObject({
      status: 'pending',
      owner: first.executorId,
      spec: { tools: ['a'], nested: { b: 1 } },
    });
    expect(await first.commitStep(modelStep('r1', 0, 'first'))).toMatchObject({ output: { text: 'first' } });
    // The first commit at an index wins.
    expect(await first.commitStep(modelStep('r1', 0, 'other'), { durable: true })).toMatchObject({
      output: { text: 'first' },
    });
    await first.commitStep(modelStep('r1', 1, 'second', null));
    await first.sync();
    await first.close();

    const reopened = open(location);
    expect((await reopened.listSteps('r1')).map((step) => step.output)).toEqual([
      { text: 'first' },
      { text: 'second' },
    ]);
    expect((await reopened.listSteps('r1'))[0]?.usage).toEqual({
      inputTokens: 100,
      outputTokens: 10,
      cachedInputTokens: 40,
      cacheWriteTokens: undefined,
    });
    expect(await reopened.totals('r1')).toEqual({
      steps: 2,
      modelCalls: 2,
      toolCalls: 0,
      inputTokens: 200,
      outputTokens: 20,
      cachedInputTokens: 80,
      costUsd: 0.001,
      unpricedModelCalls: 1,
    });
    expect(await reopened.getRun('missing')).toBeUndefined();
  });

  it('writes the final result once, only while the run is open, and lists runs newest first', async () => {
    const engine = open(journal.create('finish'));
    await engine.createRun(newRun('a'));
    await engine.createRun(newRun('b'));
    expect(await engine.finishRun('a', { status: 'completed', stopReason: 'final-answer', output: 'done' })).toBe(true);
    expect(await engine.finishRun('a', { status: 'failed', stopReason: 'error', output: undefined })).toBe(false);
    expect(await engine.getRun('a')).toMatchObject({ status: 'completed', output: 'done', owner: undefined });
    expect((await engine.listRuns()).map((run) => run.id).sort()).toEqual(['a', 'b']);
    expect((await engine.listRuns({ status: 'completed' })).map((run) => run.id)).toEqual(['a']);
    await engine.reopenRun('a');
    expect(await engine.getRun('a')).toMatchObject({ status: 'pending', output: undefined });
  });

  it("filters runs by tenant and agent, and reports one tenant's costs only", async () => {
    const engine = open(journal.create('tenants'));
    await engine.createRun({ ...newRun('acme-1'), tenant: 'acme' });
    await engine.createRun({ ...newRun('acme-gw'), tenant: 'acme', agentName: 'gateway' });
    await engine.createRun({ ...newRun('globex-1'), tenant: 'globex' });
    const ids = async (query: Parameters<Engine['listRuns']>[0]) =>
      (await engine.listRuns(query)).map((run) => run.id).sort();
    expect(await ids({ tenant: 'acme' })).toEqual(['acme-1', 'acme-gw']);
    expect(await ids({ tenant: 'acme', excludeAgentName: 'gateway' })).toEqual(['acme-1']);
    expect(await ids({ agentName: 'gateway' })).toEqual(['acme-gw']);
    expect(await ids({ tenant: 'initech' })).toEqual([]);
    await engine.commitStep(modelStep('acme-1', 0, 'a', 0.25));
    await engine.commitStep(modelStep('globex-1', 0, 'b', 0.5));
    expect(await engine.costReport({ by: 'tenant', tenant: 'acme' })).toMatchObject([{ key: 'acme', costUsd: 0.25 }]);
    expect((await engine.costReport({ by: 'tenant' })).map((row) => row.key).sort()).toEqual(['acme', 'globex']);
  });

  it('lets one executor own a run at a time; after the lease expires another takes it, and the old owner cannot commit', async () => {
    const location = journal.create('lease');
    const first = open(location, { leaseMs: 300 });
    const second = open(location, { leaseMs: 300 });
    await first.createRun(newRun('r1'));
    await first.commitStep(modelStep('r1', 0, 'by first'));
    expect(await second.claimRun('r1')).toBe(false);
    // No heartbeat: the lease runs out.
    await waitFor(() => second.claimRun('r1'), 'the lease to expire');
    expect((await second.getRun('r1'))?.owner).toBe(second.executorId);
    await expect(first.commitStep(modelStep('r1', 1, 'late'))).rejects.toBeInstanceOf(LeaseLostError);
    expect(await first.finishRun('r1', { status: 'completed', stopReason: 'final-answer', output: 'x' })).toBe(false);
    expect(await second.commitStep(modelStep('r1', 1, 'by second'))).toMatchObject({ output: { text: 'by second' } });
    expect((await second.listSteps('r1')).map((step) => step.output)).toEqual([
      { text: 'by first' },
      { text: 'by second' },
    ]);
  });

  it('takes queued runs from the shared queue at most once, oldest first, within a per-tenant limit', async () => {
    const location = journal.create('queue');
    const producer = open(location);
    const workers = [open(location), open(location), open(location)];
    for (let index = 0; index < 12; index++) {
      await producer.createRun(newRun(`q${String(index).padStart(2, '0')}`, { queued: true, tenant: `t${index % 3}` }));
    }
    expect((await producer.getRun('q00'))?.owner).toBeUndefined();
    expect((await producer.recoverableRuns()).length).toBe(12);

    // One at a time per tenant: three tenants, so at most three runs are out at once.
    const firstRound = await Promise.all(workers.map((worker) => worker.takeRuns({ limit: 4, perTenant: 1 })));
    const taken = firstRound.flat();
    expect(taken.length).toBe(3);
    expect(new Set(taken.map((run) => run.tenant)).size).toBe(3);
    expect(new Set(taken.map((run) => run.id)).size).toBe(3);
    for (const [index, runs] of firstRound.entries()) {
      for (const run of runs) expect(run.owner).toBe(workers[index]?.executorId);
    }
    expect(await workers[0]?.takeRuns({ limit: 4, perTenant: 1 })).toEqual([]);

    // Without a tenant limit, the rest is shared out with no run taken twice.
    const secondRound = await Promise.all(workers.map((worker) => worker.takeRuns({ limit: 10 })));
    const all = [...taken, ...secondRound.flat()].map((run) => run.id);
    expect(all.length).toBe(12);
    expect(new Set(all).size).toBe(12);
    expect(await producer.recoverableRuns()).toEqual([]);
  });

  it('asks for an approval once, applies the first decision, ignores and audits a duplicate', async () => {
    const engine = open(journal.create('approvals'));
    await engine.createRun(newRun('r1'));
    const request = {
      runId: 'r1',
      stepIndex: 2,
      toolName: 'pay',
      input: { amount: 5 },
      inputDigest: 'digest',
      reason: 'policy: payments need a person',
    };
    expect(await engine.requestApproval(request)).toMatchObject({ status: 'pending', input: { amount: 5 } });
    expect(await engine.requestApproval({ ...request, reason: 'again' })).toMatchObject({ reason: request.reason });
    await engine.setRunStatus('r1', 'waiting');
    expect(await engine.decideApproval({ runId: 'r1', outcome: 'approve', actor: 'ana' })).toMatchObject({
      kind: 'applied',
      approval: { status: 'approved', decidedBy: 'ana' },
    });
    expect(await engine.decideApproval({ runId: 'r1', stepIndex: 2, outcome: 'deny', actor: 'bo' })).toMatchObject({
      kind: 'ignored',
      approval: { status: 'approved' },
    });
    expect((await engine.listAudit({ runId: 'r1' })).map((entry) => [entry.action, entry.actor])).toEqual([
      ['approval-requested', 'policy'],
      ['approved', 'ana'],
      ['decision-ignored', 'bo'],
    ]);
    await expect(engine.decideApproval({ runId: 'none', outcome: 'approve', actor: 'ana' })).rejects.toMatchObject({
      code: 'approval_not_found',
    });
  });

  it('applies a passed approval deadline only when asked to: reads never write', async () => {
    const engine = open(journal.create('deadlines'));
    await engine.createRun(newRun('r1'));
    const deadline = Date.now() + 60_000;
    await engine.requestApproval({
      runId: 'r1',
      stepIndex: 1,
      toolName: 'pay',
      input: {},
      inputDigest: 'digest',
      reason: 'ask',
      deadline,
      defaultOutcome: 'approve',
    });
    expect(await engine.expireApprovalDeadlines(deadline - 1)).toBe(0);
    expect((await engine.getApproval('r1', 1))?.status).toBe('pending');
    expect((await engine.listApprovals({ runId: 'r1' })).map((approval) => approval.status)).toEqual(['pending']);
    expect(await engine.expireApprovalDeadlines(deadline)).toBe(1);
    expect(await engine.getApproval('r1', 1)).toMatchObject({ status: 'approved', decidedBy: 'system' });
    expect(await engine.expireApprovalDeadlines(deadline + 1)).toBe(0);
    expect((await engine.listAudit({ runId: 'r1' })).map((entry) => [entry.action, entry.actor])).toEqual([
      ['approval-requested', 'policy'],
      ['approved', 'system'],
    ]);
  });

  it('releases a reservation as one group across its budgets, leaving other reservations held', async () => {
    const engine = open(journal.create('reservation-groups'));
    await engine.createRun({ ...newRun('r1'), tenant: 'acme:eu' });
    // Keys with the separator the old id format used: a group is a column, not an id prefix.
    const tenant = { scope: 'tenant' as const, key: 'acme:eu', since: 0, limitUsd: 1 };
    const agent = { scope: 'agent' as const, key: 'agent', since: 0, limitUsd: 1 };
    const reserve = (amountUsd: number) =>
      engine.reserveBudget({ runId: 'r1', stepIndex: 1, amountUsd, budgets: [tenant, agent], ttlMs: 60_000 });
    const first = await reserve(0.3);
    const second = await reserve(0.3);
    expect(first.ok && second.ok).toBe(true);
    if (first.ok) await engine.releaseReservation(first.id);
    // The second reservation still holds 0.3 under both budgets: 0.8 more would pass either.
    expect(await reserve(0.8)).toMatchObject({ ok: false, reservedUsd: 0.3 });
    if (second.ok) await engine.releaseReservation(second.id);
    expect((await reserve(0.8)).ok).toBe(true);
  });

  it('reports costs from the ledger and refuses a reservation that would pass a budget', async () => {
    const engine = open(journal.create('costs'));
    await engine.createRun({ ...newRun('parent'), tenant: 'acme' });
    await engine.createRun({ ...newRun('child'), tenant: 'acme', parentRunId: 'parent' });
    await engine.commitStep(modelStep('parent', 0, 'a', 0.25));
    await engine.commitStep(modelStep('child', 0, 'b', 0.5));
    expect(await engine.costReport({ by: 'run' })).toMatchObject([{ key: 'parent', calls: 2, costUsd: 0.75 }]);
    expect(await engine.costReport({ by: 'day' })).toMatchObject([{ key: '2023-11-14', calls: 2 }]);
    const budget = { scope: 'tenant' as const, key: 'acme', since: 0, limitUsd: 1 };
    expect(await engine.spentUsd(budget)).toBeCloseTo(0.75);
    const reserved = await engine.reserveBudget({
      runId: 'parent',
      stepIndex: 1,
      amountUsd: 0.2,
      budgets: [budget],
      ttlMs: 60_000,
    });
    expect(reserved.ok).toBe(true);
    expect(
      await engine.reserveBudget({ runId: 'child', stepIndex: 1, amountUsd: 0.2, budgets: [budget], ttlMs: 60_000 }),
    ).toMatchObject({ ok: false, reservedUsd: 0.2 });
    if (reserved.ok) await engine.releaseReservation(reserved.id);
    expect(
      (await engine.reserveBudget({ runId: 'child', stepIndex: 1, amountUsd: 0.2, budgets: [budget], ttlMs: 60_000 }))
        .ok,
    ).toBe(true);
  });

  it("lists a run's direct children, oldest first, and reports what a budget holds when asked for more than is left", async () => {
    const engine = open(journal.create('children'));
    await engine.createRun(newRun('parent'));
    await engine.createRun({ ...newRun('parent.2'), parentRunId: 'parent' });
    await engine.createRun({ ...newRun('parent.1'), parentRunId: 'parent' });
    await engine.createRun({ ...newRun('parent.1.1'), parentRunId: 'parent.1' });
    expect((await engine.listChildRuns('parent')).map((run) => run.id)).toEqual(['parent.2', 'parent.1']);
    expect((await engine.listChildRuns('parent.1')).map((run) => run.id)).toEqual(['parent.1.1']);
    expect(await engine.listChildRuns('parent.2')).toEqual([]);
    // Delegation reads "what is left" by asking for an infinite amount: always refused, nothing stored.
    await engine.commitStep(modelStep('parent.1', 0, 'a', 0.25));
    const budget = { scope: 'run' as const, key: 'parent', since: 0, limitUsd: 1 };
    const probe = await engine.reserveBudget({
      runId: 'parent',
      stepIndex: 1,
      amountUsd: Number.POSITIVE_INFINITY,
      budgets: [budget],
      ttlMs: 60_000,
    });
    expect(probe).toMatchObject({ ok: false, reservedUsd: 0 });
    expect(probe.ok === false && probe.spentUsd).toBeCloseTo(0.25);
  });

  it('records artifacts, the last record of a path winning', async () => {
    const engine = open(journal.create('artifacts'));
    await engine.createRun(newRun('r1'));
    await engine.recordArtifact({
      runId: 'r1',
      stepIndex: 1,
      path: 'chart.png',
      mediaType: 'image/png',
      description: undefined,
      createdAt: 5,
    });
    await engine.recordArtifact({
      runId: 'r1',
      stepIndex: 3,
      path: 'chart.png',
      mediaType: 'image/png',
      description: 'v2',
      createdAt: 6,
    });
    expect(await engine.listArtifacts('r1')).toEqual([
      { runId: 'r1', stepIndex: 3, path: 'chart.png', mediaType: 'image/png', description: 'v2', createdAt: 6 },
    ]);
  });
});
