import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { JournalError, LeaseLostError, UserError } from '../../errors.js';
import { engineSchemaVersion, type StepRecord } from '../engine.js';
import { openSqliteEngine } from './sqlite-engine.js';

function temporaryDatabase(): string {
  return join(mkdtempSync(join(tmpdir(), 'hataraku-journal-')), 'nested', 'hataraku.db');
}

function modelStep(runId: string, index: number, output: string): StepRecord {
  return {
    runId,
    index,
    name: 'model',
    kind: 'model',
    requestDigest: `digest-${index}`,
    output: { text: output },
    model: 'scripted:test',
    usage: { inputTokens: 100, outputTokens: 10, cachedInputTokens: 40 },
    costUsd: 0.001,
    startedAt: 1,
    finishedAt: 2,
  };
}

describe('SQLite engine', () => {
  it('creates the database and its directory, in WAL mode with the schema version recorded', async () => {
    const path = temporaryDatabase();
    openSqliteEngine({ path }).close();
    const database = new Database(path, { readonly: true });
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    const row = database.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string };
    expect(Number(row.value)).toBe(engineSchemaVersion);
    database.close();
  });

  it('records a run and its steps, and keeps them across reopening', async () => {
    const path = temporaryDatabase();
    const journal = openSqliteEngine({ path });
    await journal.createRun({ id: 'r1', agentName: 'a', model: 'scripted:test', input: 'task', spec: { tools: [] } });
    await journal.commitStep(modelStep('r1', 0, 'first'));
    await journal.commitStep(modelStep('r1', 1, 'second'));
    await journal.close();

    const reopened = openSqliteEngine({ path });
    expect(await reopened.getRun('r1')).toMatchObject({ status: 'pending', input: 'task', agentName: 'a' });
    expect((await reopened.listSteps('r1')).map((step) => step.output)).toEqual([
      { text: 'first' },
      { text: 'second' },
    ]);
    expect((await reopened.listSteps('r1'))[1]?.usage).toEqual({
      inputTokens: 100,
      outputTokens: 10,
      cachedInputTokens: 40,
      cacheWriteTokens: undefined,
    });
    expect(await reopened.totals('r1')).toMatchObject({ steps: 2, modelCalls: 2, inputTokens: 200, costUsd: 0.002 });
    await reopened.close();
  });

  it('records finished runs whole, with their ledger rows, in one call', async () => {
    const path = temporaryDatabase();
    const engine = openSqliteEngine({ path });
    const finished = (id: string, tenant: string) => ({
      run: { id, agentName: 'gateway', model: 'scripted:test', input: '', spec: {}, tenant },
      steps: [
        {
          ...modelStep(id, 0, 'hi'),
          ledger: [{ model: 'scripted:test', usage: { inputTokens: 100, outputTokens: 10 }, costUsd: 0.001 }],
        },
      ],
      outcome: { status: 'completed' as const, stopReason: 'final-answer', output: 'hi' },
    });
    await engine.recordFinishedRuns?.([finished('gw_1', 'acme')]);
    await engine.recordFinishedRuns?.([finished('gw_2', 'globex')], { durable: false });
    await engine.sync();
    expect(await engine.getRun('gw_1')).toMatchObject({ status: 'completed', owner: undefined, tenant: 'acme' });
    expect((await engine.listSteps('gw_2')).map((step) => step.output)).toEqual([{ text: 'hi' }]);
    expect(await engine.costReport({ by: 'tenant' })).toEqual([
      expect.objectContaining({ key: 'acme', calls: 1, costUsd: 0.001 }),
      expect.objectContaining({ key: 'globex', calls: 1, costUsd: 0.001 }),
    ]);
    expect(await engine.recoverableRuns()).toEqual([]);
    expect((await engine.listRuns({ tenant: 'globex' })).map((run) => run.id)).toEqual(['gw_2']);
    expect(await engine.listRuns({ excludeAgentName: 'gateway' })).toEqual([]);
    expect((await engine.listRuns({ agentName: 'gateway', status: 'completed' })).map((run) => run.id).sort()).toEqual([
      'gw_1',
      'gw_2',
    ]);
    await engine.close();
  });

  it('commits a step once: a second commit at the same index returns the first output', async () => {
    const journal = openSqliteEngine({ path: temporaryDatabase() });
    await journal.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    await journal.commitStep(modelStep('r1', 0, 'original'));
    const second = await journal.commitStep(modelStep('r1', 0, 'duplicate'));
    expect(second.output).toEqual({ text: 'original' });
    expect(await journal.listSteps('r1')).toHaveLength(1);
    await journal.close();
  });

  it('writes the final result only while the run is pending', async () => {
    const journal = openSqliteEngine({ path: temporaryDatabase() });
    await journal.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    expect(await journal.finishRun('r1', { status: 'completed', stopReason: 'final-answer', output: 'done' })).toBe(
      true,
    );
    expect(await journal.finishRun('r1', { status: 'failed', stopReason: 'x', output: 'other' })).toBe(false);
    expect(await journal.getRun('r1')).toMatchObject({
      status: 'completed',
      output: 'done',
      stopReason: 'final-answer',
    });
    await journal.close();
  });

  it('counts model steps without a price as unpriced, not as free', async () => {
    const journal = openSqliteEngine({ path: temporaryDatabase() });
    await journal.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    await journal.commitStep({ ...modelStep('r1', 0, 'a'), costUsd: undefined });
    await journal.commitStep(modelStep('r1', 1, 'b'));
    expect(await journal.totals('r1')).toMatchObject({ costUsd: 0.001, unpricedModelCalls: 1 });
    await journal.close();
  });

  it('refuses a journal written by a newer schema version, with a clear message', async () => {
    const path = temporaryDatabase();
    openSqliteEngine({ path }).close();
    const database = new Database(path);
    database.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    database.close();
    expect(() => openSqliteEngine({ path })).toThrow(JournalError);
    expect(() => openSqliteEngine({ path })).toThrow(/schema version 999, newer than this Hataraku/);
  });

  it('lists runs newest first and filters by status', async () => {
    let clock = 1000;
    const journal = openSqliteEngine({ path: temporaryDatabase(), now: () => clock++ });
    for (const id of ['a', 'b', 'c'])
      await journal.createRun({ id, agentName: 'x', model: 'm', input: 'i', spec: null });
    await journal.finishRun('b', { status: 'completed', stopReason: 'final-answer', output: null });
    expect((await journal.listRuns()).map((run) => run.id)).toEqual(['c', 'b', 'a']);
    expect((await journal.listRuns({ status: 'completed' })).map((run) => run.id)).toEqual(['b']);
    await journal.close();
  });

  it('commits steps at once (visible to another connection) and keeps synchronous=NORMAL between durable writes', async () => {
    const path = temporaryDatabase();
    const journal = openSqliteEngine({ path });
    await journal.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    await journal.commitStep(modelStep('r1', 0, 'fast'));
    await journal.commitStep(modelStep('r1', 1, 'durable'), { durable: true });
    await journal.sync();
    const reader = new Database(path, { readonly: true });
    expect((reader.prepare('SELECT COUNT(*) AS n FROM steps').get() as { n: number }).n).toBe(2);
    reader.close();
    await journal.close();
  });

  it.each([
    ['process', false],
    ['power', true],
  ] as const)('under durability %s, makes a durable write with an fsync: %s', async (durability, fsyncs) => {
    const path = temporaryDatabase();
    const journal = openSqliteEngine({ path, durability, heartbeatMs: 0 });
    await journal.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    await journal.commitStep(modelStep('r1', 0, 'durable'), { durable: true });
    await journal.sync();
    const reader = new Database(path, { readonly: true });
    // The group commit's fsync is a write under synchronous=FULL that records when it happened.
    const synced = reader.prepare("SELECT value FROM meta WHERE key = 'synced_at'").get();
    expect(synced !== undefined).toBe(fsyncs);
    expect((reader.prepare('SELECT COUNT(*) AS n FROM steps').get() as { n: number }).n).toBe(1);
    reader.close();
    await journal.close();
  });

  it('lets one executor own a run at a time, and another take it over once the lease expires', async () => {
    const path = temporaryDatabase();
    let clock = 1_000_000;
    const now = () => clock;
    const first = openSqliteEngine({ path, executorId: 'first', leaseMs: 1000, heartbeatMs: 0, now });
    const second = openSqliteEngine({ path, executorId: 'second', leaseMs: 1000, heartbeatMs: 0, now });
    await first.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    expect(await second.claimRun('r1')).toBe(false);
    expect(await second.recoverableRuns()).toEqual([]);
    clock += 500;
    await first.heartbeat();
    clock += 800; // 1,300 ms after creation, but only 800 after the heartbeat
    expect(await second.claimRun('r1')).toBe(false);
    clock += 300; // the lease has now expired
    expect((await second.recoverableRuns()).map((run) => run.id)).toEqual(['r1']);
    expect(await second.claimRun('r1')).toBe(true);
    expect((await second.getRun('r1'))?.owner).toBe('second');
    // The first executor lost the run: it can no longer commit steps to it.
    await expect(first.commitStep(modelStep('r1', 0, 'late'))).rejects.toThrow(LeaseLostError);
    expect(await second.commitStep(modelStep('r1', 0, 'owner'))).toMatchObject({ output: { text: 'owner' } });
    await first.close();
    await second.close();
  });

  it('asks for an approval once, applies the first decision, and ignores and audits a duplicate', async () => {
    const engine = openSqliteEngine({ path: temporaryDatabase(), executorId: 'e1' });
    await engine.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    await engine.commitStep(modelStep('r1', 0, 'pay 250'));
    const request = {
      runId: 'r1',
      stepIndex: 1,
      toolName: 'pay',
      input: { amount: 250 },
      inputDigest: 'digest',
      reason: 'policy: ask pay when amount > 100',
    };
    const asked = await engine.requestApproval(request);
    expect(asked).toMatchObject({ status: 'pending', defaultOutcome: 'deny' });
    expect(await engine.requestApproval({ ...request, reason: 'again' })).toMatchObject({ reason: request.reason });
    const approved = await engine.decideApproval({ runId: 'r1', outcome: 'approve', actor: 'aiko', note: 'ok' });
    expect(approved).toMatchObject({ kind: 'applied', approval: { status: 'approved', decidedBy: 'aiko' } });
    const duplicate = await engine.decideApproval({ runId: 'r1', stepIndex: 1, outcome: 'deny', actor: 'ben' });
    expect(duplicate).toMatchObject({ kind: 'ignored', approval: { status: 'approved', decidedBy: 'aiko' } });
    const audit = await engine.listAudit({ runId: 'r1' });
    expect(audit.map((entry) => [entry.action, entry.actor])).toEqual([
      ['approval-requested', 'policy'],
      ['approved', 'aiko'],
      ['decision-ignored', 'ben'],
    ]);
    expect(audit[1]).toMatchObject({ inputDigest: 'digest', costUsdSoFar: 0.001, toolName: 'pay' });
    await engine.close();
  });

  it('upgrades a version 1 journal: reservation groups move from the row ids into their column', async () => {
    const path = temporaryDatabase();
    await openSqliteEngine({ path, heartbeatMs: 0 }).close();
    // Make it a version 1 journal, with a reservation as version 1 wrote it.
    const old = new Database(path);
    old.exec('DROP INDEX reservations_by_group; ALTER TABLE budget_reservations DROP COLUMN reservation_id');
    old.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
    old
      .prepare(
        `INSERT INTO budget_reservations (id, run_id, step_index, scope, scope_key, amount_usd, expires_at)
         VALUES ('reservation_a:tenant:acme:eu', 'r1', 1, 'tenant', 'acme:eu', 0.5, ?)`,
      )
      .run(Date.now() + 60_000);
    old.close();
    const engine = openSqliteEngine({ path, heartbeatMs: 0 });
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: '4' });
    expect(reader.prepare('SELECT reservation_id FROM budget_reservations').all()).toEqual([
      { reservation_id: 'reservation_a' },
    ]);
    await engine.releaseReservation('reservation_a');
    expect(reader.prepare('SELECT COUNT(*) AS n FROM budget_reservations').get()).toEqual({ n: 0 });
    reader.close();
    await engine.close();
  });

  it('applies the default outcome when an approval passes its deadline', async () => {
    let clock = 5_000;
    const engine = openSqliteEngine({ path: temporaryDatabase(), heartbeatMs: 0, now: () => clock });
    await engine.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    await engine.requestApproval({
      runId: 'r1',
      stepIndex: 1,
      toolName: 'pay',
      input: {},
      inputDigest: 'd',
      reason: 'ask',
      deadline: 6_000,
      defaultOutcome: 'approve',
    });
    expect((await engine.getApproval('r1', 1))?.status).toBe('pending');
    clock = 6_001;
    // Reading does not write: the deadline is applied by an explicit call.
    expect((await engine.getApproval('r1', 1))?.status).toBe('pending');
    expect(await engine.expireApprovalDeadlines()).toBe(1);
    expect(await engine.getApproval('r1', 1)).toMatchObject({ status: 'approved', decidedBy: 'system' });
    expect(await engine.expireApprovalDeadlines()).toBe(0);
    await engine.close();
  });

  it('names the step when a run waits for several approvals, and says when there is none', async () => {
    const engine = openSqliteEngine({ path: temporaryDatabase() });
    await engine.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    await expect(engine.decideApproval({ runId: 'r1', outcome: 'approve', actor: 'a' })).rejects.toThrow(
      /no approval to decide/,
    );
    for (const stepIndex of [1, 2]) {
      await engine.requestApproval({ runId: 'r1', stepIndex, toolName: 't', input: {}, inputDigest: 'd', reason: 'r' });
    }
    await expect(engine.decideApproval({ runId: 'r1', outcome: 'approve', actor: 'a' })).rejects.toThrow(UserError);
    await expect(engine.decideApproval({ runId: 'r1', outcome: 'approve', actor: 'a' })).rejects.toThrow(
      /2 approvals waiting \(steps 1, 2\); name one with --step/,
    );
    await engine.close();
  });

  it('keeps the audit log append-only', async () => {
    const path = temporaryDatabase();
    const engine = openSqliteEngine({ path });
    await engine.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    await engine.audit({
      runId: 'r1',
      stepIndex: 0,
      action: 'policy-denied',
      actor: 'policy',
      toolName: 't',
      inputDigest: 'd',
      note: undefined,
    });
    await engine.close();
    const database = new Database(path);
    expect(() => database.prepare("UPDATE audit SET actor = 'someone else'").run()).toThrow(/append-only/);
    expect(() => database.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    database.close();
  });
});
