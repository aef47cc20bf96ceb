/**
 * Everything a network provider needs to make calls, resolved from presets, the config file
 * and the environment, and the lookup the model factory uses to get it.
 */
import { UserError } from '../errors.js';
import type { ProviderType } from './provider-presets.js';

/** A provider's resolved settings. */
export interface ProviderSettings {
  /** Provider id, the part of a model name before the first colon. */
  id: string;
  /** Wire protocol the endpoint speaks. */
  type: ProviderType;
  /**
   * API root including the version path and without a trailing slash, e.g.
   * `https://api.openai.com/v1`; a provider appends `/chat/completions` or `/messages`.
   */
  baseURL: string;
  /** The key read from `apiKeyEnv`; undefined when the variable is unset or the provider needs none. */
  apiKey: string | undefined;
  /** The environment variable the key comes from, for "set X" hints; undefined for keyless servers. */
  apiKeyEnv: string | undefined;
  /** Extra headers sent with every request. */
  headers: Readonly<Record<string, string>>;
  /** Milliseconds to wait for response headers, per attempt. */
  timeoutMs: number;
  /** Retries after the first attempt, for retryable failures. */
  maxRetries: number;
  /** Anthropic extended thinking budget, when turned on in config. */
  thinkingBudgetTokens?: number;
}

/**
 * The settings of `providerId`, ready for a model to use.
 *
 * @throws UserError `model_unknown` when no provider has that id.
 * @throws UserError `model_not_configured` when the provider needs an API key that is not set.
 */
export function resolveProviderSettings(
  config: { providers: Readonly<Record<string, ProviderSettings>> },
  providerId: string,
): ProviderSettings {
  const settings = config.providers[providerId];
  if (settings === undefined) {
    const known = Object.keys(config.providers).join(', ');
    throw new UserError(
      'model_unknown',
      `unknown provider "${providerId}"; known providers: ${known}. For another OpenAI- or Anthropic-compatible endpoint, add it under "providers" in hataraku.config.json with "type" and "baseURL".`,
      { details: { provider: providerId } },
    );
  }
  if (settings.apiKeyEnv !== undefined && settings.apiKey === undefined) {
    throw new UserError(
      'model_not_configured',
      `provider "${providerId}" needs an API key: set the environment variable ${settings.apiKeyEnv}`,
      { details: { provider: providerId, apiKeyEnv: settings.apiKeyEnv } },
    );
  }
  return settings;
}
