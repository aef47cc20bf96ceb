import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { costOfUsage } from './cost.js';
import { createGenaiPricesSource } from './genai-prices-source.js';

// Figures below are the bundled data of @pydantic/genai-prices 0.1.8 (the pinned version).
const source = createGenaiPricesSource();

describe('createGenaiPricesSource', () => {
  it('returns the catalog rates for gpt-4o-mini', () => {
    expect(source.lookup('openai', 'gpt-4o-mini')).toEqual({
      inputPerMillion: 0.15,
      outputPerMillion: 0.6,
      cachedInputPerMillion: 0.075,
      source: 'genai-prices catalog: OpenAI gpt-4o-mini',
    });
  });

  it('returns cache read and write rates for an Anthropic model', () => {
    const price = source.lookup('anthropic', 'claude-3-5-haiku-latest');
    expect(price).toMatchObject({
      inputPerMillion: 0.8,
      outputPerMillion: 4,
      cachedInputPerMillion: 0.08,
      cacheWritePerMillion: 1,
    });
  });

  it('matches dated model ids through the catalog patterns', () => {
    expect(source.lookup('anthropic', 'claude-sonnet-4-20250514')).toMatchObject({
      inputPerMillion: 3,
      outputPerMillion: 15,
      cachedInputPerMillion: 0.3,
      cacheWritePerMillion: 3.75,
    });
  });

  it('picks the long-context tier when the call passes its start', () => {
    expect(source.lookup('openai', 'gpt-5.4', { inputTokens: 1000 })).toMatchObject({
      inputPerMillion: 2.5,
      outputPerMillion: 15,
    });
    expect(source.lookup('openai', 'gpt-5.4', { inputTokens: 271_999 })).toMatchObject({ inputPerMillion: 2.5 });
    expect(source.lookup('openai', 'gpt-5.4', { inputTokens: 272_000 })).toMatchObject({
      inputPerMillion: 5,
      cachedInputPerMillion: 0.5,
      outputPerMillion: 22.5,
    });
  });

  it('applies time-of-day prices (DeepSeek off-peak)', () => {
    const peak = source.lookup('deepseek', 'deepseek-chat', { at: new Date('2026-03-02T12:00:00Z') });
    const offPeak = source.lookup('deepseek', 'deepseek-chat', { at: new Date('2026-03-02T20:00:00Z') });
    expect(peak).toMatchObject({ inputPerMillion: 0.27, outputPerMillion: 1.1, cachedInputPerMillion: 0.07 });
    expect(offPeak).toMatchObject({ inputPerMillion: 0.135, outputPerMillion: 0.55, cachedInputPerMillion: 0.035 });
  });

  it('prices groq and openrouter models under their own catalog providers', () => {
    expect(source.lookup('groq', 'llama-3.3-70b-versatile')).toMatchObject({
      inputPerMillion: 0.59,
      outputPerMillion: 0.79,
    });
    expect(source.lookup('openrouter', 'openai/gpt-4o-mini')).toMatchObject({
      inputPerMillion: 0.15,
      outputPerMillion: 0.6,
    });
  });

  it('has no price for self-hosted providers, unknown providers or unknown models', () => {
    expect(source.lookup('ollama', 'qwen2.5:7b')).toBeUndefined();
    expect(source.lookup('llamacpp', 'gpt-4o-mini')).toBeUndefined();
    expect(source.lookup('scripted', 'gpt-4o-mini')).toBeUndefined();
    expect(source.lookup('openai', 'no-such-model-xyz')).toBeUndefined();
  });

  it('maps extra provider ids onto catalog providers when asked', () => {
    const withProxy = createGenaiPricesSource({ providerIds: { 'openai-proxy': 'openai' } });
    expect(withProxy.lookup('openai-proxy', 'gpt-4o-mini')).toMatchObject({ inputPerMillion: 0.15 });
    expect(source.lookup('openai-proxy', 'gpt-4o-mini')).toBeUndefined();
  });

  it('rejects a negative input count as a programming error', () => {
    expect(() => source.lookup('openai', 'gpt-4o-mini', { inputTokens: -1 })).toThrow(RangeError);
  });

  it('agrees with the library’s own calculation, cache and tiers included', () => {
    const cases = [
      { provider: 'openai', modelId: 'gpt-4o-mini', input: 12_345, cacheRead: 4_000, cacheWrite: 0, output: 678 },
      {
        provider: 'anthropic',
        modelId: 'claude-3-5-haiku-latest',
        input: 4_740,
        cacheRead: 0,
        cacheWrite: 4_735,
        output: 255,
      },
      {
        provider: 'anthropic',
        modelId: 'claude-sonnet-4-0',
        input: 50_000,
        cacheRead: 30_000,
        cacheWrite: 10_000,
        output: 900,
      },
      { provider: 'openai', modelId: 'gpt-5.4', input: 300_000, cacheRead: 100_000, cacheWrite: 0, output: 2_000 },
    ];
    const at = new Date('2026-06-01T00:00:00Z');
    for (const entry of cases) {
      const expected = calcPrice(
        {
          input_tokens: entry.input,
          cache_read_tokens: entry.cacheRead,
          cache_write_tokens: entry.cacheWrite,
          output_tokens: entry.output,
        },
        entry.modelId,
        { providerId: entry.provider, timestamp: at },
      );
      const price = source.lookup(entry.provider, entry.modelId, { inputTokens: entry.input, at });
      const cost = costOfUsage(price, {
        inputTokens: entry.input,
        outputTokens: entry.output,
        cachedInputTokens: entry.cacheRead,
        cacheWriteTokens: entry.cacheWrite,
      });
      expect(expected).not.toBeNull();
      expect(cost.usd).toBeCloseTo(expected?.total_price ?? Number.NaN, 12);
    }
  });
});
