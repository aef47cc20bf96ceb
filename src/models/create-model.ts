/**
 * Model names to models: `scripted:path.json` to the scripted provider; `local:<file.gguf>` or
 * `local:<alias>` to a GGUF model run in process; `route:<name>` to a
 * routing model built from the `routes` in config (fallback, cascade, budget, per-step); every
 * other provider id to the OpenAI-compatible or Anthropic provider with the settings resolved
 * from config (presets, `hataraku.config.json`, environment). With the cache on, calls go
 * through the exact model-call cache.
 */
import { resolve } from 'node:path';
import { createCachedModel } from '../cache/cached-model.js';
import type { ModelCallCache } from '../cache/model-call-cache.js';
import type { HatarakuConfig, RouteConfig } from '../config/load-config.js';
import { parseModelName } from '../config/model-name.js';
import { resolveProviderSettings } from '../config/provider-settings.js';
import { UserError } from '../errors.js';
import { createBudgetModel } from '../routing/budget-model.js';
import { createCascadeModel } from '../routing/cascade-model.js';
import { type CircuitBreakerRegistry, createCircuitBreakerRegistry } from '../routing/circuit-breaker.js';
import { createFallbackModel } from '../routing/fallback-model.js';
import { type AnswerFormat, parseAnswerFormat } from '../routing/learned/answer-format.js';
import { loadLearnedRouter } from '../routing/learned/learned-router-file.js';
import { learnedVerifier } from '../routing/learned/learned-verifier.js';
import { createSelfConsistencyModel } from '../routing/self-consistency-model.js';
import { createStepRouter } from '../routing/step-router.js';
import { matchesFormat, nonEmptyAnswer, type Verifier, validJsonOutput, validToolCall } from '../routing/verifiers.js';
import { createAnthropicModel } from './anthropic/anthropic-model.js';
import { createLocalModel } from './local/local-model.js';
import { resolveLocalModelPath } from './local/model-cache.js';
import { createThroughputStore, throughputPath } from './local/throughput-store.js';
import { createOpenAIModel } from './openai/openai-model.js';
import { createScriptedModel } from './scripted/scripted-model.js';
import type { Model } from './spec.js';
import { defaultRetryPolicy } from './transport/http.js';

export interface CreateModelOptions {
  config: HatarakuConfig;
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
  const model = createUncachedModel(name, options, []);
  const cache = options.config.cache;
  if (!cache || !options.cache) return model;
  return createCachedModel({ model, store: options.cache, ttlMs: cache.ttlMs, mode: cache.mode });
}

function createUncachedModel(name: string, options: CreateModelOptions, routePath: string[]): Model {
  const { provider, modelId } = parseModelName(name, [
    ...Object.keys(options.config.providers),
    'scripted',
    'local',
    'route',
  ]);
  if (provider === 'scripted') {
    return createScriptedModel({ script: resolve(options.cwd, modelId), modelId });
  }
  if (provider === 'route') return createRoute(modelId, options, routePath);
  if (provider === 'local') {
    const { modelsDirectory, usdPerCpuHour: _cpu, usdPerGpuHour: _gpu, ...settings } = options.config.local;
    return createLocalModel({
      ...settings,
      modelId,
      modelPath: resolveLocalModelPath(modelId, modelsDirectory, options.cwd),
      throughput: createThroughputStore(throughputPath(modelsDirectory)),
    });
  }
  const settings = resolveProviderSettings(options.config, provider);
  const retry = { ...defaultRetryPolicy, maxRetries: settings.maxRetries };
  const common = {
    modelId,
    baseURL: settings.baseURL,
    apiKey: settings.apiKey,
    headers: { ...settings.headers },
    timeoutMs: settings.timeoutMs,
    retry,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  if (settings.type === 'anthropic') {
    return createAnthropicModel({
      ...common,
      ...(settings.thinkingBudgetTokens !== undefined ? { thinkingBudgetTokens: settings.thinkingBudgetTokens } : {}),
    });
  }
  return createOpenAIModel({
    ...common,
    provider,
    authHint: settings.apiKeyEnv ? `set ${settings.apiKeyEnv}` : `check the server at ${settings.baseURL}`,
  });
}

function createRoute(routeName: string, options: CreateModelOptions, routePath: string[]): Model {
  const route: RouteConfig | undefined = options.config.routes[routeName];
  if (!route) {
    const known = Object.keys(options.config.routes);
    throw new UserError(
      'model_unknown',
      `no route named "${routeName}"; ${known.length > 0 ? `the routes are: ${known.join(', ')}` : 'define it under "routes" in hataraku.config.json'}.`,
    );
  }
  if (routePath.includes(routeName)) {
    throw new UserError('config_invalid', `routes form a cycle: ${[...routePath, routeName].join(' -> ')}; break it.`);
  }
  const member = (name: string) => createUncachedModel(name, options, [...routePath, routeName]);
  switch (route.type) {
    case 'fallback':
      return createFallbackModel({
        name: routeName,
        models: route.models.map(member),
        // A route with its own breaker settings gets its own registry; the others share one.
        ...(route.circuitBreaker
          ? { breakers: createCircuitBreakerRegistry(withoutUndefined(route.circuitBreaker)) }
          : options.breakers
            ? { breakers: options.breakers }
            : {}),
      });
    case 'cascade':
      return createCascadeModel({
        name: routeName,
        models: route.models.map(member),
        verify: route.verify.map((verifier) => verifierFor(verifier, options.cwd)),
      });
    case 'budget':
      return createBudgetModel({
        name: routeName,
        models: route.models.map((tier) => ({
          model: member(tier.model),
          minRemainingFraction: tier.minRemainingFraction,
        })),
      });
    case 'step':
      return createStepRouter({ name: routeName, planning: member(route.planning), tools: member(route.tools) });
    case 'self-consistency': {
      let answerFormat: AnswerFormat;
      try {
        answerFormat = parseAnswerFormat(route.answer);
      } catch (error) {
        throw new UserError('config_invalid', `routes.${routeName}.answer: ${(error as Error).message}`);
      }
      return createSelfConsistencyModel({
        name: routeName,
        models: [member(route.models[0]), member(route.models[1])],
        samples: route.samples,
        answerFormat,
        minAgreement: route.minAgreement,
      });
    }
  }
}

function verifierFor(verifier: Extract<RouteConfig, { type: 'cascade' }>['verify'][number], cwd: string): Verifier {
  if (typeof verifier === 'object' && 'learned' in verifier)
    return learnedVerifier(loadLearnedRouter(verifier.learned, cwd));
  if (typeof verifier === 'object') return matchesFormat(new RegExp(verifier['matches-format']));
  if (verifier === 'valid-tool-call') return validToolCall();
  if (verifier === 'valid-json-output') return validJsonOutput();
  return nonEmptyAnswer();
}

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
