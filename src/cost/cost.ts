/**
 * Turning token counts into dollars. A cost that cannot be known (no price for the model, or a
 * provider that did not report token counts) is `undefined` with a reason, never 0: a budget
 * must not treat an unknown cost as free.
 */
import type { Usage } from '../models/spec.js';
import type { ModelPrice } from './price-source.js';

/** The cost of one model call. */
export interface UsageCost {
  /** Dollars, or undefined when the cost cannot be known. */
  usd: number | undefined;
  /** Why `usd` is undefined; absent when it is known. */
  unknownReason?: string;
}

/**
 * The dollar cost of `usage` at `price`.
 *
 * `usage.inputTokens` is the total prompt size and includes cached and cache-write tokens, so
 * those are taken out of the full-rate count and priced at their own rates. A price without a
 * cached-input rate charges cached tokens at the input rate, and one without a cache-write rate
 * charges cache writes at the input rate: for providers that do not discount or surcharge the
 * cache, that is what they bill.
 */
export function costOfUsage(price: ModelPrice | undefined, usage: Usage): UsageCost {
  if (price === undefined) {
    return unknown('no price is known for this model; add one under "prices" in hataraku.config.json');
  }
  const { inputTokens, outputTokens } = usage;
  const cachedInputTokens = usage.cachedInputTokens ?? 0;
  const cacheWriteTokens = usage.cacheWriteTokens ?? 0;
  if (inputTokens === undefined) return unknown('the provider did not report input token counts');
  if (outputTokens === undefined) return unknown('the provider did not report output token counts');
  for (const [name, count] of Object.entries({ inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens })) {
    if (!Number.isFinite(count) || count < 0) return unknown(`the provider reported an invalid ${name} (${count})`);
  }
  const uncachedInputTokens = inputTokens - cachedInputTokens - cacheWriteTokens;
  if (uncachedInputTokens < 0) {
    return unknown(
      `the provider reported more cached (${cachedInputTokens}) and cache-write (${cacheWriteTokens}) tokens than input tokens (${inputTokens})`,
    );
  }
  const microDollars =
    uncachedInputTokens * price.inputPerMillion +
    cachedInputTokens * (price.cachedInputPerMillion ?? price.inputPerMillion) +
    cacheWriteTokens * (price.cacheWritePerMillion ?? price.inputPerMillion) +
    outputTokens * price.outputPerMillion;
  return { usd: microDollars / 1_000_000 };
}

/** What a self-hosted model costs to run. */
export interface SelfHostedCost {
  /** What one hour of the GPU (or machine) serving the model costs, in USD. */
  usdPerGpuHour: number;
  /** Measured throughput of the deployment, in tokens per second. */
  tokensPerSecond: number;
}

/**
 * The per-token price of a model served on your own GPU: the hourly cost spread over the
 * tokens the GPU processes in an hour. Input and output tokens get the same price because the
 * figure is GPU time per token; measured as generation throughput, this overstates the price of
 * prompt tokens (which a GPU processes much faster), erring on the side of a budget.
 */
export function selfHostedPrice(cost: SelfHostedCost): ModelPrice {
  if (!Number.isFinite(cost.usdPerGpuHour) || cost.usdPerGpuHour < 0) {
    throw new RangeError(`usdPerGpuHour must be a finite non-negative number (got ${cost.usdPerGpuHour})`);
  }
  if (!Number.isFinite(cost.tokensPerSecond) || cost.tokensPerSecond <= 0) {
    throw new RangeError(`tokensPerSecond must be a finite positive number (got ${cost.tokensPerSecond})`);
  }
  const perMillion = (cost.usdPerGpuHour / (cost.tokensPerSecond * 3600)) * 1_000_000;
  return {
    inputPerMillion: perMillion,
    outputPerMillion: perMillion,
    source: `self-hosted: $${cost.usdPerGpuHour}/GPU-hour at ${cost.tokensPerSecond} tokens/s`,
  };
}

function unknown(reason: string): UsageCost {
  return { usd: undefined, unknownReason: reason };
}
