/**
 * An AI SDK provider's model running a Hataraku agent: `@ai-sdk/openai-compatible` (a real AI SDK
 * provider, specification V3) against a fake OpenAI server on loopback that speaks the Chat
 * Completions wire format. Text, streamed tool calls, usage, finish reasons, warnings and errors
 * all cross the adapter.
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../../agent/agent.js';
import { run } from '../../agent/run.js';
import { openSqliteEngine } from '../../engine/sqlite/sqlite-engine.js';
import { ModelCallError } from '../../errors.js';
import { tool } from '../../tools/define-tool.js';
import { collectResponse } from '../collect-response.js';
import {
  type FakeOpenAIServer,
  jsonReply,
  sseBody,
  startFakeOpenAIServer,
  streamReply,
} from '../openai/fake-openai-server.js';
import { fromAiSdkModel } from './ai-sdk-model.js';

let server: FakeOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini' };
const usage = {
  prompt_tokens: 52,
  completion_tokens: 18,
  total_tokens: 70,
  prompt_tokens_details: { cached_tokens: 10 },
};

function toolCallStream(): string {
  return sseBody([
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: null }] },
    {
      ...base,
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, id: 'call_add1', type: 'function', function: { name: 'add', arguments: '{"a": 17,' } },
            ],
          },
          finish_reason: null,
        },
      ],
    },
    {
      ...base,
      choices: [
        { index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ' "b": 25}' } }] }, finish_reason: null },
      ],
    },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
    { ...base, choices: [], usage },
  ]);
}

function answerStream(text: string): string {
  return sseBody([
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: text.slice(0, 5) }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: { content: text.slice(5) }, finish_reason: null }] },
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    { ...base, choices: [], usage: { prompt_tokens: 90, completion_tokens: 7, total_tokens: 97 } },
  ]);
}

function providerModel(baseURL: string) {
  const provider = createOpenAICompatible({ name: 'fakeai', baseURL, apiKey: 'sk-test', includeUsage: true });
  return fromAiSdkModel(provider.chatModel('gpt-4o-mini'));
}

describe('an AI SDK model as a Hataraku model', () => {
  it('runs an agent end to end: streamed tool call, tool result back, final answer, usage', async () => {
    server = await startFakeOpenAIServer([streamReply(toolCallStream()), streamReply(answerStream('17 + 25 = 42.'))]);
    const add = tool({
      name: 'add',
      description: 'Add two integers.',
      input: z.object({ a: z.number().int(), b: z.number().int() }),
      execute: ({ a, b }) => a + b,
    });
    const calculator = agent({
      name: 'calculator',
      instructions: 'Use the tools.',
      model: providerModel(server.baseURL),
      tools: [add],
    });
    const engine = openSqliteEngine({ path: ':memory:' });
    const deltas: string[] = [];
    const result = await run(calculator, 'What is 17 + 25?', {
      engine,
      onEvent: (event) => {
        if (event.type === 'text-delta') deltas.push(event.delta);
      },
    });
    expect(result).toMatchObject({ status: 'completed', stopReason: 'final-answer', output: '17 + 25 = 42.' });
    expect(deltas.join('')).toBe('17 + 25 = 42.');
    expect(result.totals).toMatchObject({ modelCalls: 2, toolCalls: 1, inputTokens: 142, outputTokens: 25 });
    const steps = await engine.listSteps(result.runId);
    expect(steps.map((step) => step.name)).toEqual(['model', 'tool:add', 'model']);
    expect(steps[0]?.model).toBe('fakeai:gpt-4o-mini');
    // The second request carries the call and its result in the provider's own wire format.
    const second = server.requests[1]?.body as { messages: Array<Record<string, unknown>>; tools: unknown[] };
    expect(second.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(second.messages[2]).toMatchObject({
      tool_calls: [{ id: 'call_add1', type: 'function', function: { name: 'add', arguments: '{"a":17,"b":25}' } }],
    });
    expect(second.messages[3]).toMatchObject({ tool_call_id: 'call_add1', content: '42' });
    expect(second.tools).toHaveLength(1);
    await engine.close();
  });

  it('reports usage with cached tokens, the finish reason and the provider warnings', async () => {
    server = await startFakeOpenAIServer([streamReply(toolCallStream())]);
    const model = providerModel(server.baseURL);
    const response = await collectResponse(model, {
      messages: [{ role: 'user', content: 'add' }],
      tools: [{ name: 'add', description: 'Add.', inputSchema: { type: 'object' } }],
      // Not a setting of Chat Completions through this provider: said as a warning, not dropped silently.
      parallelToolCalls: false,
    });
    expect(response.finishReason).toBe('tool-calls');
    expect(response.toolCalls).toEqual([
      { type: 'tool-call', id: 'call_add1', name: 'add', arguments: '{"a": 17, "b": 25}' },
    ]);
    expect(response.usage).toMatchObject({ inputTokens: 52, outputTokens: 18, cachedInputTokens: 10 });
    expect(response.warnings.map((warning) => warning.setting)).toContain('parallelToolCalls');
  });

  it('turns the provider error into a ModelCallError with its status', async () => {
    server = await startFakeOpenAIServer(
      [401, 401, 401].map(() =>
        jsonReply(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }),
      ),
    );
    const failure = await collectResponse(providerModel(server.baseURL), {
      messages: [{ role: 'user', content: 'hi' }],
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelCallError);
    expect(failure).toMatchObject({ code: 'model_auth', status: 401, retryable: false, provider: 'fakeai' });
  });

  it('keeps a key in the provider URL out of the error message', async () => {
    const key = 'sk-query-0123456789abcdef';
    server = await startFakeOpenAIServer(
      [400].map(() =>
        jsonReply(400, {
          error: { message: `unknown model at /v1/chat/completions?key=${key}`, type: 'invalid_request_error' },
        }),
      ),
    );
    const provider = createOpenAICompatible({ name: 'fakeai', baseURL: server.baseURL, queryParams: { key } });
    const failure = await collectResponse(fromAiSdkModel(provider.chatModel('gpt-4o-mini')), {
      messages: [{ role: 'user', content: 'hi' }],
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelCallError);
    expect((failure as ModelCallError).message).toContain('unknown model at /v1/chat/completions?key=[redacted]');
    expect((failure as ModelCallError).message).not.toContain(key);
  });

  it('refuses what is not an AI SDK model, with a clear message', () => {
    expect(() => fromAiSdkModel({} as never)).toThrow(/expected an AI SDK language model/);
  });
});
