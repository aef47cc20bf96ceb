import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { costOfUsage } from '../cost/cost.js';
import { collectResponse } from '../models/collect-response.js';
import { createScriptedModel, type Script } from '../models/scripted/scripted-model.js';
import type { ModelRequest, ModelResponse } from '../models/spec.js';
import { cacheHitPriceSource } from './cache-hit-price.js';
import { createCachedModel } from './cached-model.js';
import { openSqliteModelCallCache, type SqliteModelCallCache } from './sqlite-model-call-cache.js';

const stores: SqliteModelCallCache[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function memoryStore(): SqliteModelCallCache {
  const store = openSqliteModelCallCache({ path: ':memory:' });
  stores.push(store);
  return store;
}

const answer: Script = {
  turns: [
    {
      text: 'Checking the weather.',
      toolCalls: [{ id: 'call_7', name: 'get_weather', arguments: { city: 'Oslo' } }],
      usage: { inputTokens: 1200, outputTokens: 80 },
    },
  ],
};

const deterministic: ModelRequest = { messages: [{ role: 'user', content: 'Weather in Oslo?' }], temperature: 0 };

function clock(start = 1_000_000) {
  let time = start;
  return { now: () => time, advance: (milliseconds: number) => (time += milliseconds) };
}

function withoutRouting(response: ModelResponse) {
  const { routing: _routing, usage: _usage, usageByModel: _usageByModel, ...rest } = response;
  return rest;
}

describe('createCachedModel', () => {
  it('calls the model on a miss and replays the stored answer on a hit, at no cost', async () => {
    const model = createScriptedModel({ script: answer, modelId: 'mini' });
    const time = clock();
    const cached = createCachedModel({ model, store: memoryStore(), ttlMs: 60_000, now: time.now });
    expect(cached).toMatchObject({ provider: 'scripted', modelId: 'mini' });

    const miss = await collectResponse(cached, deterministic);
    expect(model.requests).toHaveLength(1);
    expect(miss.routing).toEqual([]);
    expect(miss.usageByModel).toEqual([
      { model: 'scripted:mini', usage: expect.objectContaining({ inputTokens: 1200, outputTokens: 80 }) },
    ]);

    time.advance(42_000);
    const hit = await collectResponse(cached, deterministic);
    expect(model.requests).toHaveLength(1);
    expect(withoutRouting(hit)).toEqual(withoutRouting(miss));
    expect(hit.toolCalls).toEqual([
      { type: 'tool-call', id: 'call_7', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ]);
    expect(hit.routing).toEqual([
      {
        model: 'cache:hit',
        reason: 'cache hit: saved a call to scripted:mini (1200 input and 80 output tokens), cached 42 s ago',
      },
    ]);
    expect(hit.usageByModel).toEqual([{ model: 'cache:hit', usage: { inputTokens: 0, outputTokens: 0 } }]);
    const [hitUsage] = hit.usageByModel;
    expect(costOfUsage(cacheHitPriceSource.lookup('cache', 'hit'), hitUsage?.usage ?? miss.usage).usd).toBe(0);
    expect(cacheHitPriceSource.lookup('scripted', 'mini')).toBeUndefined();
  });

  it('stops serving an entry once its TTL has passed', async () => {
    const model = createScriptedModel({ script: answer, modelId: 'mini' });
    const time = clock();
    const cached = createCachedModel({ model, store: memoryStore(), ttlMs: 1_000, now: time.now });
    await collectResponse(cached, deterministic);
    time.advance(999);
    await collectResponse(cached, deterministic);
    expect(model.requests).toHaveLength(1);
    time.advance(1);
    await collectResponse(cached, deterministic);
    expect(model.requests).toHaveLength(2);
  });

  it('never serves one tenant another tenant’s answer', async () => {
    const store = memoryStore();
    const model = createScriptedModel({ script: answer, modelId: 'mini' });
    const acme = createCachedModel({ model, store, tenant: 'acme', ttlMs: 60_000 });
    const globex = createCachedModel({ model, store, tenant: 'globex', ttlMs: 60_000 });
    await collectResponse(acme, deterministic);
    await collectResponse(globex, deterministic);
    expect(model.requests).toHaveLength(2);
    await collectResponse(acme, deterministic);
    await collectResponse(globex, deterministic);
    expect(model.requests).toHaveLength(2);
  });

  it('caches only temperature-0 requests unless asked to cache every request', async () => {
    const model = createScriptedModel({ script: answer, modelId: 'mini' });
    const store = memoryStore();
    const deterministicOnly = createCachedModel({ model, store, ttlMs: 60_000 });
    for (const temperature of [0.7, 0.7, undefined, undefined]) {
      const request: ModelRequest = { messages: deterministic.messages };
      if (temperature !== undefined) request.temperature = temperature;
      await collectResponse(deterministicOnly, request);
    }
    expect(model.requests).toHaveLength(4);
    expect(await store.clear()).toBe(0);

    const always = createCachedModel({ model, store, ttlMs: 60_000, mode: 'always' });
    await collectResponse(always, { ...deterministic, temperature: 0.7 });
    await collectResponse(always, { ...deterministic, temperature: 0.7 });
    expect(model.requests).toHaveLength(5);
  });

  it('misses for a different request', async () => {
    const model = createScriptedModel({ script: answer, modelId: 'mini' });
    const cached = createCachedModel({ model, store: memoryStore(), ttlMs: 60_000 });
    await collectResponse(cached, deterministic);
    await collectResponse(cached, { ...deterministic, messages: [{ role: 'user', content: 'Weather in Bergen?' }] });
    await collectResponse(cached, { ...deterministic, maxOutputTokens: 10 });
    expect(model.requests).toHaveLength(3);
  });

  it('does not store an answer that finished with an error', async () => {
    const model = createScriptedModel({
      script: { turns: [{ text: 'partial', finishReason: 'error' }] },
      modelId: 'mini',
    });
    const store = memoryStore();
    const cached = createCachedModel({ model, store, ttlMs: 60_000 });
    await collectResponse(cached, deterministic);
    await collectResponse(cached, deterministic);
    expect(model.requests).toHaveLength(2);
  });

  it('turns a store that cannot be used into warnings and calls the model', async () => {
    const database = new Database(':memory:');
    const store = openSqliteModelCallCache({ database });
    database.close();
    const model = createScriptedModel({ script: answer, modelId: 'mini' });
    const response = await collectResponse(createCachedModel({ model, store, ttlMs: 60_000 }), deterministic);
    expect(response.text).toBe('Checking the weather.');
    expect(response.warnings.map((warning) => warning.message)).toEqual([
      expect.stringMatching(/^the model-call cache could not be read \(.*\); calling scripted:mini$/),
      expect.stringMatching(/^the answer of scripted:mini could not be cached/),
    ]);
  });

  it('keeps the wrapped model’s routesTo and names its options when they are wrong', () => {
    const model = createScriptedModel({ script: answer, modelId: 'mini' });
    const store = memoryStore();
    const route = { ...model, routesTo: ['openai:gpt-4o-mini', 'openai:gpt-4o'] };
    expect(createCachedModel({ model: route, store, ttlMs: 1 }).routesTo).toEqual([
      'openai:gpt-4o-mini',
      'openai:gpt-4o',
    ]);
    expect(() => createCachedModel({ model, store, ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => createCachedModel({ model, store, ttlMs: 1, mode: 'sometimes' as never })).toThrow(/mode/);
  });
});
