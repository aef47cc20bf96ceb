/**
 * A `PriceSource` backed by the price catalog bundled in `@pydantic/genai-prices`.
 *
 * The catalog's rates can depend on the time of the call (price changes, off-peak discounts)
 * and on its size: a tiered rate applies to every token of a call once the call's total input
 * tokens pass the tier's start. `lookup` resolves both for the query it is given and returns
 * flat rates, so that `costOfUsage` stays the one place where token counts become dollars.
 *
 * Only text-token rates are used. Catalog rates for audio, images, web searches and the
 * one-hour cache-write variant have no counterpart in `Usage` and are left out; cache writes
 * are priced at the catalog's default (five-minute) cache-write rate.
 */
import { createRequire } from 'node:module';
import type { ModelPrice, PriceQuery, PriceSource } from './price-source.js';

/**
 * Our provider ids mapped to the catalog's. Providers that run models on hardware you pay for
 * yourself (ollama, llamacpp, vllm) have no catalog entry; price them with config overrides.
 */
export const genaiPricesProviderIds: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  deepseek: 'deepseek',
  groq: 'groq',
  openrouter: 'openrouter',
};

export interface GenaiPricesSourceOptions {
  /**
   * Extra or replacement mappings from our provider ids to catalog provider ids, e.g.
   * `{ 'my-openai-proxy': 'openai' }` for a custom endpoint that serves OpenAI's models at
   * OpenAI's prices.
   */
  providerIds?: Readonly<Record<string, string>>;
}

/** The shape of a tiered rate in the catalog data (a plain object or a `TieredPrices`). */
interface TieredRate {
  base: number;
  tiers: ReadonlyArray<{ start: number; price: number }>;
}

/**
 * The catalog is loaded on the first lookup: it takes about 100 ms, which a process that never
 * prices a call (listing runs, say) should not pay. Its CommonJS build is required because
 * `lookup` is synchronous.
 */
const require = createRequire(import.meta.url);
let loadedCatalog: typeof import('@pydantic/genai-prices') | undefined;
function catalog(): typeof import('@pydantic/genai-prices') {
  loadedCatalog ??= require('@pydantic/genai-prices') as typeof import('@pydantic/genai-prices');
  return loadedCatalog;
}

/** Create a price source over the bundled catalog. */
export function createGenaiPricesSource(options: GenaiPricesSourceOptions = {}): PriceSource {
  const providerIds = { ...genaiPricesProviderIds, ...options.providerIds };
  return {
    lookup(provider: string, modelId: string, query: PriceQuery = {}): ModelPrice | undefined {
      const catalogProviderId = providerIds[provider];
      if (catalogProviderId === undefined) return undefined;
      const inputTokens = query.inputTokens ?? 0;
      if (!Number.isFinite(inputTokens) || inputTokens < 0) {
        throw new RangeError(`query.inputTokens must be a finite non-negative number (got ${inputTokens})`);
      }
      // An empty usage still makes the library pick the model and the dated price entry; the
      // dollar figures it computes are not used.
      const calculation = catalog().calcPrice({}, modelId, {
        providerId: catalogProviderId,
        ...(query.at === undefined ? {} : { timestamp: query.at }),
      });
      if (calculation === null) return undefined;
      const rates = calculation.model_price;
      const inputPerMillion = resolveRate(rates.input_mtok, inputTokens);
      const outputPerMillion = resolveRate(rates.output_mtok, inputTokens);
      // A model without both text rates (audio or image models) cannot be priced from Usage.
      if (inputPerMillion === undefined || outputPerMillion === undefined) return undefined;
      const cachedInputPerMillion = resolveRate(rates.cache_read_mtok, inputTokens);
      const cacheWritePerMillion = resolveRate(rates.cache_write_mtok, inputTokens);
      return {
        inputPerMillion,
        outputPerMillion,
        ...(cachedInputPerMillion === undefined ? {} : { cachedInputPerMillion }),
        ...(cacheWritePerMillion === undefined ? {} : { cacheWritePerMillion }),
        source: `genai-prices catalog: ${calculation.provider.name} ${calculation.model.id}`,
      };
    },
  };
}

/**
 * The rate that applies to a call with `inputTokens` total input tokens. Mirrors the catalog's
 * rule: the last tier whose start the input count strictly exceeds wins, for the whole call.
 */
function resolveRate(rate: unknown, inputTokens: number): number | undefined {
  if (typeof rate === 'number') return rate;
  if (!isTieredRate(rate)) return undefined;
  let resolved = rate.base;
  for (const tier of [...rate.tiers].sort((left, right) => left.start - right.start)) {
    if (inputTokens > tier.start) resolved = tier.price;
  }
  return resolved;
}

function isTieredRate(rate: unknown): rate is TieredRate {
  return typeof rate === 'object' && rate !== null && 'base' in rate && 'tiers' in rate && Array.isArray(rate.tiers);
}
