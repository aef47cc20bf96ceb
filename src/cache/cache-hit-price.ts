/**
 * The price of a cache hit. A hit reports its usage as zero tokens of the model `cache:hit`, so
 * the ledger shows hits as their own line; this source prices that model at zero, so the call's
 * cost is a known $0 rather than unknown. Chain it with the other price sources.
 */
import type { PriceSource } from '../cost/price-source.js';
import { modelLabel } from '../models/model-label.js';

/** The model a cache hit's usage is reported under. */
export const cacheHitModel = 'cache:hit';

/** Prices `cache:hit` at zero and knows no other model. */
export const cacheHitPriceSource: PriceSource = Object.freeze({
  lookup(provider: string, modelId: string) {
    return modelLabel({ provider, modelId }) === cacheHitModel
      ? { inputPerMillion: 0, outputPerMillion: 0, source: 'cache hit: no model was called' }
      : undefined;
  },
});
