import { describe, expect, it } from 'vitest';
import { createGenaiPricesSource } from './genai-prices-source.js';
import { createOverridePriceSource } from './override-source.js';
import { chainPriceSources } from './price-source.js';

describe('createOverridePriceSource', () => {
  const overrides = createOverridePriceSource({
    'ollama:qwen2.5:7b': { inputPerMillion: 0, outputPerMillion: 0 },
    'openai:gpt-4o-mini': { inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: 0.5 },
    'vllm:llama': { usdPerGpuHour: 3.6, tokensPerSecond: 1000 },
  });

  it('answers by full model name, keeping colons in the model id', () => {
    expect(overrides.lookup('ollama', 'qwen2.5:7b')).toEqual({
      inputPerMillion: 0,
      outputPerMillion: 0,
      source: 'config prices["ollama:qwen2.5:7b"]',
    });
    expect(overrides.lookup('ollama', 'qwen2.5')).toBeUndefined();
    expect(overrides.lookup('openai', 'qwen2.5:7b')).toBeUndefined();
  });

  it('turns a self-hosted entry into per-token rates', () => {
    // $3.60 / (1000 tokens/s * 3600 s) = $1 per million tokens.
    expect(overrides.lookup('vllm', 'llama')).toMatchObject({ inputPerMillion: 1, outputPerMillion: 1 });
    expect(overrides.lookup('vllm', 'llama')?.source).toMatch(/^config prices\["vllm:llama"\] \(self-hosted/);
  });

  it('wins over the catalog when chained before it', () => {
    const prices = chainPriceSources(overrides, createGenaiPricesSource());
    expect(prices.lookup('openai', 'gpt-4o-mini')).toMatchObject({ inputPerMillion: 1, outputPerMillion: 2 });
    expect(prices.lookup('openai', 'gpt-4o')).toMatchObject({ source: 'genai-prices catalog: OpenAI gpt-4o' });
    expect(prices.lookup('ollama', 'llama3:8b')).toBeUndefined();
  });
});
