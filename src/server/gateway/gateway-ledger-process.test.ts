/**
 * Gateway calls reach the ledger from `hataraku serve` as a real process (the build, whose
 * recorder writes from a worker thread): every call answered before the server is stopped with
 * SIGTERM is in the journal afterwards, priced, under the key's tenant.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtCli, startServeProcess } from '../../cli/__fixtures__/serve-process.js';
import { openSqliteEngine } from '../../engine/sqlite/sqlite-engine.js';
import { type FakeOpenAIServer, startFakeOpenAIServer, streamReply } from '../../models/openai/fake-openai-server.js';

const textStream = readFileSync(new URL('../../models/openai/__fixtures__/text-stream.txt', import.meta.url), 'utf8');
const children: ChildProcess[] = [];
let upstream: FakeOpenAIServer | undefined;

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await upstream?.close();
  upstream = undefined;
});

describe('hataraku serve recording gateway calls', () => {
  it('has every answered call in the ledger once stopped with SIGTERM', async () => {
    const calls = 24;
    upstream = await startFakeOpenAIServer(Array.from({ length: calls }, () => streamReply(textStream)));
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-gateway-ledger-'));
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        providers: { up: { type: 'openai', baseURL: upstream.baseURL, apiKeyEnv: 'UP_KEY', maxRetries: 0 } },
        prices: { 'up:gpt-4o-mini': { inputPerMillion: 1000, outputPerMillion: 1000 } },
      }),
    );
    const environment = { ...process.env, NO_COLOR: '1', UP_KEY: 'sk-test' };
    const created = spawnSync(process.execPath, [builtCli, 'keys', 'create', 'app', '--tenant', 'acme', '--json'], {
      cwd,
      env: environment,
      encoding: 'utf8',
    });
    expect(created.status).toBe(0);
    const secret = (JSON.parse(created.stdout) as { secret: string }).secret;
    const { child, url, output } = await startServeProcess(cwd, { env: environment, timeoutMs: 20_000 });
    children.push(child);
    const costs: number[] = [];
    await Promise.all(
      Array.from({ length: calls }, async () => {
        const response = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'up:gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] }),
        });
        expect(response.status).toBe(200);
        costs.push(Number(response.headers.get('x-hataraku-cost-usd')));
        await response.text();
      }),
    );
    // Stopped at once: the calls are still queued for the ledger (written every 100 ms).
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).not.toMatch(/could not record/);

    const engine = openSqliteEngine({ path: join(cwd, '.hataraku', 'hataraku.db') });
    const byTenant = await engine.costReport({ by: 'tenant' });
    expect(byTenant.map((row) => [row.key, row.calls])).toEqual([['acme', calls]]);
    const recorded = byTenant[0]?.costUsd ?? 0;
    expect(recorded).toBeCloseTo(
      costs.reduce((sum, cost) => sum + cost, 0),
      6,
    );
    await engine.close();
  });
});
