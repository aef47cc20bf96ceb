import { describe, expect, it } from 'vitest';
import type { ModelRequest } from '../models/spec.js';
import { modelCallKey } from './request-key.js';

const request: ModelRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Weather in Oslo?' },
    {
      role: 'assistant',
      content: [{ type: 'tool-call', id: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
    },
    { role: 'tool', toolCallId: 'c1', toolName: 'get_weather', content: '{"celsius":4}' },
  ],
  tools: [
    {
      name: 'get_weather',
      description: 'Weather.',
      inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
    },
  ],
  temperature: 0,
  maxOutputTokens: 256,
};

const key = (changed: ModelRequest, tenant?: string, model = 'openai:gpt-4o-mini') =>
  modelCallKey({ request: changed, model, tenant });

describe('modelCallKey', () => {
  it('is a SHA-256 hex digest that does not depend on the order of object keys', () => {
    const reordered: ModelRequest = {
      maxOutputTokens: 256,
      temperature: 0,
      tools: [
        {
          inputSchema: { properties: { city: { type: 'string' } }, type: 'object' },
          description: 'Weather.',
          name: 'get_weather',
        },
      ],
      messages: request.messages,
    };
    expect(key(request)).toMatch(/^[0-9a-f]{64}$/);
    expect(key(reordered)).toBe(key(request));
  });

  it('writes equivalent fields one way', () => {
    const messages = request.messages.map((message) =>
      message.role === 'tool' ? { ...message, isError: false } : message,
    );
    expect(key({ ...request, messages })).toBe(key(request));
    expect(key({ ...request, responseFormat: { type: 'text' } })).toBe(key(request));
    expect(key({ ...request, stop: [] })).toBe(key(request));
    expect(key({ ...request, abortSignal: new AbortController().signal, budget: { spentUsd: 1, limitUsd: 2 } })).toBe(
      key(request),
    );
  });

  it('changes with anything that can change the answer', () => {
    const base = key(request);
    const variants: ModelRequest[] = [
      { ...request, temperature: 0.2 },
      { ...request, maxOutputTokens: 512 },
      { ...request, toolChoice: 'required' },
      { ...request, stop: ['\n'] },
      { ...request, tools: [] },
      { ...request, parallelToolCalls: false },
      { ...request, responseFormat: { type: 'json' } },
      {
        ...request,
        messages: [
          ...request.messages.slice(0, 3),
          { role: 'tool', toolCallId: 'c1', toolName: 'get_weather', content: '{"celsius":5}' },
        ],
      },
    ];
    const keys = variants.map((variant) => key(variant));
    expect(new Set([base, ...keys]).size).toBe(variants.length + 1);
    expect(key(request, undefined, 'openai:gpt-4o')).not.toBe(base);
  });

  it('keeps tenants apart', () => {
    expect(key(request, 'acme')).not.toBe(key(request, 'globex'));
    expect(key(request, 'acme')).not.toBe(key(request));
    expect(key(request, 'undefined')).not.toBe(key(request));
  });
});
