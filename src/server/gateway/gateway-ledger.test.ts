/**
 * Gateway calls recorded in the ledger, on a real SQLite journal: from this thread (the sources),
 * and from the worker thread the build starts (its module is loaded from dist/, as
 * `hataraku serve` runs it).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteEngine } from '../../engine/sqlite/sqlite-engine.js';
import { createGatewayRecorder, type GatewayCall, recordGatewayCalls } from './gateway-ledger.js';
import { requireLedgerRoom } from './gateway-routes.js';

function call(index: number, tenant: string): GatewayCall {
  return {
    id: `gw_${String(index).padStart(4, '0')}`,
    model: 'up:gpt-test',
    tenant,
    keyName: 'app',
    requestText: `{"n":${index}}`,
    text: 'hi',
    toolCalls: [],
    usage: { inputTokens: 10, outputTokens: 2 },
    costUsd: 0.001,
    ledger: [{ model: 'up:gpt-test', usage: { inputTokens: 10, outputTokens: 2 }, costUsd: 0.001 }],
    startedAt: 1,
    finishedAt: 2,
  };
}

/** `createGatewayRecorder` from the build (dist/), where the ledger worker's module sits beside it. */
async function builtRecorderFactory(): Promise<typeof import('./gateway-ledger.js')['createGatewayRecorder']> {
  const built = new URL('../../../dist/server/gateway/gateway-ledger.js', import.meta.url);
  return ((await import(built.href)) as typeof import('./gateway-ledger.js')).createGatewayRecorder;
}

describe('the gateway recorder', () => {
  it('counts the bytes waiting to be written, refuses calls past its bound, and serves again once written', async () => {
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-gw-')), 'hataraku.db') });
    const lines: string[] = [];
    const recorder = createGatewayRecorder({
      engine: () => engine,
      flushIntervalMs: 60_000,
      maxBacklogBytes: 4096,
      log: (line) => lines.push(line),
    });
    expect(recorder.backlogBytes).toBe(0);
    recorder.record(call(0, 'acme'));
    const one = recorder.backlogBytes;
    expect(one).toBeGreaterThan(JSON.stringify(call(0, 'acme')).length);
    expect(() => requireLedgerRoom(recorder)).not.toThrow();
    for (let index = 1; recorder.backlogBytes <= 4096; index++) recorder.record(call(index, 'acme'));
    expect(() => requireLedgerRoom(recorder)).toThrow(
      expect.objectContaining({ status: 503, code: 'server_busy', headers: { 'retry-after': '1' } }),
    );
    expect(lines).toEqual([expect.stringMatching(/ledger's writer is 1 MiB behind: new gateway calls are refused/)]);
    await recorder.flush();
    expect(recorder.backlogBytes).toBe(0);
    expect(() => requireLedgerRoom(recorder)).not.toThrow();
    expect(lines.at(-1)).toMatch(/caught up/);
    const [row] = await engine.costReport({ by: 'tenant' });
    expect(row?.calls).toBeGreaterThan(3);
    await recorder.close();
    await engine.close();
  });

  it('writes queued calls as finished runs of the agent "gateway", per tenant, on flush', async () => {
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-gw-')), 'hataraku.db') });
    const recorder = createGatewayRecorder({ engine: () => engine, flushIntervalMs: 60_000, log: () => {} });
    for (let index = 0; index < 70; index++) recorder.record(call(index, index % 2 === 0 ? 'acme' : 'globex'));
    expect(await engine.listRuns()).toEqual([]);
    await recorder.flush();
    const byTenant = await engine.costReport({ by: 'tenant' });
    expect(byTenant.map((row) => [row.key, row.calls])).toEqual([
      ['acme', 35],
      ['globex', 35],
    ]);
    expect(await engine.getRun('gw_0007')).toMatchObject({
      agentName: 'gateway',
      status: 'completed',
      tenant: 'globex',
    });
    expect(await engine.recoverableRuns()).toEqual([]);
    await recorder.close();
    await engine.close();
  });

  it('writes a routed call with its routing decision and prompt, after the trip to the worker as JSON', async () => {
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-gw-')), 'hataraku.db') });
    const routed: GatewayCall = {
      ...call(1, 'acme'),
      model: 'route:math',
      requestText: JSON.stringify({ model: 'route:math', messages: [{ role: 'user', content: 'What is 2 + 2?' }] }),
      text: '#### 4',
      routing: [
        { model: 'up:cheap', reason: 'cascade: trying up:cheap (1 of 2)' },
        { model: 'up:strong', reason: 'cascade: escalating', rejectedAnswer: 'maybe 5' },
        { model: 'up:strong', reason: 'cascade: accepted' },
      ],
    };
    // What the worker receives: the batch as JSON text.
    await recordGatewayCalls(engine, JSON.parse(JSON.stringify([routed, call(2, 'acme')])) as GatewayCall[]);
    expect((await engine.getRun('gw_0001'))?.input).toBe('What is 2 + 2?');
    expect((await engine.listSteps('gw_0001'))[0]?.output).toEqual({
      text: '#### 4',
      toolCalls: [],
      routing: [
        { model: 'up:cheap', reason: 'cascade: trying up:cheap (1 of 2)' },
        { model: 'up:strong', reason: 'cascade: escalating', rejectedAnswer: 'maybe 5' },
        { model: 'up:strong', reason: 'cascade: accepted' },
      ],
    });
    // A call without routing keeps no prompt, as before.
    expect((await engine.getRun('gw_0002'))?.input).toBe('(an OpenAI-compatible gateway call)');
    expect((await engine.listSteps('gw_0002'))[0]?.output).toEqual({ text: 'hi', toolCalls: [] });
    await engine.close();
  });

  it('writes on its own after the flush interval', async () => {
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-gw-')), 'hataraku.db') });
    const recorder = createGatewayRecorder({ engine: () => engine, flushIntervalMs: 5, log: () => {} });
    recorder.record(call(1, 'acme'));
    await expect.poll(async () => (await engine.listRuns()).length).toBe(1);
    await recorder.close();
    await engine.close();
  });

  it('writes from a worker thread with its own connection when built, in order, and everything on close', async () => {
    const createBuiltRecorder = await builtRecorderFactory();
    const path = join(mkdtempSync(join(tmpdir(), 'hataraku-gw-')), 'hataraku.db');
    const engine = openSqliteEngine({ path });
    const logged: string[] = [];
    const recorder = createBuiltRecorder({
      engine: () => engine,
      sqlitePath: path,
      flushIntervalMs: 60_000,
      log: (line) => logged.push(line),
    });
    expect(recorder.writer).toBe('worker');
    for (let index = 0; index < 70; index++) recorder.record(call(index, index % 2 === 0 ? 'acme' : 'globex'));
    expect(await engine.listRuns()).toEqual([]);
    // The batch waits as JSON: its bytes are the backlog until the worker has written them.
    expect(recorder.backlogBytes).toBeGreaterThanOrEqual(70 * JSON.stringify(call(0, 'acme')).length);
    await recorder.flush();
    expect(recorder.backlogBytes).toBe(0);
    // Written by the other connection, read by this one.
    const byTenant = await engine.costReport({ by: 'tenant' });
    expect(byTenant.map((row) => [row.key, row.calls])).toEqual([
      ['acme', 35],
      ['globex', 35],
    ]);
    expect(await engine.getRun('gw_0008')).toMatchObject({ agentName: 'gateway', status: 'completed', tenant: 'acme' });
    // A call still queued when the server closes is written before the worker ends.
    recorder.record(call(100, 'acme'));
    await recorder.close();
    expect(await engine.getRun('gw_0100')).toMatchObject({ status: 'completed' });
    expect(await engine.spentUsd({ scope: 'tenant', key: 'acme', since: 0, limitUsd: 1 })).toBeCloseTo(0.036, 6);
    expect(await engine.recoverableRuns()).toEqual([]);
    expect(logged).toEqual([]);
    await engine.close();
  });

  it('writes the calls in this thread when the worker cannot open the journal, queued ones too', async () => {
    const createBuiltRecorder = await builtRecorderFactory();
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-gw-'));
    const engine = openSqliteEngine({ path: join(directory, 'hataraku.db') });
    const logged: string[] = [];
    // A directory is no SQLite file: the worker fails as it opens it.
    const recorder = createBuiltRecorder({
      engine: () => engine,
      sqlitePath: directory,
      flushIntervalMs: 60_000,
      log: (line) => logged.push(line),
    });
    // Recorded while the worker is still starting: queued as JSON for it.
    for (let index = 0; index < 3; index++) recorder.record(call(index, 'acme'));
    await recorder.flush();
    expect(recorder.backlogBytes).toBe(0);
    await expect.poll(() => recorder.writer).toBe('this thread');
    recorder.record(call(3, 'acme'));
    await recorder.close();
    const byTenant = await engine.costReport({ by: 'tenant' });
    expect(byTenant.map((row) => [row.key, row.calls])).toEqual([['acme', 4]]);
    expect(await engine.getRun('gw_0001')).toMatchObject({ agentName: 'gateway', status: 'completed', tenant: 'acme' });
    expect(logged.some((line) => line.includes('the ledger worker failed'))).toBe(true);
    await engine.close();
  });
});
