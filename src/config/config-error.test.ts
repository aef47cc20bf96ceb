import { describe, expect, it } from 'vitest';
import { closestMatch, formatFieldPath } from './config-error.js';

describe('closestMatch', () => {
  const keys = ['model', 'providers', 'prices', 'journal', 'limits', 'workspace'];

  it('suggests the key a typo was meant to be', () => {
    expect(closestMatch('modle', keys)).toBe('model');
    expect(closestMatch('provider', keys)).toBe('providers');
    expect(closestMatch('Limits', keys)).toBe('limits');
    expect(closestMatch('workspce', keys)).toBe('workspace');
    expect(closestMatch('jounral', keys)).toBe('journal');
    expect(closestMatch('apiKey', ['baseURL', 'apiKeyEnv'])).toBe('apiKeyEnv');
  });

  it('suggests nothing for a word far from every key', () => {
    expect(closestMatch('temperature', keys)).toBeUndefined();
    expect(closestMatch('xyz', keys)).toBeUndefined();
    expect(closestMatch('pr', keys)).toBeUndefined();
  });
});

describe('formatFieldPath', () => {
  it('writes identifiers with dots and other keys in brackets', () => {
    expect(formatFieldPath(['limits', 'maxSteps'])).toBe('limits.maxSteps');
    expect(formatFieldPath(['prices', 'ollama:qwen2.5:7b', 'inputPerMillion'])).toBe(
      'prices["ollama:qwen2.5:7b"].inputPerMillion',
    );
    expect(formatFieldPath(['providers', 'openai', 'headers', 'x-api-key'])).toBe(
      'providers.openai.headers["x-api-key"]',
    );
  });
});
