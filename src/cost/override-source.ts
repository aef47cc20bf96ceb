/**
 * Per-model prices from configuration, consulted before the bundled catalog. Keyed by the full
 * model name (`ollama:qwen2.5:7b`, `openai:ft:gpt-4o-mini:acme::abc123`), so a fine-tune, a
 * local model or a model the catalog gets wrong can be priced exactly.
 */

import { modelLabel } from '../models/model-label.js';
import { type SelfHostedCost, selfHostedPrice } from './cost.js';
import type { ModelPrice, PriceSource } from './price-source.js';

/** Rates given directly, in USD per million tokens. */
export interface TokenPriceOverride {
  inputPerMillion: number;
  outputPerMillion: number;
  cachedInputPerMillion?: number;
  cacheWritePerMillion?: number;
}

/** A price override: token rates, or the cost of a self-hosted GPU and its throughput. */
export type PriceOverride = TokenPriceOverride | SelfHostedCost;

/**
 * Create a source that answers from `overrides`, keyed by `provider:modelId`. Overrides are
 * flat: they ignore the call's size and time.
 */
export function createOverridePriceSource(overrides: Readonly<Record<string, PriceOverride>>): PriceSource {
  const prices = new Map<string, ModelPrice>();
  for (const [modelName, override] of Object.entries(overrides)) {
    const source = `config prices[${JSON.stringify(modelName)}]`;
    if ('usdPerGpuHour' in override) {
      const price = selfHostedPrice(override);
      prices.set(modelName, { ...price, source: `${source} (${price.source})` });
    } else {
      prices.set(modelName, { ...override, source });
    }
  }
  return {
    lookup(provider, modelId) {
      return prices.get(modelLabel({ provider, modelId }));
    },
  };
}
