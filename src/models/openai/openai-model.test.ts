import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelCallError } from '../../errors.js';
import type { ModelRequest, ModelStreamEvent } from '../spec.js';
import type { RetryPolicy } from '../transport/http.js';
import {
  type FakeOpenAIServer,
  type FakeReply,
  jsonReply,
  silentReply,
  sseBody,
  startFakeOpenAIServer,
  streamReply,
} from './fake-openai-server.js';
import { createOpenAIModel, type OpenAIModelOptions } from './openai-model.js';
import { toOpenAIRequestBody } from './openai-wire.js';

const fastRetry: RetryPolicy = { maxRetries: 2, initialDelayMs: 5, maxDelayMs: 2_000 };
const hello: ModelRequest = { messages: [{ role: 'user', content: 'Say hello.' }] };

let server: FakeOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(...replies: FakeReply[]): Promise<FakeOpenAIServer> {
  server = await startFakeOpenAIServer(replies);
  return server;
}

function modelFor(fake: FakeOpenAIServer, options: Partial<OpenAIModelOptions> = {}) {
  return createOpenAIModel({
    modelId: 'gpt-4o-mini',
    baseURL: fake.baseURL,
    apiKey: 'sk-test',
    retry: fastRetry,
    ...options,
  });
}

function fixture(name: string): string {
  return readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
}

async function collect(events: AsyncIterable<ModelStreamEvent>): Promise<ModelStreamEvent[]> {
  const collected: ModelStreamEvent[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

/** Collect events until the stream throws; fails the test if it does not. */
async function collectUntilError(
  events: AsyncIterable<ModelStreamEvent>,
): Promise<{ events: ModelStreamEvent[]; error: ModelCallError }> {
  const collected: ModelStreamEvent[] = [];
  try {
    for await (const event of events) collected.push(event);
  } catch (caught) {
    expect(caught).toBeInstanceOf(ModelCallError);
    return { events: collected, error: caught as ModelCallError };
  }
  throw new Error(`expected the stream to fail, got ${JSON.stringify(collected)}`);
}

function textOf(events: ModelStreamEvent[]): string {
  return events.map((event) => (event.type === 'text-delta' ? event.delta : '')).join('');
}

/** A chunk shaped like OpenAI's, with only the delta and finish reason varying. */
function chunk(delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion.chunk',
    created: 1749312000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    usage: null,
  };
}

describe('createOpenAIModel streaming', () => {
  it('streams text, then usage with cached tokens, then the finish reason', async () => {
    // Seven-byte writes split the UTF-8 of "ö" and "👋" across TCP reads.
    const fake = await serve(streamReply(fixture('text-stream.txt'), { pieceSize: 7 }));
    const model = modelFor(fake);
    expect(model.specificationVersion).toBe('v1');
    expect(model.provider).toBe('openai');
    expect(model.modelId).toBe('gpt-4o-mini');

    const events = await collect(model.stream(hello));

    expect(events[0]).toEqual({ type: 'stream-start', warnings: [] });
    expect(textOf(events)).toBe('Hello, wörld! 👋 How can I help?');
    expect(events.filter((event) => event.type === 'text-delta')).toHaveLength(6);
    expect(events.slice(-2)).toEqual([
      {
        type: 'usage',
        usage: {
          inputTokens: 1234,
          outputTokens: 11,
          cachedInputTokens: 1024,
          cacheWriteTokens: undefined,
          reasoningTokens: 0,
        },
      },
      { type: 'finish', finishReason: 'stop', providerFinishReason: 'stop' },
    ]);
  });

  it('reassembles tool-call arguments split across many chunks', async () => {
    const fake = await serve(streamReply(fixture('tool-call-stream.txt'), { pieceSize: 50 }));
    const events = await collect(modelFor(fake).stream(hello));
    const id = 'call_Xk3pL9qRz2Vw8Ny4Tb6Mc1Hd';
    const fullArguments = '{"city": "Kyōto", "unit": "celsius", "days": 3}';

    expect(events.filter((event) => event.type === 'tool-call-start')).toEqual([
      { type: 'tool-call-start', id, name: 'get_weather', index: 0 },
    ]);
    const deltas = events.filter((event) => event.type === 'tool-call-delta');
    expect(deltas.length).toBeGreaterThan(10);
    expect(deltas.every((event) => event.id === id)).toBe(true);
    expect(deltas.map((event) => event.argumentsDelta).join('')).toBe(fullArguments);
    expect(events.slice(-3)).toEqual([
      { type: 'tool-call-end', id, name: 'get_weather', arguments: fullArguments },
      {
        type: 'usage',
        usage: {
          inputTokens: 88,
          outputTokens: 24,
          cachedInputTokens: 0,
          cacheWriteTokens: undefined,
          reasoningTokens: 0,
        },
      },
      { type: 'finish', finishReason: 'tool-calls', providerFinishReason: 'tool_calls' },
    ]);
  });

  it('keeps interleaved parallel tool calls apart by index', async () => {
    const fake = await serve(streamReply(fixture('parallel-tool-calls.txt')));
    const events = await collect(modelFor(fake).stream(hello));
    const readFile = 'call_R1aB2cD3eF4gH5iJ6kL7mN8o';
    const search = 'call_S9pQ8rS7tU6vW5xY4zA3bC2d';

    expect(events.filter((event) => event.type === 'tool-call-start')).toEqual([
      { type: 'tool-call-start', id: readFile, name: 'read_file', index: 0 },
      { type: 'tool-call-start', id: search, name: 'search', index: 1 },
    ]);
    const deltaIds = events.flatMap((event) => (event.type === 'tool-call-delta' ? [event.id] : []));
    expect(deltaIds).toEqual([readFile, search, readFile, search, readFile, search]);
    expect(events.filter((event) => event.type === 'tool-call-end')).toEqual([
      { type: 'tool-call-end', id: readFile, name: 'read_file', arguments: '{"path": "src/index.ts"}' },
      { type: 'tool-call-end', id: search, name: 'search', arguments: '{"pattern": "TODO", "glob": "**/*.ts"}' },
    ]);
    expect(events.at(-2)).toEqual({
      type: 'usage',
      usage: {
        inputTokens: 310,
        outputTokens: 52,
        cachedInputTokens: 256,
        cacheWriteTokens: undefined,
        reasoningTokens: 0,
      },
    });
  });

  it('reads an Ollama-style stream: whole tool call in one chunk, finish "stop", usage without details', async () => {
    const fake = await serve(streamReply(fixture('ollama-tool-call.txt')));
    const model = modelFor(fake, { provider: 'ollama', modelId: 'qwen2.5:7b', apiKey: undefined });
    const events = await collect(model.stream(hello));

    expect(events).toEqual([
      { type: 'stream-start', warnings: [] },
      { type: 'tool-call-start', id: 'call_k2t9wq7d', name: 'get_weather', index: 0 },
      { type: 'tool-call-delta', id: 'call_k2t9wq7d', argumentsDelta: '{"city":"Paris"}' },
      { type: 'tool-call-end', id: 'call_k2t9wq7d', name: 'get_weather', arguments: '{"city":"Paris"}' },
      {
        type: 'usage',
        usage: { inputTokens: 142, outputTokens: 21, cachedInputTokens: undefined, cacheWriteTokens: undefined },
      },
      // The server said "stop" but the turn ended in a tool call.
      { type: 'finish', finishReason: 'tool-calls', providerFinishReason: 'stop' },
    ]);
  });

  it('reports usage fields the server left out as undefined, and DeepSeek cache hits as cached tokens', async () => {
    const fake = await serve(
      streamReply(sseBody([chunk({ content: 'x' }, 'stop'), { choices: [], usage: { completion_tokens: 3 } }])),
      streamReply(
        sseBody([
          chunk({ content: 'y' }, 'stop'),
          { choices: [], usage: { prompt_tokens: 50, completion_tokens: 2, prompt_cache_hit_tokens: 40 } },
        ]),
      ),
    );
    const model = modelFor(fake);
    const partial = await collect(model.stream(hello));
    expect(partial.find((event) => event.type === 'usage')).toEqual({
      type: 'usage',
      usage: { inputTokens: undefined, outputTokens: 3, cachedInputTokens: undefined, cacheWriteTokens: undefined },
    });
    const deepseek = await collect(model.stream(hello));
    expect(deepseek.find((event) => event.type === 'usage')).toEqual({
      type: 'usage',
      usage: { inputTokens: 50, outputTokens: 2, cachedInputTokens: 40, cacheWriteTokens: undefined },
    });
  });

  it('emits no usage event when the server reports none', async () => {
    const fake = await serve(streamReply(sseBody([chunk({ content: 'hi' }, 'stop')])));
    const events = await collect(modelFor(fake).stream(hello));
    expect(events.map((event) => event.type)).toEqual(['stream-start', 'text-delta', 'finish']);
  });

  it('maps every finish reason', async () => {
    const reasons = ['stop', 'length', 'tool_calls', 'content_filter', 'function_call', 'something_new'];
    const fake = await serve(...reasons.map((reason) => streamReply(sseBody([chunk({ content: 'a' }, reason)]))));
    const model = modelFor(fake);
    const mapped: string[] = [];
    for (const _reason of reasons) {
      const finish = (await collect(model.stream(hello))).at(-1);
      if (finish?.type !== 'finish') throw new Error('expected a finish event last');
      mapped.push(finish.finishReason);
    }
    expect(mapped).toEqual(['stop', 'length', 'tool-calls', 'content-filter', 'tool-calls', 'other']);
  });

  it('accepts a stream with a finish_reason but no [DONE]', async () => {
    const fake = await serve(streamReply(sseBody([chunk({ content: 'ok' }, 'stop')], { done: false })));
    const events = await collect(modelFor(fake).stream(hello));
    expect(events.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', providerFinishReason: 'stop' });
  });

  it('makes up an id for a tool call that has none, and follows calls sent without an index', async () => {
    const fake = await serve(
      streamReply(
        sseBody([
          chunk({ tool_calls: [{ function: { name: 'lookup', arguments: '{"q":' } }] }),
          chunk({ tool_calls: [{ function: { arguments: '"tea"}' } }] }),
          chunk({}, 'tool_calls'),
        ]),
      ),
    );
    const events = await collect(modelFor(fake).stream(hello));
    const start = events.find((event) => event.type === 'tool-call-start');
    if (start?.type !== 'tool-call-start') throw new Error('expected a tool-call-start');
    // Nine alphanumerics: the one id shape every provider accepts (vLLM's Mistral tokenizer demands it).
    expect(start.id).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(events.find((event) => event.type === 'tool-call-end')).toEqual({
      type: 'tool-call-end',
      id: start.id,
      name: 'lookup',
      arguments: '{"q":"tea"}',
    });
  });

  it('starts a new call when a new id arrives at a used index (Ollama streams every call at index 0)', async () => {
    const fake = await serve(
      streamReply(
        sseBody([
          chunk({
            tool_calls: [
              { index: 0, id: 'call_a1', type: 'function', function: { name: 'add', arguments: '{"a":1,' } },
            ],
          }),
          chunk({ tool_calls: [{ index: 0, function: { arguments: '"b":2}' } }] }),
          chunk({
            tool_calls: [
              { index: 0, id: 'call_b2', type: 'function', function: { name: 'add', arguments: '{"a":3,' } },
            ],
          }),
          chunk({ tool_calls: [{ index: 0, function: { arguments: '"b":4}' } }] }),
          chunk({}, 'tool_calls'),
        ]),
      ),
    );
    const events = await collect(modelFor(fake, { provider: 'ollama' }).stream(hello));
    expect(events.filter((event) => event.type === 'tool-call-end')).toEqual([
      { type: 'tool-call-end', id: 'call_a1', name: 'add', arguments: '{"a":1,"b":2}' },
      { type: 'tool-call-end', id: 'call_b2', name: 'add', arguments: '{"a":3,"b":4}' },
    ]);
  });

  it('reads a flood of calls at one index in time linear in their number (a hostile server)', async () => {
    // 100,000 calls, each a new id at index 0: a scan of the calls seen per call held the thread
    // for minutes, then threw (a spread of that many arguments).
    const count = 100_000;
    const calls = Array.from({ length: count }, (_, position) => ({
      index: 0,
      id: `c${position}`,
      type: 'function',
      function: { name: 'f', arguments: '{}' },
    }));
    const fake = await serve(streamReply(sseBody([chunk({ tool_calls: calls }), chunk({}, 'tool_calls')])));
    const events = await collect(modelFor(fake, { provider: 'ollama' }).stream(hello));
    const ends = events.filter((event) => event.type === 'tool-call-end');
    expect(ends).toHaveLength(count);
    expect(ends.at(-1)).toEqual({ type: 'tool-call-end', id: `c${count - 1}`, name: 'f', arguments: '{}' });
  }, 30_000);

  it('streams DeepSeek reasoning_content as reasoning, then one reasoning part', async () => {
    const fake = await serve(streamReply(fixture('deepseek-reasoning-tool-call.txt')));
    const events = await collect(modelFor(fake, { provider: 'deepseek', modelId: 'deepseek-reasoner' }).stream(hello));
    expect(events.filter((event) => event.type === 'reasoning-delta').map((event) => event.delta)).toEqual([
      'The user wants 2 + 3.',
      ' I should call add.',
    ]);
    expect(events).toContainEqual({
      type: 'reasoning',
      part: { type: 'reasoning', text: 'The user wants 2 + 3. I should call add.' },
    });
    expect(events.find((event) => event.type === 'usage')).toMatchObject({
      usage: { reasoningTokens: 37, cachedInputTokens: 256 },
    });
  });

  it('sends reasoning back as reasoning_content on tool-call turns only, and never to OpenAI', () => {
    const messages: ModelRequest['messages'] = [
      { role: 'user', content: '2 + 3?' },
      {
        role: 'assistant',
        content: [
          { type: 'reasoning', text: 'Call add.' },
          { type: 'tool-call', id: 'call_1', name: 'add', arguments: '{"a":2,"b":3}' },
        ],
      },
      { role: 'tool', toolCallId: 'call_1', toolName: 'add', content: '5' },
      {
        role: 'assistant',
        content: [
          { type: 'reasoning', text: 'Done.' },
          { type: 'text', text: '5' },
        ],
      },
      { role: 'user', content: 'Thanks.' },
    ];
    const deepseek = toOpenAIRequestBody('deepseek-reasoner', { messages }, { provider: 'deepseek' }).body.messages;
    expect(deepseek[1]).toMatchObject({ reasoning_content: 'Call add.' });
    expect(deepseek[3]).not.toHaveProperty('reasoning_content');
    const openai = toOpenAIRequestBody('gpt-4o-mini', { messages }, { provider: 'openai' }).body.messages;
    expect(openai[1]).not.toHaveProperty('reasoning_content');
  });

  it('accepts tool-call arguments sent as a JSON object (llama.cpp server builds)', async () => {
    const fake = await serve(streamReply(fixture('llamacpp-object-arguments.txt')));
    const events = await collect(modelFor(fake, { provider: 'llamacpp' }).stream(hello));
    expect(events).toContainEqual({
      type: 'tool-call-end',
      id: 'k3Zp9QxR2mVw7Lb1',
      name: 'add',
      arguments: '{"a":2,"b":3}',
    });
  });

  it('ends a refusal with finish reason refusal and the refusal text, not an empty stop', async () => {
    const fake = await serve(
      streamReply(sseBody([chunk({ refusal: "I can't" }), chunk({ refusal: ' help with that.' }, 'stop')])),
    );
    const events = await collect(modelFor(fake).stream(hello));
    expect(events).toContainEqual({ type: 'refusal', text: "I can't help with that." });
    expect(events.at(-1)).toEqual({ type: 'finish', finishReason: 'refusal', providerFinishReason: 'stop' });
  });

  it('accepts a server that ignores stream: true and answers with one JSON completion', async () => {
    const fake = await serve(
      jsonReply(200, {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: 'Checking.',
              tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
      }),
    );
    const events = await collect(modelFor(fake).stream(hello));
    expect(events.map((event) => event.type)).toEqual([
      'stream-start',
      'text-delta',
      'tool-call-start',
      'tool-call-delta',
      'tool-call-end',
      'usage',
      'finish',
    ]);
    expect(textOf(events)).toBe('Checking.');
  });

  it('closes the connection when the consumer stops reading early', async () => {
    const body = sseBody([chunk({ content: 'first' }), chunk({ content: 'second' })], { done: false });
    const fake = await serve(streamReply(body, { ending: 'stall' }));
    for await (const event of modelFor(fake).stream(hello)) {
      if (event.type === 'text-delta') break;
    }
    await expect(fake.closed(0)).resolves.toBeUndefined();
  });
});

describe('createOpenAIModel request', () => {
  it('sends the full request body and headers', async () => {
    const fake = await serve(streamReply(fixture('text-stream.txt')));
    const model = createOpenAIModel({
      modelId: 'gpt-4o-mini',
      baseURL: `${fake.baseURL}/`,
      apiKey: 'sk-test-123',
      headers: { 'x-title': 'Hataraku tests' },
      retry: fastRetry,
    });
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    await collect(
      model.stream({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Let me check.' },
              { type: 'tool-call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
              { type: 'tool-call', id: 'call_2', name: 'get_time', arguments: '{}' },
            ],
          },
          { role: 'tool', toolCallId: 'call_1', toolName: 'get_weather', content: '{"celsius":21}' },
          { role: 'tool', toolCallId: 'call_2', toolName: 'get_time', content: 'clock broken', isError: true },
          { role: 'assistant', content: [{ type: 'tool-call', id: 'call_3', name: 'get_time', arguments: '{}' }] },
          { role: 'tool', toolCallId: 'call_3', toolName: 'get_time', content: '12:00' },
        ],
        tools: [
          {
            name: 'get_weather',
            description: 'Weather for a city.',
            inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
          },
        ],
        toolChoice: { type: 'tool', name: 'get_weather' },
        parallelToolCalls: false,
        responseFormat: { type: 'json-schema', name: 'answer', schema, strict: true, description: 'The answer.' },
        temperature: 0.2,
        maxOutputTokens: 256,
        stop: ['END'],
      }),
    );

    expect(fake.requests).toHaveLength(1);
    const [sent] = fake.requests;
    expect(sent?.method).toBe('POST');
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBe('Bearer sk-test-123');
    expect(sent?.headers['x-title']).toBe('Hataraku tests');
    expect(sent?.headers['content-type']).toBe('application/json');
    expect(sent?.body).toEqual({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":21}' },
        { role: 'tool', tool_call_id: 'call_2', content: 'clock broken' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_3', type: 'function', function: { name: 'get_time', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_3', content: '12:00' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather for a city.',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      response_format: {
        type: 'json_schema',
        // Strict mode needs additionalProperties: false, which the schema left out.
        json_schema: {
          name: 'answer',
          schema: { ...schema, additionalProperties: false },
          strict: true,
          description: 'The answer.',
        },
      },
      temperature: 0.2,
      // OpenAI itself gets max_completion_tokens (its reasoning models reject max_tokens).
      max_completion_tokens: 256,
      stop: ['END'],
    });
  });

  it('sends no Authorization header without a key, and omits tool options without tools', async () => {
    const fake = await serve(streamReply(fixture('text-stream.txt')), streamReply(fixture('text-stream.txt')));
    const model = modelFor(fake, { apiKey: undefined, provider: 'llama.cpp' });

    const events = await collect(
      model.stream({ ...hello, toolChoice: 'required', parallelToolCalls: true, responseFormat: { type: 'json' } }),
    );
    await collect(model.stream({ ...hello, toolChoice: 'auto', responseFormat: { type: 'text' } }));

    expect(events[0]).toEqual({
      type: 'stream-start',
      warnings: [
        {
          type: 'unsupported-setting',
          setting: 'toolChoice',
          message: 'toolChoice asks for a tool call but the request has no tools; it was not sent.',
        },
      ],
    });
    const [first, second] = fake.requests;
    expect(first?.headers.authorization).toBeUndefined();
    expect(first?.body).toEqual({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Say hello.' }],
      response_format: { type: 'json_object' },
    });
    expect(second?.body).not.toHaveProperty('response_format');
    expect(second?.body).not.toHaveProperty('tool_choice');
  });

  it('sends tool_choice strings as they are and parallel_tool_calls only when set', async () => {
    const fake = await serve(streamReply(fixture('text-stream.txt')), streamReply(fixture('text-stream.txt')));
    const model = modelFor(fake);
    const tools = [{ name: 'noop', description: 'Does nothing.', inputSchema: { type: 'object' } }];
    await collect(model.stream({ ...hello, tools, toolChoice: 'required' }));
    await collect(model.stream({ ...hello, tools, toolChoice: 'none', parallelToolCalls: true }));
    expect(fake.requests[0]?.body).toMatchObject({ tool_choice: 'required' });
    expect(fake.requests[0]?.body).not.toHaveProperty('parallel_tool_calls');
    expect(fake.requests[1]?.body).toMatchObject({ tool_choice: 'none', parallel_tool_calls: true });
  });

  it('rejects bad options with errors naming the option', () => {
    expect(() => createOpenAIModel({ modelId: '' })).toThrow(/modelId/);
    expect(() => createOpenAIModel({ modelId: 'm', baseURL: 'not a url' })).toThrow(/baseURL/);
    expect(() => createOpenAIModel({ modelId: 'm', timeoutMs: 0 })).toThrow(RangeError);
    expect(() => createOpenAIModel({ modelId: 'm', idleTimeoutMs: Number.NaN })).toThrow(/idleTimeoutMs/);
  });
});

describe('createOpenAIModel failures before the stream', () => {
  it('retries a 429, waiting as long as Retry-After says', async () => {
    const fake = await serve(
      jsonReply(429, { error: { message: 'Rate limit reached', type: 'requests' } }, { 'retry-after': '0.3' }),
      streamReply(fixture('text-stream.txt')),
    );
    const events = await collect(modelFor(fake).stream(hello));
    expect(textOf(events)).toBe('Hello, wörld! 👋 How can I help?');
    expect(fake.requests).toHaveLength(2);
    const waited = (fake.requests[1]?.receivedAt ?? 0) - (fake.requests[0]?.receivedAt ?? 0);
    // The backoff alone would be about 5 ms; the server asked for 300.
    expect(waited).toBeGreaterThanOrEqual(280);
    expect(waited).toBeLessThan(2_000);
  });

  it('gives up on 429 after the allowed retries with an error saying what to do', async () => {
    const limited = jsonReply(429, { error: { message: 'Rate limit reached for gpt-4o-mini', type: 'requests' } });
    const fake = await serve(limited, limited, limited, streamReply(fixture('text-stream.txt')));
    const { events, error } = await collectUntilError(modelFor(fake).stream(hello));
    expect(events).toEqual([]);
    expect(fake.requests).toHaveLength(3);
    expect(error.code).toBe('model_rate_limited');
    expect(error.status).toBe(429);
    expect(error.provider).toBe('openai');
    expect(error.message).toContain('openai:gpt-4o-mini');
    expect(error.message).toContain('429');
    expect(error.message).toContain('Rate limit reached for gpt-4o-mini');
    expect(error.message).toMatch(/lower concurrency|fallback/);
  });

  it('retries a 500 and then streams', async () => {
    const fake = await serve(
      jsonReply(500, { error: { message: 'The server had an error', type: 'server_error' } }),
      streamReply(fixture('text-stream.txt')),
    );
    const events = await collect(modelFor(fake).stream(hello));
    expect(fake.requests).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('does not retry a 401 and points at the API key', async () => {
    const fake = await serve(
      jsonReply(401, { error: { message: 'Incorrect API key provided: sk-test', code: 'invalid_api_key' } }),
      streamReply(fixture('text-stream.txt')),
    );
    const { error } = await collectUntilError(modelFor(fake).stream(hello));
    expect(fake.requests).toHaveLength(1);
    expect(error.code).toBe('model_auth');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('OPENAI_API_KEY');
    expect(error.message).toContain('Incorrect API key provided');
  });

  it('uses the provider label and auth hint given for other servers', async () => {
    const fake = await serve(jsonReply(401, { error: { message: 'Authentication Fails' } }));
    const model = modelFor(fake, { provider: 'deepseek', modelId: 'deepseek-chat', authHint: 'set DEEPSEEK_API_KEY' });
    const { error } = await collectUntilError(model.stream(hello));
    expect(error.provider).toBe('deepseek');
    expect(error.message).toContain('deepseek:deepseek-chat');
    expect(error.message).toContain('set DEEPSEEK_API_KEY');
  });

  it('reports an unknown model on 404 without retrying', async () => {
    const fake = await serve(
      jsonReply(404, {
        error: {
          message: 'The model `gpt-9` does not exist or you do not have access to it.',
          code: 'model_not_found',
        },
      }),
    );
    const { error } = await collectUntilError(modelFor(fake, { modelId: 'gpt-9' }).stream(hello));
    expect(fake.requests).toHaveLength(1);
    expect(error.code).toBe('model_unknown');
    expect(error.status).toBe(404);
    expect(error.message).toContain('"gpt-9"');
    expect(error.message).toContain('does not exist');
  });

  it('times out when the server never answers', async () => {
    const fake = await serve(silentReply(), silentReply());
    const started = Date.now();
    const model = modelFor(fake, { timeoutMs: 100, retry: { maxRetries: 1, initialDelayMs: 5, maxDelayMs: 50 } });
    const { error } = await collectUntilError(model.stream(hello));
    expect(error.code).toBe('model_timeout');
    expect(error.message).toContain('no response within 100 ms');
    expect(fake.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not send anything when the signal is already aborted', async () => {
    const fake = await serve(streamReply(fixture('text-stream.txt')));
    const { error } = await collectUntilError(modelFor(fake).stream({ ...hello, abortSignal: AbortSignal.abort() }));
    expect(error.code).toBe('model_aborted');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('createOpenAIModel failures mid-stream', () => {
  const twoChunks = sseBody([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' })], { done: false });

  it('reports a connection cut mid-stream as unreachable, without retrying', async () => {
    const fake = await serve(streamReply(twoChunks, { ending: 'destroy' }), streamReply(fixture('text-stream.txt')));
    const { events, error } = await collectUntilError(modelFor(fake).stream(hello));
    expect(textOf(events)).toBe('Hel');
    expect(error.code).toBe('model_unreachable');
    expect(error.message).toContain('the stream was cut off after 2 chunks');
    expect(fake.requests).toHaveLength(1);
  });

  it('rejects a malformed chunk, quoting what arrived', async () => {
    const fake = await serve(
      streamReply(`${twoChunks}data: {"id":"chatcmpl-test","choices":[{"index":0,"delta":{"con\n\n`),
    );
    const { events, error } = await collectUntilError(modelFor(fake).stream(hello));
    expect(textOf(events)).toBe('Hel');
    expect(error.code).toBe('model_bad_response');
    expect(error.message).toContain('openai:gpt-4o-mini');
    expect(error.message).toContain('not valid JSON');
    expect(error.message).toContain('{\\"id\\":\\"chatcmpl-test\\"');
  });

  it('truncates a long malformed payload in the message', async () => {
    const fake = await serve(streamReply(`data: ${'x'.repeat(5_000)}\n\n`));
    const { error } = await collectUntilError(modelFor(fake).stream(hello));
    expect(error.code).toBe('model_bad_response');
    expect(error.message.length).toBeLessThan(400);
  });

  it('rejects a chunk of the wrong shape', async () => {
    const fake = await serve(streamReply(sseBody([{ choices: 'none' }])));
    const { error } = await collectUntilError(modelFor(fake).stream(hello));
    expect(error.code).toBe('model_bad_response');
    expect(error.message).toContain('unexpected shape (choices');
  });

  it('turns an error object in the stream into a server error', async () => {
    const fake = await serve(
      streamReply(
        sseBody([
          chunk({ content: 'Hel' }),
          { error: { message: 'Internal error while generating', type: 'server_error' } },
        ]),
      ),
    );
    const { events, error } = await collectUntilError(modelFor(fake).stream(hello));
    expect(textOf(events)).toBe('Hel');
    expect(error.code).toBe('model_server_error');
    expect(error.message).toContain('Internal error while generating');
    expect(fake.requests).toHaveLength(1);
  });

  it('rejects a stream that ends without a finish_reason or [DONE]', async () => {
    const fake = await serve(streamReply(twoChunks));
    const { events, error } = await collectUntilError(modelFor(fake).stream(hello));
    expect(textOf(events)).toBe('Hel');
    expect(error.code).toBe('model_bad_response');
    expect(error.message).toContain('without a finish_reason or [DONE]');
  });

  it('times out when the stream goes silent', async () => {
    const fake = await serve(streamReply(twoChunks, { ending: 'stall' }));
    const started = Date.now();
    const { events, error } = await collectUntilError(modelFor(fake, { idleTimeoutMs: 150 }).stream(hello));
    expect(textOf(events)).toBe('Hel');
    expect(error.code).toBe('model_timeout');
    expect(error.message).toContain('silent for 150 ms after 2 chunks');
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(fake.closed(0)).resolves.toBeUndefined();
  });

  it('leaves no abort listener behind on a signal that many calls share, however each ends', async () => {
    const fake = await serve(
      streamReply(twoChunks, { pieceSize: 7 }),
      streamReply(twoChunks, { ending: 'stall' }),
      streamReply(twoChunks, { pieceSize: 7 }),
    );
    const run = new AbortController();
    const model = modelFor(fake, { idleTimeoutMs: 200 });
    // Ends without a finish reason: the call fails once the body has ended.
    const cut = await collectUntilError(model.stream({ ...hello, abortSignal: run.signal }));
    expect(cut.error.code).toBe('model_bad_response');
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
    const silent = await collectUntilError(model.stream({ ...hello, abortSignal: run.signal }));
    expect(silent.error.code).toBe('model_timeout');
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
    // A consumer that stops early.
    for await (const event of model.stream({ ...hello, abortSignal: run.signal })) {
      if (event.type === 'text-delta') break;
    }
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });

  it('stops promptly when aborted mid-stream and closes the connection', async () => {
    const fake = await serve(streamReply(twoChunks, { ending: 'stall' }));
    const controller = new AbortController();
    const events: ModelStreamEvent[] = [];
    let abortedAt = 0;
    const failure = await (async () => {
      try {
        for await (const event of modelFor(fake).stream({ ...hello, abortSignal: controller.signal })) {
          events.push(event);
          if (event.type === 'text-delta') {
            abortedAt = Date.now();
            controller.abort();
          }
        }
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(failure).toBeInstanceOf(ModelCallError);
    expect((failure as ModelCallError).code).toBe('model_aborted');
    expect(Date.now() - abortedAt).toBeLessThan(500);
    expect(textOf(events)).toBe('Hel');
    await expect(fake.closed(0)).resolves.toBeUndefined();
  });

  it('stops promptly on abort even when the fetch implementation ignores the signal', async () => {
    const fake = await serve(streamReply(twoChunks, { ending: 'stall' }));
    const controller = new AbortController();
    const deafFetch: typeof fetch = (input, init) => {
      const { signal: _ignored, ...rest } = init ?? {};
      return fetch(input, rest);
    };
    const stream = modelFor(fake, { fetch: deafFetch }).stream({ ...hello, abortSignal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    const pending = iterator.next();
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'model_aborted' });
  });
});
