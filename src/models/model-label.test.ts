import { describe, expect, it } from 'vitest';
import { modelLabel, parseModelLabel } from './model-label.js';

describe('model labels', () => {
  it('splits at the first colon, so model ids keep their own', () => {
    expect(parseModelLabel('ollama:qwen2.5:7b')).toEqual({ provider: 'ollama', modelId: 'qwen2.5:7b' });
    expect(parseModelLabel('openai:ft:gpt-4o-mini:acme::abc123')).toEqual({
      provider: 'openai',
      modelId: 'ft:gpt-4o-mini:acme::abc123',
    });
  });

  it('reads a label without a provider as an empty provider', () => {
    expect(parseModelLabel('gpt-4o')).toEqual({ provider: '', modelId: 'gpt-4o' });
  });

  it('round-trips', () => {
    for (const label of ['anthropic:claude-sonnet-4-5', 'route:cheap-first', 'local:qwen:0.5b']) {
      expect(modelLabel(parseModelLabel(label))).toBe(label);
    }
  });
});
