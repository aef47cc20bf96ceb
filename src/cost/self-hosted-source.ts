/**
 * Prices for models run on this machine (`local:`), from what an hour of the machine costs
 * (`local.usdPerCpuHour` / `usdPerGpuHour` in config) and the throughput Hataraku measured for
 * the model here: an input token costs the hour's price over the prompt tokens processed in an
 * hour, an output token the same over generated tokens. Prompt tokens reused from the model's
 * cache took no compute and are priced at zero.
 *
 * No hourly price, or no measurement yet: no price, so the cost is unknown rather than zero.
 */
import type { PriceSource } from './price-source.js';

/** Measured tokens per second for one model (see `src/models/local/throughput-store.ts`). */
export interface MeasuredThroughput {
  device: 'cpu' | 'gpu';
  inputTokensPerSecond: number | undefined;
  outputTokensPerSecond: number | undefined;
}

export interface SelfHostedSourceOptions {
  /** Provider whose models this prices (default `local`). */
  provider?: string;
  usdPerCpuHour: number | undefined;
  usdPerGpuHour: number | undefined;
  throughput: (modelId: string) => MeasuredThroughput | undefined;
}

export function createSelfHostedPriceSource(options: SelfHostedSourceOptions): PriceSource {
  const provider = options.provider ?? 'local';
  return {
    lookup(candidate, modelId) {
      if (candidate !== provider) return undefined;
      const measured = options.throughput(modelId);
      if (!measured) return undefined;
      const usdPerHour = measured.device === 'gpu' ? options.usdPerGpuHour : options.usdPerCpuHour;
      const { inputTokensPerSecond, outputTokensPerSecond } = measured;
      if (usdPerHour === undefined || inputTokensPerSecond === undefined || outputTokensPerSecond === undefined) {
        return undefined;
      }
      const perMillion = (tokensPerSecond: number) => (usdPerHour / (tokensPerSecond * 3600)) * 1_000_000;
      return {
        inputPerMillion: perMillion(inputTokensPerSecond),
        outputPerMillion: perMillion(outputTokensPerSecond),
        cachedInputPerMillion: 0,
        source: `self-hosted ${measured.device}: $${usdPerHour}/hour at ${inputTokensPerSecond.toFixed(1)} input and ${outputTokensPerSecond.toFixed(1)} output tokens/s measured here`,
      };
    },
  };
}
