import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelCallError } from '../../errors.js';
import type { ModelRequest, ModelStreamEvent } from '../spec.js';
import { type AnthropicModelOptions, createAnthropicModel } from './anthropic-model.js';
import {
  anthropicErrorBody,
  type FakeAnthropicServer,
  readFixture,
  sseEvent,
  startFakeAnthropicServer,
} from './fake-anthropic-server.js';

const fastRetry = { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 20 };
const hello: ModelRequest = { messages: [{ role: 'user', content: 'Say hello.' }] };

let server: FakeAnthropicServer;

beforeEach(async () => {
  server = await startFakeAnthropicServer();
});

afterEach(async () => {
  await server.close();
});

function model(options: Partial<AnthropicModelOptions> = {}) {
  return createAnthropicModel({
    modelId: 'claude-sonnet-4-5',
    baseURL: server.baseURL,
    apiKey: 'sk-ant-test',
    retry: fastRetry,
    ...options,
  });
}

async function collect(stream: AsyncIterable<ModelStreamEvent>): Promise<ModelStreamEvent[]> {
  const events: ModelStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

/** Collect events until the stream fails, returning both; fails the test if it does not fail. */
async function collectUntilError(
  stream: AsyncIterable<ModelStreamEvent>,
): Promise<{ events: ModelStreamEvent[]; error: ModelCallError }> {
  const events: ModelStreamEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
  } catch (caught) {
    expect(caught).toBeInstanceOf(ModelCallError);
    return { events, error: caught as ModelCallError };
  }
  throw new Error(`the stream ended without an error after ${events.length} events`);
}

function textOf(events: ModelStreamEvent[]): string {
  return events.map((event) => (event.type === 'text-delta' ? event.delta : '')).join('');
}

const messageStart = sseEvent({
  type: 'message_start',
  message: {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 9, output_tokens: 1 },
  },
});
const textStart = sseEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
const helloDelta = sseEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } });
const streamOpening = messageStart + textStart + helloDelta;

describe('createAnthropicModel: streaming', () => {
  it('streams text, then one usage and a finish', async () => {
    server.reply({ body: await readFixture('text-stream.sse') });
    const events = await collect(model().stream(hello));
    expect(events).toEqual([
      { type: 'stream-start', warnings: [] },
      { type: 'text-delta', delta: 'Hello' },
      { type: 'text-delta', delta: ', world' },
      { type: 'text-delta', delta: '! ¿Qué tal? 日本語もOK' },
      { type: 'usage', usage: { inputTokens: 21, outputTokens: 12, cachedInputTokens: 0, cacheWriteTokens: 0 } },
      { type: 'finish', finishReason: 'stop', providerFinishReason: 'end_turn' },
    ]);
  });

  it('reads the same stream when it arrives a few bytes at a time', async () => {
    server.reply({ body: await readFixture('text-stream.sse'), chunkBytes: 5 });
    const events = await collect(model().stream(hello));
    expect(textOf(events)).toBe('Hello, world! ¿Qué tal? 日本語もOK');
    expect(events.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', providerFinishReason: 'end_turn' });
  });

  it('assembles a tool call whose input arrives in many input_json_delta pieces', async () => {
    server.reply({ body: await readFixture('tool-use-stream.sse'), chunkBytes: 17 });
    const events = await collect(model().stream(hello));
    const id = 'toolu_01T1x1fJ34qAmk2tNTrN7Up6';
    expect(textOf(events)).toBe('Let me check the weather.');
    expect(events.filter((event) => event.type.startsWith('tool-call'))).toEqual([
      { type: 'tool-call-start', id, name: 'get_weather', index: 0 },
      { type: 'tool-call-delta', id, argumentsDelta: '{"loc' },
      { type: 'tool-call-delta', id, argumentsDelta: 'ation": "San Fra' },
      { type: 'tool-call-delta', id, argumentsDelta: 'ncisco, CA"' },
      { type: 'tool-call-delta', id, argumentsDelta: ', "unit": "fah' },
      { type: 'tool-call-delta', id, argumentsDelta: 'renheit"}' },
      {
        type: 'tool-call-end',
        id,
        name: 'get_weather',
        arguments: '{"location": "San Francisco, CA", "unit": "fahrenheit"}',
      },
    ]);
    expect(events.at(-1)).toEqual({ type: 'finish', finishReason: 'tool-calls', providerFinishReason: 'tool_use' });
  });

  it('reports several parallel tool calls in order, with {} for a call without input', async () => {
    server.reply({ body: await readFixture('parallel-tool-use.sse') });
    const events = await collect(model().stream(hello));
    expect(events.filter((event) => event.type === 'tool-call-start')).toEqual([
      { type: 'tool-call-start', id: 'toolu_01Nz4bJ7sK2Qv8xWmP3rT5aE', name: 'read_file', index: 0 },
      { type: 'tool-call-start', id: 'toolu_01Hc6yRkD9mVf2LpQ8wXs1Bn', name: 'read_file', index: 1 },
      { type: 'tool-call-start', id: 'toolu_01Pw3eGt7uJx5Kc9Yb2Zm4Vd', name: 'current_time', index: 2 },
    ]);
    expect(events.filter((event) => event.type === 'tool-call-end')).toEqual([
      {
        type: 'tool-call-end',
        id: 'toolu_01Nz4bJ7sK2Qv8xWmP3rT5aE',
        name: 'read_file',
        arguments: '{"path": "src/index.ts"}',
      },
      {
        type: 'tool-call-end',
        id: 'toolu_01Hc6yRkD9mVf2LpQ8wXs1Bn',
        name: 'read_file',
        arguments: '{"path": "package.json"}',
      },
      { type: 'tool-call-end', id: 'toolu_01Pw3eGt7uJx5Kc9Yb2Zm4Vd', name: 'current_time', arguments: '{}' },
    ]);
    expect(events.filter((event) => event.type === 'usage')).toEqual([
      { type: 'usage', usage: { inputTokens: 640, outputTokens: 121, cachedInputTokens: 0, cacheWriteTokens: 0 } },
    ]);
  });

  it('counts cache reads and writes into the total input tokens', async () => {
    server.reply({ body: await readFixture('cached-usage.sse') });
    const events = await collect(model().stream(hello));
    // Anthropic's input_tokens (12) excludes the 2048 read from and the 310 written to the cache.
    expect(events.slice(-2)).toEqual([
      { type: 'usage', usage: { inputTokens: 2370, outputTokens: 40, cachedInputTokens: 2048, cacheWriteTokens: 310 } },
      { type: 'finish', finishReason: 'length', providerFinishReason: 'max_tokens' },
    ]);
  });

  it('maps a refusal to the refusal finish reason and leaves unreported usage undefined', async () => {
    server.reply({
      body:
        sseEvent({ type: 'message_delta', delta: { stop_reason: 'refusal', stop_sequence: null }, usage: {} }) +
        sseEvent({ type: 'message_stop' }),
    });
    const events = await collect(model().stream(hello));
    expect(events.slice(-2)).toEqual([
      {
        type: 'usage',
        usage: {
          inputTokens: undefined,
          outputTokens: undefined,
          cachedInputTokens: undefined,
          cacheWriteTokens: undefined,
        },
      },
      { type: 'finish', finishReason: 'refusal', providerFinishReason: 'refusal' },
    ]);
    expect(events).toContainEqual({ type: 'refusal', text: 'The model declined to answer (stop_reason "refusal").' });
  });

  it('reports thinking blocks as reasoning and skips event types it does not know', async () => {
    server.reply({
      body:
        messageStart +
        sseEvent({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }) +
        sseEvent({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }) +
        sseEvent({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'EqQB' } }) +
        sseEvent({ type: 'content_block_stop', index: 0 }) +
        sseEvent({ type: 'future_event', detail: 1 }) +
        sseEvent({ type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }) +
        sseEvent({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Answer' } }) +
        sseEvent({ type: 'content_block_stop', index: 1 }) +
        sseEvent({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } }) +
        sseEvent({ type: 'message_stop' }),
    });
    const events = await collect(model().stream(hello));
    expect(events.map((event) => event.type)).toEqual([
      'stream-start',
      'reasoning-delta',
      'reasoning',
      'text-delta',
      'usage',
      'finish',
    ]);
    expect(events).toContainEqual({ type: 'reasoning', part: { type: 'reasoning', text: 'hmm', signature: 'EqQB' } });
    expect(textOf(events)).toBe('Answer');
  });
});

describe('createAnthropicModel: request', () => {
  it('posts the Messages API body with headers, system blocks, cache markers, tool results and tool choice', async () => {
    server.reply({ body: await readFixture('text-stream.sse') });
    const request: ModelRequest = {
      messages: [
        { role: 'system', content: 'You are a weather bot.' },
        { role: 'user', content: 'Weather in Oslo and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool-call', id: 'toolu_a', name: 'get_weather', arguments: '{"city":"Oslo"}' },
            { type: 'tool-call', id: 'toolu_b', name: 'get_weather', arguments: '{"city":"Rome"}' },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_a', toolName: 'get_weather', content: '{"celsius":3}' },
        { role: 'tool', toolCallId: 'toolu_b', toolName: 'get_weather', content: 'upstream down', isError: true },
      ],
      tools: [
        { name: 'get_weather', description: 'Weather for a city.', inputSchema: { type: 'object' } },
        { name: 'get_time', description: 'Time in a city.', inputSchema: { type: 'object' } },
      ],
      toolChoice: 'required',
      parallelToolCalls: false,
      temperature: 0.3,
      stop: ['END'],
    };
    const events = await collect(
      model({ headers: { 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14' } }).stream(request),
    );
    expect(events[0]).toEqual({ type: 'stream-start', warnings: [] });

    expect(server.requests).toHaveLength(1);
    const [recorded] = server.requests;
    expect(recorded?.method).toBe('POST');
    expect(recorded?.path).toBe('/v1/messages');
    expect(recorded?.headers['x-api-key']).toBe('sk-ant-test');
    expect(recorded?.headers['anthropic-version']).toBe('2023-06-01');
    expect(recorded?.headers['anthropic-beta']).toBe('fine-grained-tool-streaming-2025-05-14');
    expect(recorded?.headers['content-type']).toBe('application/json');
    expect(recorded?.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      stream: true,
      system: [{ type: 'text', text: 'You are a weather bot.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo and Rome?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Oslo' } },
            { type: 'tool_use', id: 'toolu_b', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_a', content: '{"celsius":3}' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_b',
              content: 'upstream down',
              is_error: true,
              cache_control: { type: 'ephemeral' },
            },
          ],
        },
      ],
      tools: [
        { name: 'get_weather', description: 'Weather for a city.', input_schema: { type: 'object' } },
        {
          name: 'get_time',
          description: 'Time in a city.',
          input_schema: { type: 'object' },
          cache_control: { type: 'ephemeral' },
        },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      temperature: 0.3,
      stop_sequences: ['END'],
    });
  });

  it('honours a custom base URL, version and no key, and sends no cache markers when caching is off', async () => {
    server.reply({ body: await readFixture('text-stream.sse') });
    const custom = model({
      baseURL: `${server.baseURL}/`,
      apiKey: undefined,
      anthropicVersion: '2024-01-01',
      promptCaching: false,
    });
    await collect(custom.stream({ messages: [{ role: 'system', content: 'x' }, ...hello.messages] }));
    const [recorded] = server.requests;
    expect(recorded?.path).toBe('/v1/messages');
    expect(recorded?.headers['x-api-key']).toBeUndefined();
    expect(recorded?.headers['anthropic-version']).toBe('2024-01-01');
    expect(JSON.stringify(recorded?.body)).not.toContain('cache_control');
  });

  it('reports a JSON response format as an unsupported setting at stream start', async () => {
    server.reply({ body: await readFixture('text-stream.sse') });
    const events = await collect(model().stream({ ...hello, responseFormat: { type: 'json' } }));
    expect(events[0]).toEqual({
      type: 'stream-start',
      warnings: [{ type: 'unsupported-setting', setting: 'responseFormat', message: expect.stringContaining('JSON') }],
    });
    expect(server.requests[0]?.body).not.toHaveProperty('response_format');
    expect(server.requests[0]?.body).not.toHaveProperty('output_config');
  });

  it('rejects invalid options with errors naming the option', () => {
    expect(() => createAnthropicModel({ modelId: '' })).toThrow(TypeError);
    expect(() => createAnthropicModel({ modelId: 'm', timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createAnthropicModel({ modelId: 'm', idleTimeoutMs: Number.NaN })).toThrow(RangeError);
    const created = createAnthropicModel({ modelId: 'claude-haiku-4-5' });
    expect([created.specificationVersion, created.provider, created.modelId]).toEqual([
      'v1',
      'anthropic',
      'claude-haiku-4-5',
    ]);
  });
});

describe('createAnthropicModel: HTTP errors and retries', () => {
  it('waits as long as retry-after says on 429, then succeeds', async () => {
    server.reply(
      {
        status: 429,
        headers: { 'retry-after': '0' },
        body: anthropicErrorBody('rate_limit_error', 'Number of request tokens has exceeded your rate limit.'),
      },
      { body: await readFixture('text-stream.sse') },
    );
    // A backoff of 10 s would time the test out: only Retry-After can make the wait this short.
    const started = Date.now();
    const events = await collect(
      model({ retry: { maxRetries: 2, initialDelayMs: 10_000, maxDelayMs: 10_000 } }).stream(hello),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.requests).toHaveLength(2);
    expect(textOf(events)).toBe('Hello, world! ¿Qué tal? 日本語もOK');
  });

  it('retries 529 overloaded and 500, then succeeds', async () => {
    server.reply(
      { status: 529, body: anthropicErrorBody('overloaded_error', 'Overloaded') },
      { status: 500, body: anthropicErrorBody('api_error', 'Internal server error') },
      { body: await readFixture('text-stream.sse') },
    );
    const events = await collect(model().stream(hello));
    expect(server.requests).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('gives up after the allowed retries with the last server error', async () => {
    const overloaded = { status: 529, body: anthropicErrorBody('overloaded_error', 'Overloaded') };
    server.reply(overloaded, overloaded);
    const { events, error } = await collectUntilError(model({ retry: { ...fastRetry, maxRetries: 1 } }).stream(hello));
    expect(events).toEqual([]);
    expect(server.requests).toHaveLength(2);
    expect(error).toMatchObject({ code: 'model_server_error', status: 529, retryable: true, provider: 'anthropic' });
    expect(error.message).toContain('Overloaded');
  });

  it('does not retry 401 and says how to set the key', async () => {
    server.reply({ status: 401, body: anthropicErrorBody('authentication_error', 'invalid x-api-key') });
    const { error } = await collectUntilError(model().stream(hello));
    expect(server.requests).toHaveLength(1);
    expect(error).toMatchObject({ code: 'model_auth', status: 401, retryable: false });
    expect(error.message).toContain('set ANTHROPIC_API_KEY or the apiKey option');
    expect(error.message).toContain('invalid x-api-key');
  });

  it('times out a request whose response never starts, retrying it first', async () => {
    server.reply({ silent: true }, { silent: true });
    const { error } = await collectUntilError(
      model({ timeoutMs: 100, retry: { ...fastRetry, maxRetries: 1 } }).stream(hello),
    );
    expect(server.requests).toHaveLength(2);
    expect(error.code).toBe('model_timeout');
  });
});

describe('createAnthropicModel: failures mid-stream', () => {
  it('fails with model_unreachable when the connection is reset mid-stream', async () => {
    server.reply({ body: streamOpening, after: 'reset' });
    const { events, error } = await collectUntilError(model().stream(hello));
    expect(textOf(events)).toBe('Hello');
    expect(error).toMatchObject({ code: 'model_unreachable', retryable: true });
    expect(server.requests).toHaveLength(1);
  });

  it('fails with model_bad_response on malformed JSON in an event', async () => {
    server.reply({
      body: `${streamOpening}event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de\n\n`,
    });
    const { events, error } = await collectUntilError(model().stream(hello));
    expect(textOf(events)).toBe('Hello');
    expect(error.code).toBe('model_bad_response');
    expect(error.message).toContain('malformed JSON');
  });

  it('fails with model_bad_response for a tool input delta that belongs to no tool_use block', async () => {
    server.reply({
      body:
        streamOpening +
        sseEvent({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{' } }),
    });
    const { error } = await collectUntilError(model().stream(hello));
    expect(error.code).toBe('model_bad_response');
  });

  it('fails with model_bad_response when the stream ends before message_stop', async () => {
    server.reply({ body: streamOpening });
    const { events, error } = await collectUntilError(model().stream(hello));
    expect(textOf(events)).toBe('Hello');
    expect(error.code).toBe('model_bad_response');
    expect(error.message).toContain('message_stop');
  });

  it('fails with model_bad_response when a 200 response carries no event stream', async () => {
    server.reply({ headers: { 'content-type': 'application/json' }, body: '' });
    const { error } = await collectUntilError(model().stream(hello));
    expect(error.code).toBe('model_bad_response');
    expect(error.message).toContain('application/json');
  });

  it('turns an overloaded error event into a retryable model_server_error (the whole call may be made again)', async () => {
    server.reply({
      body: streamOpening + sseEvent({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
      after: 'hang',
    });
    const { events, error } = await collectUntilError(model().stream(hello));
    expect(textOf(events)).toBe('Hello');
    expect(error).toMatchObject({ code: 'model_server_error', retryable: true, provider: 'anthropic' });
    expect(error.message).toContain('overloaded_error');
    expect(error.message).toContain('Overloaded');
    expect(server.requests).toHaveLength(1);
  });

  it('fails with model_timeout when the stream goes silent for idleTimeoutMs', async () => {
    server.reply({ body: streamOpening, after: 'hang' });
    const started = Date.now();
    const { events, error } = await collectUntilError(model({ idleTimeoutMs: 150 }).stream(hello));
    expect(textOf(events)).toBe('Hello');
    expect(error.code).toBe('model_timeout');
    expect(error.message).toContain('idleTimeoutMs');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops promptly with model_aborted when aborted mid-stream', async () => {
    server.reply({ body: streamOpening, after: 'hang' });
    const controller = new AbortController();
    const events: ModelStreamEvent[] = [];
    let abortedAt = 0;
    const consumed = (async () => {
      for await (const event of model().stream({ ...hello, abortSignal: controller.signal })) {
        events.push(event);
        // Abort later, while the model waits on the stalled stream rather than between events.
        if (event.type === 'text-delta') {
          setTimeout(() => {
            abortedAt = Date.now();
            controller.abort();
          }, 30);
        }
      }
    })();
    await expect(consumed).rejects.toMatchObject({ code: 'model_aborted', retryable: false });
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    expect(textOf(events)).toBe('Hello');
  });

  it('enforces the idle timeout and aborts even when a custom fetch ignores the abort signal', async () => {
    const deafFetch: typeof fetch = (input, init) => fetch(input, { ...init, signal: null });
    server.reply({ body: streamOpening, after: 'hang' }, { body: streamOpening, after: 'hang' });
    const { error: idle } = await collectUntilError(model({ fetch: deafFetch, idleTimeoutMs: 100 }).stream(hello));
    expect(idle.code).toBe('model_timeout');

    const controller = new AbortController();
    const stream = model({ fetch: deafFetch }).stream({ ...hello, abortSignal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const { events, error } = await collectUntilError(stream);
    expect(textOf(events)).toBe('Hello');
    expect(error.code).toBe('model_aborted');
  });

  it('aborts while waiting for a silent server, and sends nothing when aborted before the call', async () => {
    server.reply({ silent: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const { error } = await collectUntilError(model().stream({ ...hello, abortSignal: controller.signal }));
    expect(error.code).toBe('model_aborted');

    const { error: early } = await collectUntilError(model().stream({ ...hello, abortSignal: AbortSignal.abort() }));
    expect(early.code).toBe('model_aborted');
    expect(server.requests).toHaveLength(1);
  });
});
