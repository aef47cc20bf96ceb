import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { JournalError } from '../errors.js';
import { journalSchemaVersion, type StepRecord } from './journal.js';
import { openSqliteJournal } from './sqlite-journal.js';

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

describe('SQLite journal', () => {
  it('creates the database and its directory, in WAL mode with the schema version recorded', () => {
    const path = temporaryDatabase();
    openSqliteJournal({ path }).close();
    const database = new Database(path, { readonly: true });
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    const row = database.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string };
    expect(Number(row.value)).toBe(journalSchemaVersion);
    database.close();
  });

  it('records a run and its steps, and keeps them across reopening', () => {
    const path = temporaryDatabase();
    const journal = openSqliteJournal({ path });
    journal.createRun({ id: 'r1', agentName: 'a', model: 'scripted:test', input: 'task', spec: { tools: [] } });
    journal.commitStep(modelStep('r1', 0, 'first'));
    journal.commitStep(modelStep('r1', 1, 'second'));
    journal.close();

    const reopened = openSqliteJournal({ path });
    expect(reopened.getRun('r1')).toMatchObject({ status: 'pending', input: 'task', agentName: 'a' });
    expect(reopened.listSteps('r1').map((step) => step.output)).toEqual([{ text: 'first' }, { text: 'second' }]);
    expect(reopened.getStep('r1', 1)?.usage).toEqual({
      inputTokens: 100,
      outputTokens: 10,
      cachedInputTokens: 40,
      cacheWriteTokens: undefined,
    });
    expect(reopened.totals('r1')).toMatchObject({ steps: 2, modelCalls: 2, inputTokens: 200, costUsd: 0.002 });
    reopened.close();
  });

  it('commits a step once: a second commit at the same index returns the first output', () => {
    const journal = openSqliteJournal({ path: temporaryDatabase() });
    journal.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    journal.commitStep(modelStep('r1', 0, 'original'));
    const second = journal.commitStep(modelStep('r1', 0, 'duplicate'));
    expect(second.output).toEqual({ text: 'original' });
    expect(journal.listSteps('r1')).toHaveLength(1);
    journal.close();
  });

  it('writes the final result only while the run is pending', () => {
    const journal = openSqliteJournal({ path: temporaryDatabase() });
    journal.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    expect(journal.finishRun('r1', { status: 'completed', stopReason: 'final-answer', output: 'done' })).toBe(true);
    expect(journal.finishRun('r1', { status: 'failed', stopReason: 'x', output: 'other' })).toBe(false);
    expect(journal.getRun('r1')).toMatchObject({ status: 'completed', output: 'done', stopReason: 'final-answer' });
    journal.close();
  });

  it('counts model steps without a price as unpriced, not as free', () => {
    const journal = openSqliteJournal({ path: temporaryDatabase() });
    journal.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    journal.commitStep({ ...modelStep('r1', 0, 'a'), costUsd: undefined });
    journal.commitStep(modelStep('r1', 1, 'b'));
    expect(journal.totals('r1')).toMatchObject({ costUsd: 0.001, unpricedModelCalls: 1 });
    journal.close();
  });

  it('refuses a journal written by a newer schema version, with a clear message', () => {
    const path = temporaryDatabase();
    openSqliteJournal({ path }).close();
    const database = new Database(path);
    database.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    database.close();
    expect(() => openSqliteJournal({ path })).toThrow(JournalError);
    expect(() => openSqliteJournal({ path })).toThrow(/schema version 999, newer than this Hataraku/);
  });

  it('lists runs newest first and filters by status', () => {
    let clock = 1000;
    const journal = openSqliteJournal({ path: temporaryDatabase(), now: () => clock++ });
    for (const id of ['a', 'b', 'c']) journal.createRun({ id, agentName: 'x', model: 'm', input: 'i', spec: null });
    journal.finishRun('b', { status: 'completed', stopReason: 'final-answer', output: null });
    expect(journal.listRuns().map((run) => run.id)).toEqual(['c', 'b', 'a']);
    expect(journal.listRuns({ status: 'completed' }).map((run) => run.id)).toEqual(['b']);
    journal.close();
  });

  it('commits steps at once (visible to another connection) and keeps synchronous=NORMAL between durable writes', () => {
    const path = temporaryDatabase();
    const journal = openSqliteJournal({ path });
    journal.createRun({ id: 'r1', agentName: 'a', model: 'm', input: 'x', spec: null });
    journal.commitStep(modelStep('r1', 0, 'fast'));
    journal.commitStep(modelStep('r1', 1, 'durable'), { durable: true });
    journal.sync();
    const reader = new Database(path, { readonly: true });
    expect((reader.prepare('SELECT COUNT(*) AS n FROM steps').get() as { n: number }).n).toBe(2);
    reader.close();
    journal.close();
  });
});
