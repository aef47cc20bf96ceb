import { describe, expect, it } from 'vitest';
import { costOfUsage } from './cost.js';
import { createSelfHostedPriceSource, type MeasuredThroughput } from './self-hosted-source.js';

const measured: MeasuredThroughput = { device: 'cpu', inputTokensPerSecond: 400, outputTokensPerSecond: 20 };

describe('self-hosted price from measured throughput', () => {
  it('spreads the hourly price over the tokens processed in an hour, input and output apart', () => {
    const source = createSelfHostedPriceSource({
      usdPerCpuHour: 0.072,
      usdPerGpuHour: undefined,
      throughput: () => measured,
    });
    const price = source.lookup('local', 'qwen');
    // $0.072/h over 400 × 3600 input tokens = $0.05 per million; over 20 × 3600 output tokens = $1 per million.
    expect(price?.inputPerMillion).toBeCloseTo(0.05, 10);
    expect(price?.outputPerMillion).toBeCloseTo(1, 10);
    expect(price?.cachedInputPerMillion).toBe(0);
    expect(price?.source).toMatch(/self-hosted cpu: \$0\.072\/hour at 400\.0 input and 20\.0 output tokens\/s/);
    const cost = costOfUsage(price, { inputTokens: 1_000_000, outputTokens: 1_000_000, cachedInputTokens: 500_000 });
    expect(cost.usd).toBeCloseTo(0.025 + 1, 10);
  });

  it('uses the GPU-hour price for a model measured on a GPU', () => {
    const source = createSelfHostedPriceSource({
      usdPerCpuHour: 0.05,
      usdPerGpuHour: 3.6,
      throughput: () => ({ ...measured, device: 'gpu', outputTokensPerSecond: 1000 }),
    });
    expect(source.lookup('local', 'qwen')?.outputPerMillion).toBeCloseTo(1, 10);
  });

  it('has no price (so the cost is unknown, not zero) without an hourly price or a measurement', () => {
    const noRate = createSelfHostedPriceSource({
      usdPerCpuHour: undefined,
      usdPerGpuHour: 2,
      throughput: () => measured,
    });
    expect(noRate.lookup('local', 'qwen')).toBeUndefined();
    expect(costOfUsage(noRate.lookup('local', 'qwen'), { inputTokens: 10, outputTokens: 10 }).usd).toBeUndefined();
    const unmeasured = createSelfHostedPriceSource({
      usdPerCpuHour: 0.05,
      usdPerGpuHour: undefined,
      throughput: () => undefined,
    });
    expect(unmeasured.lookup('local', 'qwen')).toBeUndefined();
    const halfMeasured = createSelfHostedPriceSource({
      usdPerCpuHour: 0.05,
      usdPerGpuHour: undefined,
      throughput: () => ({ ...measured, outputTokensPerSecond: undefined }),
    });
    expect(halfMeasured.lookup('local', 'qwen')).toBeUndefined();
  });

  it('prices only its own provider', () => {
    const source = createSelfHostedPriceSource({
      usdPerCpuHour: 0.05,
      usdPerGpuHour: undefined,
      throughput: () => measured,
    });
    expect(source.lookup('ollama', 'qwen')).toBeUndefined();
  });
});
