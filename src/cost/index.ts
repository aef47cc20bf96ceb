/** `hataraku/cost`: where prices come from (bundled catalog, config overrides, self-hosted) and the cost of usage. */
export { costOfUsage, selfHostedPrice } from './cost.js';
export { createGenaiPricesSource } from './genai-prices-source.js';
export { createOverridePriceSource } from './override-source.js';
export { chainPriceSources, type ModelPrice, type PriceSource } from './price-source.js';
