import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { CachedModelCall } from './model-call-cache.js';
import { openSqliteModelCallCache } from './sqlite-model-call-cache.js';

function entry(key: string, tenant: string | undefined, createdAt: number, expiresAt: number): CachedModelCall {
  return {
    key,
    tenant,
    model: 'openai:gpt-4o-mini',
    response: {
      version: 1,
      text: `answer ${key}`,
      toolCalls: [{ type: 'tool-call', id: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
      finishReason: 'tool-calls',
      warnings: [],
      usageByModel: [{ model: 'openai:gpt-4o-mini', usage: { inputTokens: 100, outputTokens: 20 } }],
    },
    createdAt,
    expiresAt,
  };
}

describe('openSqliteModelCallCache', () => {
  it('stores an entry in a file and reads it back after reopening', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hataraku-cache-')), 'nested', 'cache.db');
    const first = openSqliteModelCallCache({ path });
    await first.put(entry('k1', 'acme', 1_000, 2_000));
    first.close();
    const second = openSqliteModelCallCache({ path });
    expect(await second.get('k1', 1_500)).toEqual(entry('k1', 'acme', 1_000, 2_000));
    expect(await second.get('missing', 1_500)).toBeUndefined();
    second.close();
  });

  it('does not serve an expired entry, and removes expired ones', async () => {
    const cache = openSqliteModelCallCache({ path: ':memory:' });
    await cache.put(entry('old', undefined, 0, 100));
    await cache.put(entry('new', undefined, 0, 1_000));
    expect(await cache.get('old', 99)).toBeDefined();
    expect(await cache.get('old', 100)).toBeUndefined();
    expect(await cache.deleteExpired(500)).toBe(1);
    expect(await cache.get('new', 500)).toBeDefined();
    cache.close();
  });

  it('replaces an entry with the same key', async () => {
    const cache = openSqliteModelCallCache({ path: ':memory:' });
    await cache.put(entry('k', undefined, 0, 100));
    await cache.put({ ...entry('k', undefined, 50, 200), model: 'openai:gpt-4o' });
    expect(await cache.get('k', 150)).toMatchObject({ model: 'openai:gpt-4o', createdAt: 50 });
    cache.close();
  });

  it('clears one tenant, entries without a tenant, or everything', async () => {
    const cache = openSqliteModelCallCache({ path: ':memory:' });
    await cache.put(entry('a', 'acme', 0, 100));
    await cache.put(entry('b', 'globex', 0, 100));
    await cache.put(entry('c', undefined, 0, 100));
    expect(await cache.clear('acme')).toBe(1);
    expect(await cache.get('a', 1)).toBeUndefined();
    expect(await cache.clear(null)).toBe(1);
    expect(await cache.get('c', 1)).toBeUndefined();
    expect(await cache.get('b', 1)).toMatchObject({ tenant: 'globex' });
    expect(await cache.clear()).toBe(1);
    cache.close();
  });

  it('uses an open database without closing it, in a model_cache table', async () => {
    const database = new Database(':memory:');
    const cache = openSqliteModelCallCache({ database });
    await cache.put(entry('k', 'acme', 10, 20));
    cache.close();
    expect(database.open).toBe(true);
    expect(database.prepare('SELECT key, tenant, model, created_at, expires_at FROM model_cache').all()).toEqual([
      { key: 'k', tenant: 'acme', model: 'openai:gpt-4o-mini', created_at: 10, expires_at: 20 },
    ]);
    database.close();
  });

  it('treats a damaged entry as a miss and removes it', async () => {
    const database = new Database(':memory:');
    const cache = openSqliteModelCallCache({ database });
    await cache.put(entry('k', undefined, 0, 100));
    database.prepare('UPDATE model_cache SET response = \'{"version":1,"text":\' WHERE key = \'k\'').run();
    expect(await cache.get('k', 1)).toBeUndefined();
    expect(database.prepare('SELECT count(*) AS rows FROM model_cache').get()).toEqual({ rows: 0 });
    database.close();
  });
});
