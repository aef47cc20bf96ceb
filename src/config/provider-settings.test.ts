import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { loadConfig } from './load-config.js';
import { resolveProviderSettings } from './provider-settings.js';

const directory = mkdtempSync(path.join(tmpdir(), 'hataraku-providers-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function thrown(action: () => unknown): UserError {
  try {
    action();
  } catch (caught) {
    expect(caught).toBeInstanceOf(UserError);
    return caught as UserError;
  }
  throw new Error('expected an error');
}

describe('resolveProviderSettings', () => {
  it('returns the settings of a provider whose key is set', () => {
    const config = loadConfig({ cwd: directory, env: { OPENAI_API_KEY: 'sk-test' } });
    expect(resolveProviderSettings(config, 'openai')).toMatchObject({ apiKey: 'sk-test', type: 'openai' });
  });

  it('needs no key for local servers', () => {
    const config = loadConfig({ cwd: directory, env: {} });
    expect(resolveProviderSettings(config, 'ollama')).toMatchObject({ apiKey: undefined, apiKeyEnv: undefined });
    expect(resolveProviderSettings(config, 'vllm').baseURL).toBe('http://localhost:8000/v1');
  });

  it('says which variable to set when the key is missing', () => {
    const config = loadConfig({ cwd: directory, env: {} });
    const error = thrown(() => resolveProviderSettings(config, 'anthropic'));
    expect(error.code).toBe('model_not_configured');
    expect(error.message).toBe('provider "anthropic" needs an API key: set the environment variable ANTHROPIC_API_KEY');
  });

  it('rejects an unknown provider, listing the known ones', () => {
    const config = loadConfig({ cwd: directory, env: {} });
    const error = thrown(() => resolveProviderSettings(config, 'togethr'));
    expect(error.code).toBe('model_unknown');
    expect(error.message).toMatch(/^unknown provider "togethr"; known providers: openai, anthropic, ollama/);
  });
});
