import { describe, expect, it } from 'vitest';
import { costOfUsage, selfHostedPrice } from './cost.js';
import type { ModelPrice } from './price-source.js';

const cachingPrice: ModelPrice = {
  inputPerMillion: 3,
  outputPerMillion: 15,
  cachedInputPerMillion: 0.3,
  cacheWritePerMillion: 3.75,
  source: 'test',
};
const plainPrice: ModelPrice = { inputPerMillion: 0.15, outputPerMillion: 0.6, source: 'test' };

describe('costOfUsage', () => {
  it('prices input and output at their rates', () => {
    expect(costOfUsage(plainPrice, { inputTokens: 1_000_000, outputTokens: 1_000_000 }).usd).toBeCloseTo(0.75, 12);
    expect(costOfUsage(plainPrice, { inputTokens: 2_000, outputTokens: 500 }).usd).toBeCloseTo(0.0006, 12);
  });

  it('takes cached and cache-write tokens out of the full-rate input count', () => {
    // 10k input = 6k uncached + 3k cached + 1k written; 1k output.
    const cost = costOfUsage(cachingPrice, {
      inputTokens: 10_000,
      outputTokens: 1_000,
      cachedInputTokens: 3_000,
      cacheWriteTokens: 1_000,
    });
    const expected = (6_000 * 3 + 3_000 * 0.3 + 1_000 * 3.75 + 1_000 * 15) / 1_000_000;
    expect(cost).toEqual({ usd: expect.closeTo(expected, 12) });
    expect(cost.unknownReason).toBeUndefined();
  });

  it('charges cache reads and writes at the input rate when the price has no cache rates', () => {
    const cost = costOfUsage(plainPrice, {
      inputTokens: 10_000,
      outputTokens: 0,
      cachedInputTokens: 4_000,
      cacheWriteTokens: 2_000,
    });
    expect(cost.usd).toBeCloseTo((10_000 * 0.15) / 1_000_000, 12);
  });

  it('is unknown, not zero, without a price', () => {
    const cost = costOfUsage(undefined, { inputTokens: 10, outputTokens: 10 });
    expect(cost.usd).toBeUndefined();
    expect(cost.unknownReason).toMatch(/no price is known/);
  });

  it('is unknown when the provider did not report token counts', () => {
    expect(costOfUsage(plainPrice, { inputTokens: undefined, outputTokens: 10 })).toEqual({
      usd: undefined,
      unknownReason: 'the provider did not report input token counts',
    });
    expect(costOfUsage(plainPrice, { inputTokens: 10, outputTokens: undefined })).toEqual({
      usd: undefined,
      unknownReason: 'the provider did not report output token counts',
    });
  });

  it('is unknown when cache counts exceed the input total', () => {
    const cost = costOfUsage(cachingPrice, {
      inputTokens: 100,
      outputTokens: 1,
      cachedInputTokens: 90,
      cacheWriteTokens: 20,
    });
    expect(cost.usd).toBeUndefined();
    expect(cost.unknownReason).toMatch(/more cached \(90\) and cache-write \(20\) tokens than input tokens \(100\)/);
  });

  it('is unknown for negative or non-finite counts', () => {
    expect(costOfUsage(plainPrice, { inputTokens: -5, outputTokens: 1 }).unknownReason).toMatch(/invalid inputTokens/);
    expect(costOfUsage(plainPrice, { inputTokens: 5, outputTokens: Number.NaN }).unknownReason).toMatch(
      /invalid outputTokens/,
    );
  });

  it('costs zero for a free model with known counts', () => {
    expect(
      costOfUsage({ inputPerMillion: 0, outputPerMillion: 0, source: 'test' }, { inputTokens: 9, outputTokens: 9 }),
    ).toEqual({
      usd: 0,
    });
  });
});

describe('selfHostedPrice', () => {
  it('spreads the GPU-hour cost over the tokens served in an hour, same rate for input and output', () => {
    // $2.50 / (1500 tokens/s * 3600 s) = $0.000000463 per token = $0.4630 per million.
    const price = selfHostedPrice({ usdPerGpuHour: 2.5, tokensPerSecond: 1500 });
    expect(price.inputPerMillion).toBeCloseTo(0.462963, 6);
    expect(price.outputPerMillion).toBe(price.inputPerMillion);
    expect(price.source).toBe('self-hosted: $2.5/GPU-hour at 1500 tokens/s');
    expect(costOfUsage(price, { inputTokens: 1_500 * 3600, outputTokens: 0 }).usd).toBeCloseTo(2.5, 9);
  });

  it('rejects a zero throughput or a negative hourly cost', () => {
    expect(() => selfHostedPrice({ usdPerGpuHour: 2, tokensPerSecond: 0 })).toThrow(/tokensPerSecond/);
    expect(() => selfHostedPrice({ usdPerGpuHour: -1, tokensPerSecond: 10 })).toThrow(/usdPerGpuHour/);
  });
});
