/**
 * Model names to models: `scripted:path.json` to the scripted provider, every other provider id
 * to the OpenAI-compatible or Anthropic provider with the settings resolved from config
 * (presets, `hataraku.config.json`, environment).
 */
import { resolve } from 'node:path';
import type { HatarakuConfig } from '../config/load-config.js';
import { parseModelName } from '../config/model-name.js';
import { resolveProviderSettings } from '../config/provider-settings.js';
import { createAnthropicModel } from './anthropic/anthropic-model.js';
import { createOpenAIModel } from './openai/openai-model.js';
import { createScriptedModel } from './scripted/scripted-model.js';
import type { Model } from './spec.js';
import { defaultRetryPolicy } from './transport/http.js';

export interface CreateModelOptions {
  config: HatarakuConfig;
  /** Directory a scripted model's relative script path is taken from. */
  cwd: string;
  fetch?: typeof globalThis.fetch;
}

/** Create the model named `name` (e.g. `openai:gpt-4o-mini`). Throws a `UserError` naming what to fix. */
export function createModel(name: string, options: CreateModelOptions): Model {
  const { provider, modelId } = parseModelName(name, [...Object.keys(options.config.providers), 'scripted']);
  if (provider === 'scripted') {
    return createScriptedModel({ script: resolve(options.cwd, modelId), modelId });
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
  if (settings.type === 'anthropic') return createAnthropicModel(common);
  return createOpenAIModel({
    ...common,
    provider,
    authHint: settings.apiKeyEnv ? `set ${settings.apiKeyEnv}` : `check the server at ${settings.baseURL}`,
  });
}
