import { describe, expect, it } from 'vitest';
import { toOpenAIRequestBody } from './openai-wire.js';

describe('prompt_cache_key', () => {
  const request = { messages: [{ role: 'user' as const, content: 'hi' }], promptCacheKey: 'hataraku:reporter' };

  it('is sent to OpenAI itself', () => {
    expect(toOpenAIRequestBody('gpt-4o-mini', request, { sendPromptCacheKey: true }).body.prompt_cache_key).toBe(
      'hataraku:reporter',
    );
  });

  it('is left out for other compatible servers, which may reject unknown fields', () => {
    expect(toOpenAIRequestBody('qwen2.5:7b', request).body).not.toHaveProperty('prompt_cache_key');
  });
});
