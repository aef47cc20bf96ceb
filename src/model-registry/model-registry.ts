/**
 * The model registry: model names to models. It sits above the model specs and providers
 * (`src/models`) and the routing models (`src/routing`), and is the only place that assembles
 * them from config: `scripted:path.json`, `local:<file.gguf>` or `local:<alias>`, `route:<name>`
 * (a routing model over other names), and every other provider id (OpenAI-compatible or
 * Anthropic). With the cache on, the model is wrapped in the exact model-call cache, a `Model`
 * around a `Model` like every wrapper here. Each part gets only the config it needs.
 */
import { createCachedModel } from '../cache/cached-model.js';
import type { ModelCallCache } from '../cache/model-call-cache.js';
import type { HatarakuConfig } from '../config/load-config.js';
import { parseModelName } from '../config/model-name.js';
import type { Model } from '../models/spec.js';
import type { CircuitBreakerRegistry } from '../routing/circuit-breaker.js';
import { createProviderModel } from './provider-model.js';
import { createRouteModel } from './route-model.js';

export interface CreateModelOptions {
  config: Pick<HatarakuConfig, 'providers' | 'local' | 'routes' | 'cache'>;
  /** Directory a scripted model's relative script path is taken from. */
  cwd: string;
  fetch?: typeof globalThis.fetch;
  /** Circuit breakers shared by every fallback route (one registry per Hataraku instance). */
  breakers?: CircuitBreakerRegistry;
  /** The model-call cache, when `cache` is on in config. */
  cache?: ModelCallCache;
}

/** Create the model named `name` (e.g. `openai:gpt-4o-mini`). Throws a `UserError` naming what to fix. */
export function createModel(name: string, options: CreateModelOptions): Model {
  const model = createNamedModel(name, options, []);
  const cache = options.config.cache;
  if (!cache || !options.cache) return model;
  return createCachedModel({ model, store: options.cache, ttlMs: cache.ttlMs, mode: cache.mode });
}

function createNamedModel(name: string, options: CreateModelOptions, routePath: string[]): Model {
  const { config, cwd } = options;
  const { provider, modelId } = parseModelName(name, [...Object.keys(config.providers), 'scripted', 'local', 'route']);
  if (provider === 'route') {
    return createRouteModel(
      modelId,
      {
        routes: config.routes,
        breakers: options.breakers,
        cwd,
        member: (memberName, path) => createNamedModel(memberName, options, path),
      },
      routePath,
    );
  }
  return createProviderModel(provider, modelId, {
    providers: config.providers,
    local: config.local,
    cwd,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
