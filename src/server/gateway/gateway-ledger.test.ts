/** Gateway calls recorded in the ledger, on a real SQLite journal. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteEngine } from '../../engine/sqlite/sqlite-engine.js';
import { createGatewayRecorder, type GatewayCall } from './gateway-ledger.js';

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

describe('the gateway recorder', () => {
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

  it('writes on its own after the flush interval', async () => {
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-gw-')), 'hataraku.db') });
    const recorder = createGatewayRecorder({ engine: () => engine, flushIntervalMs: 5, log: () => {} });
    recorder.record(call(1, 'acme'));
    await expect.poll(async () => (await engine.listRuns()).length).toBe(1);
    await recorder.close();
    await engine.close();
  });
});
