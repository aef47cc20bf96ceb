import { encodeChat as encodeGpt4Chat } from 'gpt-tokenizer/model/gpt-4';
import { encodeChat as encodeGpt4oChat } from 'gpt-tokenizer/model/gpt-4o';
import { describe, expect, it } from 'vitest';
import type { ModelMessage, ModelToolDefinition } from '../models/spec.js';
import { countMessageTokens, countRequestTokens, countTextTokens, encodeText, tokenizerFor } from './token-counter.js';

const conversation: ModelMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'What is the capital of France? Answer briefly.' },
];

const weatherTool: ModelToolDefinition = {
  name: 'get_weather',
  description: 'Current weather of a city.',
  inputSchema: {
    type: 'object',
    properties: { city: { type: 'string', description: 'City name' }, unit: { type: 'string', enum: ['c', 'f'] } },
    required: ['city'],
  },
};

describe('tokenizerFor', () => {
  it('uses o200k_base for the GPT-4o, 4.1, 5 families and the o-series, exactly', () => {
    for (const name of ['openai:gpt-4o-mini', 'gpt-4.1-mini', 'openai:gpt-5', 'o3-mini', 'openrouter:openai/gpt-4o']) {
      expect(tokenizerFor(name)).toEqual({ encoding: 'o200k_base', exact: true });
    }
  });

  it('uses cl100k_base for GPT-4 and GPT-3.5', () => {
    expect(tokenizerFor('openai:gpt-4-turbo')).toEqual({ encoding: 'cl100k_base', exact: true });
    expect(tokenizerFor('gpt-3.5-turbo')).toEqual({ encoding: 'cl100k_base', exact: true });
  });

  it('approximates other providers with o200k_base and says so', () => {
    expect(tokenizerFor('anthropic:claude-sonnet-4-5')).toEqual({ encoding: 'o200k_base', exact: false });
    expect(tokenizerFor('ollama:qwen2.5:7b')).toEqual({ encoding: 'o200k_base', exact: false });
  });
});

describe('countRequestTokens', () => {
  it('matches the chat encoding of gpt-4o token for token', () => {
    // encodeChat renders the messages with OpenAI's chat framing and primes the reply.
    const reference = encodeGpt4oChat(
      conversation.map((message) => ({ role: message.role, content: message.content as string })),
    );
    expect(countRequestTokens({ messages: conversation }, 'openai:gpt-4o')).toBe(reference.length);
  });

  it('counts GPT-4 with cl100k_base, which splits text differently', () => {
    const reference = encodeGpt4Chat(
      conversation.map((message) => ({ role: message.role, content: message.content as string })),
    );
    expect(countRequestTokens({ messages: conversation }, 'gpt-4')).toBe(reference.length);
    const text = 'こんにちは、世界。東京の天気はどうですか？';
    expect(countTextTokens(text, 'cl100k_base')).not.toBe(countTextTokens(text, 'o200k_base'));
  });

  it('counts tool calls, tool results, tool definitions and the response schema', () => {
    const withTools: ModelMessage[] = [
      ...conversation,
      {
        role: 'assistant',
        content: [{ type: 'tool-call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      },
      { role: 'tool', toolCallId: 'call_1', toolName: 'get_weather', content: '{"temperature": 21, "sky": "clear"}' },
    ];
    const plain = countRequestTokens({ messages: conversation }, 'gpt-4o');
    const calls = countRequestTokens({ messages: withTools }, 'gpt-4o');
    expect(calls - plain).toBe(
      countMessageTokens(withTools[2] as ModelMessage, 'o200k_base') +
        countMessageTokens(withTools[3] as ModelMessage, 'o200k_base'),
    );
    // The call's name and arguments and the result's text are all counted.
    expect(calls - plain).toBeGreaterThan(
      countTextTokens('get_weather{"city":"Paris"}{"temperature": 21, "sky": "clear"}', 'o200k_base'),
    );
    const tools = countRequestTokens({ messages: conversation, tools: [weatherTool] }, 'gpt-4o');
    expect(tools - plain).toBeGreaterThan(
      countTextTokens('get_weather Current weather of a city. city City name', 'o200k_base'),
    );
    const schema = countRequestTokens(
      {
        messages: conversation,
        responseFormat: {
          type: 'json-schema',
          name: 'answer',
          schema: { type: 'object', properties: { capital: { type: 'string' } } },
        },
      },
      'gpt-4o',
    );
    expect(schema - plain).toBeGreaterThan(
      countTextTokens('{"type":"object","properties":{"capital":{"type":"string"}}}', 'o200k_base'),
    );
  });

  it('counts text that spells special tokens as plain text instead of throwing', () => {
    const message: ModelMessage = {
      role: 'tool',
      toolCallId: 'c',
      toolName: 'files.read',
      content: 'end <|endoftext|> here',
    };
    expect(countMessageTokens(message, 'o200k_base')).toBeGreaterThan(5);
  });

  it('counts a long history again in well under a millisecond per message once cached', () => {
    const big = 'row,value\n'.repeat(8_000);
    const history: ModelMessage[] = [...conversation];
    for (let index = 0; index < 50; index++) {
      history.push({
        role: 'assistant',
        content: [{ type: 'tool-call', id: `c${index}`, name: 'files.read', arguments: '{}' }],
      });
      history.push({ role: 'tool', toolCallId: `c${index}`, toolName: 'files.read', content: `${index} ${big}` });
    }
    const first = countRequestTokens({ messages: history }, 'gpt-4o-mini');
    const started = performance.now();
    const second = countRequestTokens({ messages: history }, 'gpt-4o-mini');
    expect(second).toBe(first);
    expect(performance.now() - started).toBeLessThan(10);
    expect(first).toBeGreaterThan(50 * 8_000);
  });
});

describe('hostile text', () => {
  it('counts long runs of one character piece by piece, within one token per piece of the whole count', () => {
    // Quadratic before: 100,000 spaces took seconds; 400,000 would hold the host for a minute.
    const spaces = ' '.repeat(400_000);
    const counted = countTextTokens(spaces, 'o200k_base');
    const pieces = 400_000 / 2_000;
    const oneSpace = countTextTokens(' '.repeat(2_000), 'o200k_base');
    expect(counted).toBe(oneSpace * pieces);
    const text = 'The quarterly figures are in report.md. '.repeat(200);
    expect(
      Math.abs(
        countTextTokens(text, 'cl100k_base') -
          countTextTokens(text.slice(0, 1_999), 'cl100k_base') -
          countTextTokens(text.slice(1_999), 'cl100k_base'),
      ),
    ).toBeLessThanOrEqual(4);
  });

  it('encodes long text into ids that decode back to it', async () => {
    const { decode } = await import('gpt-tokenizer/encoding/o200k_base');
    const text = `${'x'.repeat(5_000)} and ${' '.repeat(3_000)}end`;
    expect(decode(encodeText(text, 'o200k_base'))).toBe(text);
  });
});
