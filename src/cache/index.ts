/** The exact model-call cache: a model wrapper, its store contract and the SQLite store. */
export { cacheHitModel, cacheHitPriceSource } from './cache-hit-price.js';
export { type CachedModelOptions, type CacheMode, createCachedModel } from './cached-model.js';
export type { CachedModelCall, CachedResponse, ModelCallCache } from './model-call-cache.js';
export { type ModelCallKeyInput, modelCallKey, normalizedRequest } from './request-key.js';
export {
  openSqliteModelCallCache,
  type SqliteModelCallCache,
  type SqliteModelCallCacheOptions,
} from './sqlite-model-call-cache.js';
