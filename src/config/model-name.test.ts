import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { formatModelName, parseModelName } from './model-name.js';

describe('parseModelName', () => {
  it('splits at the first colon', () => {
    expect(parseModelName('openai:gpt-4o-mini')).toEqual({ provider: 'openai', modelId: 'gpt-4o-mini' });
  });

  it('keeps later colons in the model id', () => {
    expect(parseModelName('ollama:qwen2.5:7b')).toEqual({ provider: 'ollama', modelId: 'qwen2.5:7b' });
    expect(parseModelName('openai:ft:gpt-4o-mini:acme::abc123')).toEqual({
      provider: 'openai',
      modelId: 'ft:gpt-4o-mini:acme::abc123',
    });
  });

  it('keeps a path for scripted models', () => {
    expect(parseModelName('scripted:path/to/script.json')).toEqual({
      provider: 'scripted',
      modelId: 'path/to/script.json',
    });
  });

  it('rejects a name without a provider, naming the form and the known providers', () => {
    let error: unknown;
    try {
      parseModelName('gpt-4o-mini');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('model_unknown');
    expect((error as UserError).message).toMatch(
      /^model name "gpt-4o-mini" has no provider; write it as provider:model/,
    );
    expect((error as UserError).message).toContain('known providers: openai, anthropic, ollama, deepseek, groq');
    expect((error as UserError).message).toContain('scripted');
  });

  it('lists the providers it is given', () => {
    expect(() => parseModelName(':x', ['openai', 'together'])).toThrow(/known providers: openai, together\)$/);
  });

  it('rejects an empty model id', () => {
    expect(() => parseModelName('openai:')).toThrow(/has no model id after "openai:"/);
  });

  it('round-trips through formatModelName', () => {
    expect(formatModelName(parseModelName('ollama:qwen2.5:7b'))).toBe('ollama:qwen2.5:7b');
  });
});
