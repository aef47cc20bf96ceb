/**
 * The price contract: where the per-token rates for a model come from. Implementations are a
 * bundled table (`genai-prices-source.ts`), per-model overrides from config
 * (`override-source.ts`), and `chainPriceSources` to consult several in order.
 */

/**
 * Flat per-token rates for one model, in USD per million tokens. Rates that vary with the
 * size of the call or the time of day are already resolved for the query they were looked up
 * with (see `PriceQuery`).
 */
export type ModelPrice = {
  /** Uncached input tokens. */
  inputPerMillion: number;
  outputPerMillion: number;
  /** Input tokens read from the provider's prompt cache. Absent: priced at `inputPerMillion`. */
  cachedInputPerMillion?: number;
  /** Input tokens written to the provider's prompt cache. Absent: priced at `inputPerMillion`. */
  cacheWritePerMillion?: number;
  /** Where the figures came from, for display, e.g. `config prices["ollama:qwen2.5:7b"]`. */
  source: string;
};

/**
 * What a price depends on besides the model. Some providers charge a higher rate for every
 * token of a call whose prompt passes a threshold (e.g. 272k input tokens), and some charge
 * less at night; a source resolves those to the flat rates that apply to this call.
 */
export interface PriceQuery {
  /**
   * Total input tokens of the call (including cached and cache-write tokens), used to pick a
   * long-context tier. Omitted: the base tier, which understates the price of very long prompts.
   */
  inputTokens?: number | undefined;
  /** When the call was made; omitted: now. */
  at?: Date | undefined;
}

/** A table of model prices. Returns undefined when it has no price for the model. */
export interface PriceSource {
  lookup(provider: string, modelId: string, query?: PriceQuery): ModelPrice | undefined;
}

/** A source that asks each of `sources` in order and returns the first price found. */
export function chainPriceSources(...sources: PriceSource[]): PriceSource {
  return {
    lookup(provider, modelId, query) {
      for (const source of sources) {
        const price = source.lookup(provider, modelId, query);
        if (price !== undefined) return price;
      }
      return undefined;
    },
  };
}
