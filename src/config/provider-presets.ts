/**
 * The providers Hataraku knows without configuration: where each one lives, which wire
 * protocol it speaks and which environment variables hold its key and address. A config file
 * can adjust any of them or add OpenAI- or Anthropic-compatible endpoints of its own.
 */

/** The wire protocol a provider speaks. */
export type ProviderType = 'openai' | 'anthropic';

/** A built-in provider's defaults. */
export interface ProviderPreset {
  type: ProviderType;
  /** API root including the version path; providers append `/chat/completions` or `/messages`. */
  baseURL: string;
  /** Environment variable that overrides `baseURL`, when the provider has one. */
  baseURLEnv?: string;
  /** Environment variable holding the API key; absent for local servers that need none. */
  apiKeyEnv?: string;
}

/** Milliseconds to wait for a response's headers, per attempt, unless configured. */
export const defaultTimeoutMs = 120_000;
/** Retries after the first attempt for retryable failures, unless configured. */
export const defaultMaxRetries = 2;

export const providerPresets: Readonly<Record<string, ProviderPreset>> = {
  openai: {
    type: 'openai',
    baseURL: 'https://api.openai.com/v1',
    baseURLEnv: 'OPENAI_BASE_URL',
    apiKeyEnv: 'OPENAI_API_KEY',
  },
  anthropic: {
    type: 'anthropic',
    baseURL: 'https://api.anthropic.com/v1',
    baseURLEnv: 'ANTHROPIC_BASE_URL',
    apiKeyEnv: 'ANTHROPIC_API_KEY',
  },
  ollama: { type: 'openai', baseURL: 'http://localhost:11434/v1', baseURLEnv: 'OLLAMA_BASE_URL' },
  deepseek: { type: 'openai', baseURL: 'https://api.deepseek.com/v1', apiKeyEnv: 'DEEPSEEK_API_KEY' },
  groq: { type: 'openai', baseURL: 'https://api.groq.com/openai/v1', apiKeyEnv: 'GROQ_API_KEY' },
  openrouter: { type: 'openai', baseURL: 'https://openrouter.ai/api/v1', apiKeyEnv: 'OPENROUTER_API_KEY' },
  llamacpp: { type: 'openai', baseURL: 'http://localhost:8080/v1' },
  vllm: { type: 'openai', baseURL: 'http://localhost:8000/v1' },
};

/**
 * Providers that are not network endpoints and so have no settings: `scripted` replays a
 * JSON script of model responses (`scripted:path/to/script.json`); `local` runs a GGUF file in
 * process (`local:path/to/model.gguf` or `local:<alias>` from the model cache).
 */
export const localModelProviders: readonly string[] = ['scripted', 'local'];
