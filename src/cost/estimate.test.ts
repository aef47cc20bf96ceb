import { describe, expect, it } from 'vitest';
import type { ModelRequest } from '../models/spec.js';
import { estimateCallCostUsd, estimateRequestTokens } from './estimate.js';

describe('estimateRequestTokens', () => {
  it('counts 3.5 characters per token plus per-message and per-request overhead', () => {
    const request: ModelRequest = { messages: [{ role: 'user', content: 'a'.repeat(35) }] };
    expect(estimateRequestTokens(request)).toBe(10 + 5 + 3);
  });

  it('includes assistant tool calls, tool results, tool definitions and the response schema', () => {
    const bare: ModelRequest = { messages: [{ role: 'user', content: 'hi' }] };
    const withEverything: ModelRequest = {
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: [{ type: 'tool-call', id: 'c1', name: 'read_file', arguments: '{"path":"a.txt"}' }],
        },
        { role: 'tool', toolCallId: 'c1', toolName: 'read_file', content: 'x'.repeat(700) },
      ],
      tools: [{ name: 'read_file', description: 'Read a file', inputSchema: { type: 'object' } }],
      responseFormat: { type: 'json-schema', name: 'answer', schema: { type: 'object' } },
    };
    const baseline = estimateRequestTokens(bare);
    const full = estimateRequestTokens(withEverything);
    // The tool result alone is 700 characters = 200 tokens.
    expect(full - baseline).toBeGreaterThan(200 + 2 * 5);
    const withoutTools = estimateRequestTokens({ ...withEverything, tools: [] });
    expect(full - withoutTools).toBeGreaterThanOrEqual(Math.floor(JSON.stringify(withEverything.tools).length / 3.5));
  });

  it('counts each non-ASCII character as a token, erring high for Japanese', () => {
    const request: ModelRequest = { messages: [{ role: 'user', content: 'こんにちは世界' }] };
    expect(estimateRequestTokens(request)).toBe(7 + 5 + 3);
  });

  it('leans above a real tokenizer count for English prose', () => {
    // "The quick brown fox jumps over the lazy dog." is 10 tokens in OpenAI's o200k tokenizer.
    const request: ModelRequest = {
      messages: [{ role: 'user', content: 'The quick brown fox jumps over the lazy dog.' }],
    };
    expect(estimateRequestTokens(request) - 5 - 3).toBeGreaterThanOrEqual(10);
  });
});

describe('estimateCallCostUsd', () => {
  const request: ModelRequest = { messages: [{ role: 'user', content: 'a'.repeat(3_500) }] };

  it('prices the estimated prompt at the full input rate plus the whole output allowance', () => {
    const cost = estimateCallCostUsd({ inputPerMillion: 1, outputPerMillion: 4, source: 'test' }, request, 1_000);
    expect(cost.usd).toBeCloseTo(((1_000 + 5 + 3) * 1 + 1_000 * 4) / 1_000_000, 12);
  });

  it('is unknown without a price', () => {
    expect(estimateCallCostUsd(undefined, request, 1_000)).toMatchObject({ usd: undefined });
  });
});
