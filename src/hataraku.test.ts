import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from './agent/agent.js';
import { createConcurrencyGate } from './agent/concurrency-gate.js';
import { loadConfig } from './config/load-config.js';
import {
  createTestDatabase,
  postgresSkipReason,
  psql,
  testDatabaseUrl,
} from './engine/postgres/__fixtures__/test-database.js';
import { openSqliteEngine } from './engine/sqlite/sqlite-engine.js';
import { createHataraku } from './hataraku.js';
import { createScriptedModel, type Script } from './models/scripted/scripted-model.js';
import { tool } from './tools/define-tool.js';

function setup() {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-instance-'));
  const config = loadConfig({ cwd, env: {} });
  return { cwd, config };
}

const echo = tool({
  name: 'echo',
  description: 'Echo.',
  input: z.object({ text: z.string() }),
  execute: ({ text }) => text,
});

function scripted(delayMs: number, label: string): Script {
  return {
    turns: [
      { toolCalls: [{ name: 'echo', arguments: { text: label } }], delayMs },
      { text: `done ${label}`, delayMs },
    ],
  };
}

describe('a Hataraku instance', () => {
  it('runs many runs at once under its limit, and a slow run does not hold up the others', async () => {
    const { cwd, config } = setup();
    const hataraku = createHataraku({ cwd, config, maxConcurrentRuns: 2 });
    const finished: string[] = [];
    const start = (label: string, delayMs: number) =>
      hataraku
        .run(
          agent({
            name: label,
            instructions: '',
            model: createScriptedModel({ script: scripted(delayMs, label) }),
            tools: [echo],
          }),
          'go',
        )
        .result.then((result) => {
          finished.push(label);
          return result;
        });
    const results = await Promise.all([start('slow', 150), start('fast-1', 0), start('fast-2', 0), start('fast-3', 0)]);
    expect(results.every((result) => result.status === 'completed')).toBe(true);
    expect(finished.at(-1)).toBe('slow');
    await hataraku.close();
  });

  it('recovers the runs whose owner stopped renewing its lease, and each only once', async () => {
    const { cwd, config } = setup();
    const script = scripted(0, 'recovered');
    // A process that started a run, committed its first step, then hung: its lease runs out.
    const stalled = openSqliteEngine({ path: config.journal.path, executorId: 'stalled', leaseMs: 40, heartbeatMs: 0 });
    await stalled.createRun({ id: 'run_stalled', agentName: 'echoer', model: 'scripted:x', input: 'go', spec: null });
    const firstTurn = await createScriptedModel({ script }).stream({ messages: [{ role: 'user', content: 'go' }] });
    expect(firstTurn).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 60));

    const rescuer = createHataraku({ cwd, config });
    const other = createHataraku({ cwd, config });
    const worker = () =>
      agent({ name: 'echoer', instructions: '', model: createScriptedModel({ script }), tools: [echo] });
    const [first, second] = await Promise.all([
      rescuer.recover({ agentFor: () => worker() }),
      other.recover({ agentFor: () => worker() }),
    ]);
    const completed = [...first.results, ...second.results].filter((result) => result.status === 'completed');
    expect(completed.map((result) => result.runId)).toEqual(['run_stalled']);
    expect(completed[0]?.output).toBe('done recovered');
    const late = {
      runId: 'run_stalled',
      name: 'model',
      kind: 'model' as const,
      requestDigest: 'x',
      output: 'late',
      model: undefined,
      usage: undefined,
      costUsd: undefined,
      startedAt: 0,
      finishedAt: 0,
    };
    // The stalled process wakes up: a step the rescuer committed keeps the rescuer's output...
    expect((await stalled.commitStep({ ...late, index: 0 })).output).not.toBe('late');
    // ...and it can commit nothing new to a run it no longer owns.
    await expect(stalled.commitStep({ ...late, index: 9 })).rejects.toThrow(/no longer owns the run/);
    await stalled.close();
    await rescuer.close();
    await other.close();
  });

  it('skips runs it has no agent for, and says why', async () => {
    const { cwd, config } = setup();
    const engine = openSqliteEngine({ path: config.journal.path, executorId: 'gone', leaseMs: 1, heartbeatMs: 0 });
    await engine.createRun({
      id: 'run_orphan',
      agentName: 'unknown-agent',
      model: 'scripted:x',
      input: 'go',
      spec: null,
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const hataraku = createHataraku({ cwd, config });
    const report = await hataraku.recover({ agentFor: () => undefined });
    expect(report.skipped).toEqual([{ runId: 'run_orphan', reason: 'no agent named unknown-agent' }]);
    await engine.close();
    await hataraku.close();
  });
});

describe('createConcurrencyGate', () => {
  it('admits at most the limit and the rest in order of arrival', async () => {
    const gate = createConcurrencyGate(2);
    const order: number[] = [];
    const releases = await Promise.all([gate.acquire(), gate.acquire()]);
    const third = gate.acquire().then((release) => {
      order.push(3);
      return release;
    });
    const fourth = gate.acquire().then((release) => {
      order.push(4);
      return release;
    });
    expect(gate.active).toBe(2);
    expect(gate.waiting).toBe(2);
    releases[0]?.();
    releases[0]?.(); // releasing twice gives back one slot only
    (await third)();
    releases[1]?.();
    (await fourth)();
    expect(order).toEqual([3, 4]);
    expect(gate.active).toBe(0);
  });
});

describe.skipIf(!testDatabaseUrl)('a Hataraku instance on a PostgreSQL journal', () => {
  it('uses the database HATARAKU_DATABASE_URL names, and another instance resumes its run', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-instance-'));
    const url = createTestDatabase('instance');
    const first = createHataraku({ cwd, env: { HATARAKU_DATABASE_URL: url } });
    const echoAgent = (label: string) =>
      agent({
        name: label,
        instructions: '',
        model: createScriptedModel({ script: scripted(0, label) }),
        tools: [echo],
      });
    const result = await first.run(echoAgent('pg'), 'go', { runId: 'run_on_postgres' }).result;
    expect(result).toMatchObject({ status: 'completed', output: 'done pg' });
    await first.close();
    // Nothing was written to the SQLite file: the run is in PostgreSQL, for any instance to read.
    expect(psql(url, "SELECT status FROM runs WHERE id = 'run_on_postgres'").trim()).toBe('completed');
    const second = createHataraku({
      cwd: mkdtempSync(join(tmpdir(), 'hataraku-instance-')),
      env: { HATARAKU_DATABASE_URL: url },
    });
    expect((await second.resume(echoAgent('pg'), 'run_on_postgres').result).output).toBe('done pg');
    expect((await second.engine.listSteps('run_on_postgres')).map((step) => step.name)).toEqual([
      'model',
      'tool:echo',
      'model',
    ]);
    await second.close();
  });
});
if (!testDatabaseUrl) {
  describe('a Hataraku instance on a PostgreSQL journal', () => {
    it.skip(postgresSkipReason, () => {});
  });
}

describe('fault points', () => {
  const dist = new URL('../dist/hataraku.js', import.meta.url).pathname;
  it.skipIf(!existsSync(dist))('are never armed from the environment (only by the fault suite, explicitly)', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-no-faults-'));
    const script = `
      import { createHataraku } from ${JSON.stringify(dist)};
      import { agent } from ${JSON.stringify(new URL('../dist/agent/agent.js', import.meta.url).pathname)};
      import { createScriptedModel } from ${JSON.stringify(new URL('../dist/models/scripted/scripted-model.js', import.meta.url).pathname)};
      const hataraku = createHataraku({ cwd: ${JSON.stringify(cwd)} });
      const model = createScriptedModel({ script: { turns: [{ text: 'still alive' }] } });
      const result = await hataraku.run(agent({ name: 'a', instructions: '', model }), 'go').result;
      await hataraku.close();
      process.stdout.write(String(result.output));`;
    // Armed, this would SIGKILL the process before the first step.
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, HATARAKU_FAULTS: 'before-step-body@1' },
    });
    expect(child.signal).toBeNull();
    expect(child.stdout).toBe('still alive');
  });
});
