/**
 * The model-call cache in PostgreSQL, shared by every worker: the same contract as the SQLite
 * store, against a real database. Needs `HATARAKU_TEST_DATABASE_URL`; skipped without it.
 */
import { describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  postgresSkipReason,
  psql,
  testDatabaseUrl,
} from '../engine/postgres/__fixtures__/test-database.js';
import type { CachedModelCall } from './model-call-cache.js';
import { openPostgresModelCallCache } from './postgres-model-call-cache.js';

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

describe.skipIf(!testDatabaseUrl)('openPostgresModelCallCache', () => {
  it('shares entries between workers: what one stores, another reads', async () => {
    const url = createTestDatabase('cache-shared');
    const first = openPostgresModelCallCache({ url });
    const second = openPostgresModelCallCache({ url });
    try {
      await first.put(entry('k1', 'acme', 1_000, 2_000));
      expect(await second.get('k1', 1_500)).toEqual(entry('k1', 'acme', 1_000, 2_000));
      expect(await second.get('missing', 1_500)).toBeUndefined();
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('does not serve an expired entry, replaces by key, and clears by tenant', async () => {
    const cache = openPostgresModelCallCache({ url: createTestDatabase('cache-contract') });
    try {
      await cache.put(entry('old', undefined, 0, 100));
      await cache.put(entry('new', undefined, 0, 1_000));
      expect(await cache.get('old', 99)).toBeDefined();
      expect(await cache.get('old', 100)).toBeUndefined();
      expect(await cache.deleteExpired(500)).toBe(1);
      await cache.put({ ...entry('new', undefined, 50, 2_000), model: 'openai:gpt-4o' });
      expect(await cache.get('new', 600)).toMatchObject({ model: 'openai:gpt-4o', createdAt: 50 });
      await cache.put(entry('a', 'acme', 60, 2_000));
      await cache.put(entry('b', 'globex', 60, 2_000));
      expect(await cache.clear('acme')).toBe(1);
      expect(await cache.clear(null)).toBe(1);
      expect(await cache.get('b', 600)).toMatchObject({ tenant: 'globex' });
      expect(await cache.clear()).toBe(1);
    } finally {
      await cache.close();
    }
  });

  it('treats a damaged entry as a miss and removes it', async () => {
    const url = createTestDatabase('cache-damaged');
    const cache = openPostgresModelCallCache({ url });
    try {
      await cache.put(entry('k', undefined, 0, 100));
      psql(url, `UPDATE model_cache SET response = '{"version":1,"text":' WHERE key = 'k'`);
      expect(await cache.get('k', 1)).toBeUndefined();
      expect(psql(url, 'SELECT count(*) FROM model_cache').trim()).toBe('0');
    } finally {
      await cache.close();
    }
  });
});
if (!testDatabaseUrl) {
  describe('openPostgresModelCallCache', () => {
    it.skip(postgresSkipReason, () => {});
  });
}
