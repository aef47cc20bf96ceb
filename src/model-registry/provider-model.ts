/**
 * One model of a provider, from the settings it needs and nothing more: `scripted` (a script
 * file), `local` (a GGUF model in process), or a network provider (OpenAI-compatible or
 * Anthropic) with its endpoint settings resolved from presets, the config file and the
 * environment.
 */
import { resolve } from 'node:path';
import type { HatarakuConfig } from '../config/load-config.js';
import { resolveProviderSettings } from '../config/provider-settings.js';
import { createAnthropicModel } from '../models/anthropic/anthropic-model.js';
import { createLocalModel } from '../models/local/local-model.js';
import { resolveLocalModelPath } from '../models/local/model-cache.js';
import { createThroughputStore, throughputPath } from '../models/local/throughput-store.js';
import { createOpenAIModel } from '../models/openai/openai-model.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import type { Model } from '../models/spec.js';
import { defaultRetryPolicy } from '../models/transport/http.js';
import { redactedUrl } from '../models/transport/url-redaction.js';

/** What a provider's model needs from config: the endpoints, the local settings, where relative paths start. */
export interface ProviderModelSettings extends Pick<HatarakuConfig, 'providers' | 'local'> {
  /** Directory a scripted model's relative script path (and a local model's path) is taken from. */
  cwd: string;
  fetch?: typeof globalThis.fetch;
}

/** The model `modelId` of `provider` (not `route`: routes are built by `route-model.ts`). */
export function createProviderModel(provider: string, modelId: string, settings: ProviderModelSettings): Model {
  if (provider === 'scripted') {
    return createScriptedModel({ script: resolve(settings.cwd, modelId), modelId });
  }
  if (provider === 'local') {
    const { modelsDirectory, usdPerCpuHour: _cpu, usdPerGpuHour: _gpu, ...local } = settings.local;
    return createLocalModel({
      ...local,
      modelId,
      modelPath: resolveLocalModelPath(modelId, modelsDirectory, settings.cwd),
      throughput: createThroughputStore(throughputPath(modelsDirectory)),
    });
  }
  const endpoint = resolveProviderSettings(settings, provider);
  const retry = { ...defaultRetryPolicy, maxRetries: endpoint.maxRetries };
  const common = {
    modelId,
    baseURL: endpoint.baseURL,
    apiKey: endpoint.apiKey,
    headers: { ...endpoint.headers },
    timeoutMs: endpoint.timeoutMs,
    retry,
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  };
  if (endpoint.type === 'anthropic') {
    return createAnthropicModel({
      ...common,
      ...(endpoint.thinkingBudgetTokens !== undefined ? { thinkingBudgetTokens: endpoint.thinkingBudgetTokens } : {}),
    });
  }
  return createOpenAIModel({
    ...common,
    provider,
    authHint: endpoint.apiKeyEnv ? `set ${endpoint.apiKeyEnv}` : `check the server at ${redactedUrl(endpoint.baseURL)}`,
  });
}
