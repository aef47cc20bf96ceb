/**
 * The relay (`relay.ts`) and the server's fast lane (`fast-lane.ts`) over real HTTP: a real
 * `hataraku serve`-like server on port 0 in front of a fake OpenAI upstream on loopback that
 * answers as OpenAI does (a whole completion when not asked to stream, events when asked).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { streamText, tool } from 'ai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHataraku, type Hataraku } from '../../hataraku.js';
import {
  type FakeOpenAIServer,
  type FakeReply,
  jsonReply,
  silentReply,
  sseBody,
  startFakeOpenAIServer,
  streamReply,
} from '../../models/openai/fake-openai-server.js';
import { developmentKey } from '../auth.js';
import { createNodeHttpFetch } from '../node-http-fetch.js';
import { createServer, type HatarakuServer, startServer } from '../server.js';
import type { GatewayCall } from './gateway-ledger.js';
import { createChatRelay, type RelaySink } from './relay.js';

const usage = { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 };
/** 1000 input tokens at $1/M plus 100 output tokens at $4/M. */
const cost = 0.0014;

/** A whole completion as OpenAI sends it, with fields the gateway has no use for. */
function completion(text: string) {
  return {
    id: 'chatcmpl-upstream-1',
    object: 'chat.completion',
    created: 1749312000,
    model: 'gpt-test-2025-01-01',
    system_fingerprint: 'fp_abc123',
    service_tier: 'default',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text, refusal: null, annotations: [] },
        logprobs: { content: [{ token: 'Hi', logprob: -0.01, bytes: [72, 105], top_logprobs: [] }] },
        finish_reason: 'stop',
      },
    ],
    usage: { ...usage, prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 } },
  };
}

const chunkBase = {
  id: 'chatcmpl-upstream-2',
  object: 'chat.completion.chunk',
  created: 1749312000,
  model: 'gpt-test-2025-01-01',
  system_fingerprint: 'fp_abc123',
};

/** The events OpenAI streams for `words`, ending with the usage chunk it sends when asked. */
function streamEvents(words: string[]): unknown[] {
  return [
    { ...chunkBase, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    ...words.map((word) => ({
      ...chunkBase,
      choices: [{ index: 0, delta: { content: word }, logprobs: null, finish_reason: null }],
    })),
    { ...chunkBase, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    { ...chunkBase, choices: [], usage },
  ];
}

interface Gateway {
  url: string;
  key: string;
  upstream: FakeOpenAIServer;
  hataraku: Hataraku;
  server: HatarakuServer;
  openai: OpenAI;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startGateway(
  replies: FakeReply[],
  options: { relay?: boolean; maxRetries?: number; development?: boolean } = {},
): Promise<Gateway> {
  const upstream = await startFakeOpenAIServer(replies);
  currentUpstream = upstream;
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-relay-'));
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({
      providers: {
        up: { type: 'openai', baseURL: upstream.baseURL, apiKeyEnv: 'UP_KEY', maxRetries: options.maxRetries ?? 0 },
      },
      prices: { 'up:gpt-test': { inputPerMillion: 1, outputPerMillion: 4 } },
    }),
  );
  const hataraku = createHataraku({ cwd, env: { UP_KEY: 'sk-upstream-secret' }, fetch: createNodeHttpFetch() });
  const server = createServer({
    hataraku,
    recoverIntervalMs: 0,
    gatewayFlushMs: 10,
    maxBodyBytes: 64 * 1024,
    log: () => {},
    ...(options.relay === false ? { relay: false } : {}),
    ...(options.development ? { development: true } : {}),
  });
  const listening = await startServer(server, { host: '127.0.0.1', port: 0 });
  const { secret } = server.keys.create({ name: 'app', tenant: 'acme' });
  cleanups.push(async () => {
    await listening.close();
    await server.close();
    await hataraku.close();
    await upstream.close();
  });
  const openai = new OpenAI({ baseURL: `${listening.url}/v1`, apiKey: secret, maxRetries: 0 });
  return { url: listening.url, key: secret, upstream, hataraku, server, openai };
}

/** The upstream of the gateway started last. */
let currentUpstream: FakeOpenAIServer | undefined;

/** An upstream that answers as OpenAI does: a whole completion, or events when asked to stream. */
function openAIReply(words: string[]): FakeReply {
  return (request, response) => {
    const body = currentUpstream?.requests.at(-1)?.body as { stream?: boolean } | undefined;
    if (body?.stream) return streamReply(sseBody(streamEvents(words)))(request, response);
    return jsonReply(200, completion(words.join('')))(request, response);
  };
}

/** Stream a completion of `up:gpt-test` with usage asked for: its text and the cost in its usage event. */
async function streamWithUsage(openai: OpenAI, prompt: string): Promise<{ text: string; costUsd: number | undefined }> {
  const stream = await openai.chat.completions.create({
    model: 'up:gpt-test',
    messages: [{ role: 'user', content: prompt }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let costUsd: number | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) costUsd = (chunk.usage as { cost_usd?: number }).cost_usd;
  }
  return { text, costUsd };
}

async function recordedCall(hataraku: Hataraku) {
  await expect
    .poll(async () => hataraku.engine.costReport({ by: 'tenant' }))
    .toEqual([expect.objectContaining({ key: 'acme', calls: 1, costUsd: expect.closeTo(cost, 9) })]);
  const [run] = await hataraku.engine.listRuns({ agentName: 'gateway' });
  if (!run) throw new Error('no gateway run recorded');
  const steps = await hataraku.engine.listSteps(run.id);
  return { run, step: steps[0] };
}

/** `POST /v1/chat/completions` to the gateway, with its key. */
function postChat(gateway: Gateway, init: { body: string; signal?: AbortSignal }): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gateway.key}`, 'content-type': 'application/json' },
    ...init,
  });
}

describe('the relay', () => {
  it("passes a whole completion through as the provider wrote it, adding only the call's cost", async () => {
    const gateway = await startGateway([jsonReply(200, completion('Hi there'))]);
    const response = await postChat(gateway, {
      body: JSON.stringify({
        model: 'up:gpt-test',
        messages: [{ role: 'user', content: 'Say hi' }],
        logprobs: true,
        seed: 7,
        user: 'end-user-42',
        stream: false,
        stream_options: null,
      }),
    });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('x-hataraku-cost-usd'))).toBeCloseTo(cost, 9);
    expect(response.headers.get('x-hataraku-run-id')).toMatch(/^gw_[0-9a-f]{20}$/);
    const upstreamAnswer = completion('Hi there');
    expect(await response.json()).toEqual({
      ...upstreamAnswer,
      usage: { ...upstreamAnswer.usage, cost_usd: expect.closeTo(cost, 9) },
    });
    // The provider got the client's request, its own model id, and no stream options.
    expect(gateway.upstream.requests[0]?.body).toEqual({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'Say hi' }],
      logprobs: true,
      seed: 7,
      user: 'end-user-42',
    });
    expect(gateway.upstream.requests[0]?.headers.authorization).toBe('Bearer sk-upstream-secret');
    const { step } = await recordedCall(gateway.hataraku);
    expect(step?.output).toMatchObject({ text: 'Hi there', toolCalls: [] });
  });

  it('forwards fields nested where the schema does not look, as the client wrote them', async () => {
    const gateway = await startGateway([jsonReply(200, completion('Tooling'))]);
    const tools = [
      {
        type: 'function',
        function: { name: 'lookup', parameters: { type: 'object' }, x_provider_hint: 'cache' },
        x_extension: 1,
      },
    ];
    const response = await postChat(gateway, {
      body: JSON.stringify({
        model: 'up:gpt-test',
        messages: [{ role: 'user', content: 'Look it up' }],
        tools,
        response_format: { type: 'json_object', x_mode: 'strict' },
      }),
    });
    expect(response.status).toBe(200);
    expect(gateway.upstream.requests[0]?.body).toMatchObject({
      tools,
      response_format: { type: 'json_object', x_mode: 'strict' },
    });
  });

  it('streams the provider events through, asking for usage and leaving it out when the client did not', async () => {
    const gateway = await startGateway([
      streamReply(sseBody(streamEvents(['one', ' two', ' three'])), { pieceSize: 7 }),
    ]);
    const response = await postChat(gateway, {
      body: JSON.stringify({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'Count' }], stream: true }),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    // Every event but the usage one, byte for byte.
    expect(text).toBe(sseBody(streamEvents(['one', ' two', ' three']).slice(0, -1)));
    expect(gateway.upstream.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const { step } = await recordedCall(gateway.hataraku);
    expect(step?.output).toMatchObject({ text: 'one two three' });
    expect(step?.usage).toMatchObject({ inputTokens: 1000, outputTokens: 100 });
  });

  it('parses only the events that carry usage or an error: "usage": null and look-alike text pass byte for byte', async () => {
    // As OpenAI streams with include_usage: "usage": null in every chunk, the usage event last,
    // here written with spaces around its colon; a word whose text looks like a usage field.
    const words = ['Say "usage":{"prompt_tokens":1}', ' ok'];
    const events = streamEvents(words).map((event, index, all) =>
      index < all.length - 1 ? { ...(event as object), usage: null } : event,
    );
    const body = sseBody(events).replace('"usage":{', '"usage" : {');
    const gateway = await startGateway([streamReply(body, { pieceSize: 11 })]);
    const response = await postChat(gateway, {
      body: JSON.stringify({
        model: 'up:gpt-test',
        messages: [{ role: 'user', content: 'Quote' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    const received = (await response.text()).split('\n\n').filter((event) => event !== '');
    const sent = body.split('\n\n').filter((event) => event !== '');
    expect(received).toHaveLength(sent.length);
    // Every event but the usage one exactly as the provider wrote it.
    expect(received.slice(0, -2)).toEqual(sent.slice(0, -2));
    expect(received.at(-1)).toBe('data: [DONE]');
    const usageEvent = JSON.parse((received.at(-2) ?? '').slice('data: '.length)) as { usage: Record<string, unknown> };
    expect(usageEvent.usage).toMatchObject({ ...usage, cost_usd: expect.closeTo(cost, 9) });
    const { step } = await recordedCall(gateway.hataraku);
    expect(step?.output).toMatchObject({ text: words.join('') });
  });

  it('adds the cost to the usage event when the client asks for usage, with the openai client', async () => {
    const gateway = await startGateway([openAIReply(['Hello', ' world'])]);
    const stream = await gateway.openai.chat.completions.create({
      model: 'up:gpt-test',
      messages: [{ role: 'user', content: 'Greet' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let seenUsage: (OpenAI.CompletionUsage & { cost_usd?: number }) | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      expect(chunk.system_fingerprint).toBe('fp_abc123');
      if (chunk.usage) seenUsage = chunk.usage;
    }
    expect(text).toBe('Hello world');
    expect(seenUsage).toMatchObject({ ...usage, cost_usd: expect.closeTo(cost, 9) });
    await recordedCall(gateway.hataraku);
  });

  it('reads events split anywhere and written with CRLF line ends', async () => {
    const body = sseBody(streamEvents(['é', 'ß'])).replaceAll('\n', '\r\n');
    const gateway = await startGateway([streamReply(body, { pieceSize: 3, gapMs: 1 })]);
    const { text, costUsd } = await streamWithUsage(gateway.openai, 'Letters');
    expect(text).toBe('éß');
    expect(costUsd).toBeCloseTo(cost, 9);
  });

  it('retries a rate-limited call before the answer starts, as the model layer does', async () => {
    const gateway = await startGateway(
      [
        jsonReply(429, { error: { message: 'slow down', type: 'rate_limit_error' } }, { 'retry-after': '0' }),
        jsonReply(200, completion('after a retry')),
      ],
      { maxRetries: 1 },
    );
    const answer = await gateway.openai.chat.completions.create({
      model: 'up:gpt-test',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(answer.choices[0]?.message.content).toBe('after a retry');
    expect(gateway.upstream.requests).toHaveLength(2);
  });

  it("reports a provider's refusal with the model layer's code and advice, its key removed", async () => {
    const gateway = await startGateway([
      jsonReply(401, { error: { message: 'Incorrect API key provided: sk-upstream-secret.' } }),
    ]);
    const failure = await gateway.openai.chat.completions
      .create({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    const error = failure as InstanceType<typeof OpenAI.APIError>;
    expect(error.status).toBe(502);
    expect(error.code).toBe('model_auth');
    expect(error.message).toMatch(/set UP_KEY/);
    expect(error.message).not.toContain('sk-upstream-secret');
  });

  it('drops the provider call when the client goes away mid-stream', async () => {
    const gateway = await startGateway([
      streamReply(sseBody(streamEvents(['a', 'b', 'c', 'd', 'e', 'f'])), { pieceSize: 40, gapMs: 200 }),
    ]);
    const controller = new AbortController();
    const response = await postChat(gateway, {
      body: JSON.stringify({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'Go' }], stream: true }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    // The upstream connection closes long before the 1.4 s its answer would take.
    const started = Date.now();
    await gateway.upstream.closed(0);
    expect(Date.now() - started).toBeLessThan(1200);
  });

  it('drops the provider call, and tries no other, when the client goes away before the answer starts', async () => {
    const gateway = await startGateway([silentReply(), silentReply(), silentReply()], { maxRetries: 2 });
    const controller = new AbortController();
    const pending = postChat(gateway, {
      body: JSON.stringify({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'Wait' }] }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await expect.poll(() => gateway.upstream.requests.length).toBe(1);
    controller.abort();
    await pending;
    // The provider's connection closes at once, not at the provider timeout (120 s).
    const started = Date.now();
    await gateway.upstream.closed(0);
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(gateway.upstream.requests).toHaveLength(1);
  });

  it('gives the app every request it does not finish itself, with the body it read', async () => {
    const gateway = await startGateway([]);
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gateway.key}`, 'content-type': 'application/json', ...headers },
        body,
      });
    const invalidJson = await post('{"model": "up:gpt-test",');
    expect(invalidJson.status).toBe(400);
    expect(await invalidJson.json()).toMatchObject({ error: { code: 'invalid_json' } });
    const invalidField = await post(JSON.stringify({ model: 'up:gpt-test', messages: [] }));
    expect(invalidField.status).toBe(400);
    expect(await invalidField.json()).toMatchObject({ error: { code: 'invalid_request', message: /messages/ } });
    const badKey = await post(JSON.stringify({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'Hi' }] }), {
      authorization: 'Bearer hk_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    expect(badKey.status).toBe(401);
    const unknownProvider = await post(
      JSON.stringify({ model: 'nowhere:model', messages: [{ role: 'user', content: 'Hi' }] }),
    );
    expect(unknownProvider.status).toBe(404);
    expect(await unknownProvider.json()).toMatchObject({ error: { code: 'model_unknown' } });
    const twoChoices = await post(
      JSON.stringify({ model: 'up:gpt-test', n: 2, messages: [{ role: 'user', content: 'Hi' }] }),
    );
    expect(twoChoices.status).toBe(400);
    expect(await twoChoices.json()).toMatchObject({ error: { code: 'invalid_request', message: /"n" must be 1/ } });
    const tooLarge = await post(
      JSON.stringify({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] }),
    );
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: { code: 'body_too_large' } });
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  it("refuses a model outside the key's list before any provider call, however the request is shaped", async () => {
    const gateway = await startGateway([]);
    const { secret } = gateway.server.keys.create({ name: 'narrow', tenant: 'acme', models: ['other:*'] });
    const bodies = [
      { model: 'up:gpt-test', messages: [{ role: 'user', content: 'Hi' }] },
      { model: 'up:gpt-test', messages: [{ role: 'user', content: 'Hi' }], stream: true },
      // Not the plain shape: the schema decides, and the key is still checked.
      {
        model: 'up:gpt-test',
        messages: [{ role: 'user', content: 'Hi' }],
        tools: [{ type: 'function', function: { name: 'f' } }],
      },
    ];
    for (const body of bodies) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: 'forbidden', message: /"narrow" may not use/ } });
    }
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  it("counts a request against its key's rate limit once, also when the fast lane hands it to the app", async () => {
    const gateway = await startGateway([streamReply(sseBody(streamEvents(['Seen'])))]);
    const { secret } = gateway.server.keys.create({ name: 'slow', tenant: 'acme', requestsPerMinute: 1 });
    // An image: translated, so the fast lane hands it to the app after reading it.
    const pixel = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const send = () =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'up:gpt-test',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'What is this?' },
                { type: 'image_url', image_url: { url: `data:image/png;base64,${pixel}` } },
              ],
            },
          ],
        }),
      });
    const first = await send();
    expect(first.status).toBe(200);
    expect((await first.json()) as unknown).toMatchObject({ choices: [{ message: { content: 'Seen' } }] });
    const second = await send();
    expect(second.status).toBe(429);
  });

  it('serves in-process calls (app.request) the same way', async () => {
    const gateway = await startGateway([jsonReply(200, completion('In process'))]);
    const response = await gateway.server.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: 'chatcmpl-upstream-1',
      system_fingerprint: 'fp_abc123',
      usage: { cost_usd: expect.closeTo(cost, 9) },
    });
  });

  it('with relay off, translates the call through the model layer', async () => {
    const gateway = await startGateway([openAIReply(['Trans', 'lated'])], { relay: false });
    const answer = await gateway.openai.chat.completions.create({
      model: 'up:gpt-test',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(answer.choices[0]?.message.content).toBe('Translated');
    expect(answer.model).toBe('up:gpt-test');
    // The model layer always asks for a stream.
    expect(gateway.upstream.requests[0]?.body).toMatchObject({ stream: true });
  });

  it('turns a whole answer into events for a streamed request, and events into a whole answer', async () => {
    const gateway = await startGateway([
      jsonReply(200, completion('Whole')),
      streamReply(sseBody(streamEvents(['Str', 'eamed']))),
    ]);
    const { text, costUsd } = await streamWithUsage(gateway.openai, 'Hi');
    expect(text).toBe('Whole');
    expect(costUsd).toBeCloseTo(cost, 9);
    const whole = await gateway.openai.chat.completions.create({
      model: 'up:gpt-test',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(whole.choices[0]?.message.content).toBe('Streamed');
    expect(whole.choices[0]?.finish_reason).toBe('stop');
    expect(whole.usage).toMatchObject({ ...usage, cost_usd: expect.closeTo(cost, 9) });
  });

  it("gives the openai client Ollama's parallel streamed calls as two calls, and records both", async () => {
    const ollama = readFileSync(
      new URL('../../models/openai/__fixtures__/ollama-parallel-index-zero.txt', import.meta.url),
      'utf8',
    );
    const gateway = await startGateway([streamReply(ollama, { pieceSize: 40 })]);
    const stream = gateway.openai.chat.completions.stream({
      model: 'up:gpt-test',
      messages: [{ role: 'user', content: 'Add 2+3 and 10+20' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'add',
            parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } },
          },
        },
      ],
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.tool_calls).toEqual([
      {
        id: 'call_x7k2m9qa',
        type: 'function',
        function: { name: 'add', arguments: '{"a":2,"b":3}' },
      },
      {
        id: 'call_p4w8n1zd',
        type: 'function',
        function: { name: 'add', arguments: '{"a":10,"b":20}' },
      },
    ]);
    await expect.poll(async () => (await gateway.hataraku.engine.listRuns({ agentName: 'gateway' })).length).toBe(1);
    const [run] = await gateway.hataraku.engine.listRuns({ agentName: 'gateway' });
    const steps = await gateway.hataraku.engine.listSteps(run?.id ?? '');
    expect(steps[0]?.output).toMatchObject({
      toolCalls: [
        { id: 'call_x7k2m9qa', name: 'add', arguments: '{"a":2,"b":3}' },
        { id: 'call_p4w8n1zd', name: 'add', arguments: '{"a":10,"b":20}' },
      ],
    });
  });

  // The AI SDK reads a new id at a used index as another call by itself (the openai SDK does
  // not); the indexes the relay now gives such calls must not confuse it either.
  it("gives the AI SDK Ollama's parallel streamed calls as two calls too", async () => {
    const ollama = readFileSync(
      new URL('../../models/openai/__fixtures__/ollama-parallel-index-zero.txt', import.meta.url),
      'utf8',
    );
    const gateway = await startGateway([streamReply(ollama, { pieceSize: 40 })]);
    const provider = createOpenAICompatible({ name: 'hataraku', baseURL: `${gateway.url}/v1`, apiKey: gateway.key });
    const streamed = streamText({
      model: provider('up:gpt-test'),
      prompt: 'Add 2+3 and 10+20',
      tools: { add: tool({ inputSchema: z.object({ a: z.number(), b: z.number() }) }) },
    });
    const calls = await streamed.toolCalls;
    expect(calls.map(({ toolCallId, toolName, input }) => ({ toolCallId, toolName, input }))).toEqual([
      { toolCallId: 'call_x7k2m9qa', toolName: 'add', input: { a: 2, b: 3 } },
      { toolCallId: 'call_p4w8n1zd', toolName: 'add', input: { a: 10, b: 20 } },
    ]);
  });

  it('prices a Groq stream from the usage Groq sends in x_groq, and gives it to the client as usage', async () => {
    // Groq's last chunk: the finish reason, and the usage inside `x_groq` with its timings.
    const groqBase = {
      id: 'chatcmpl-groq-1',
      object: 'chat.completion.chunk',
      created: 1749312000,
      model: 'llama-3.1-8b-instant',
      system_fingerprint: 'fp_9cb648b966',
    };
    const groqUsage = {
      queue_time: 0.0152,
      prompt_tokens: 1000,
      prompt_time: 0.0016,
      completion_tokens: 100,
      completion_time: 0.08,
      total_tokens: 1100,
      total_time: 0.0816,
    };
    const body = sseBody([
      {
        ...groqBase,
        x_groq: { id: 'req_01jbd6g2qdfw2adyrt2az8hz4w' },
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      },
      { ...groqBase, choices: [{ index: 0, delta: { content: 'Hi' }, logprobs: null, finish_reason: null }] },
      {
        ...groqBase,
        choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
        x_groq: { id: 'req_01jbd6g2qdfw2adyrt2az8hz4w', usage: groqUsage },
      },
    ]);
    const gateway = await startGateway([streamReply(body)]);
    const { text, costUsd } = await streamWithUsage(gateway.openai, 'Greet');
    expect(text).toBe('Hi');
    expect(costUsd).toBeCloseTo(cost, 9);
    const { step } = await recordedCall(gateway.hataraku);
    expect(step?.usage).toMatchObject({ inputTokens: 1000, outputTokens: 100 });
  });

  it("gives the client a llama.cpp call's arguments sent as an object as their text, not streamed", async () => {
    const gateway = await startGateway([
      jsonReply(200, {
        id: 'chatcmpl-Z1y2X3w4',
        object: 'chat.completion',
        created: 1751990700,
        model: 'qwen2.5-7b-instruct-q4_k_m.gguf',
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ type: 'function', function: { name: 'add', arguments: { a: 2, b: 3 } } }],
            },
          },
        ],
        usage,
      }),
    ]);
    const completion = await gateway.openai.chat.completions.create({
      model: 'up:gpt-test',
      messages: [{ role: 'user', content: 'Add 2+3' }],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9]{9}$/),
      type: 'function',
      function: { name: 'add', arguments: '{"a":2,"b":3}' },
    });
    const { step } = await recordedCall(gateway.hataraku);
    expect(step?.output).toMatchObject({ toolCalls: [{ id: call?.id, name: 'add', arguments: '{"a":2,"b":3}' }] });
  });

  it("passes a provider's in-stream error on, its key removed", async () => {
    const gateway = await startGateway([
      streamReply(
        sseBody([
          { ...chunkBase, choices: [{ index: 0, delta: { content: 'Part' }, finish_reason: null }] },
          { error: { message: 'overloaded (key sk-upstream-secret)', type: 'server_error' } },
        ]),
      ),
    ]);
    const response = await postChat(gateway, {
      body: JSON.stringify({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'Go' }], stream: true }),
    });
    const text = await response.text();
    expect(text).toContain('"content":"Part"');
    expect(text).toContain('overloaded (key [redacted])');
    expect(text).not.toContain('sk-upstream-secret');
  });
});

describe('the relay on its own', () => {
  /** A relay in front of `replies`, with a sink that keeps what it is given. */
  async function relayTo(
    replies: FakeReply[],
    options: { idleTimeoutMs?: number; maxAnswerBytes?: number; maxEventChars?: number },
    credentials = '',
  ) {
    const upstream = await startFakeOpenAIServer(replies);
    const recorded: GatewayCall[] = [];
    const relay = createChatRelay({
      config: {
        providers: {
          up: {
            id: 'up',
            type: 'openai',
            baseURL: upstream.baseURL.replace('http://', `http://${credentials}`),
            apiKey: undefined,
            apiKeyEnv: undefined,
            headers: {},
            timeoutMs: 5000,
            maxRetries: 0,
          },
        },
        cache: undefined,
      },
      prices: { lookup: () => ({ inputPerMillion: 1, outputPerMillion: 4, source: 'test' }) },
      record: (call) => recorded.push(call),
      redact: (message) => message,
      ...options,
    });
    cleanups.push(async () => {
      relay.close();
      await upstream.close();
    });
    const output = { status: 0, text: '', parts: [] as Array<{ kind: 'write' | 'end'; text: string }> };
    const sink: RelaySink = {
      head: (status) => {
        output.status = status;
      },
      write: (text) => {
        output.text += text;
        output.parts.push({ kind: 'write', text });
        return true;
      },
      onDrain: () => {},
      end: (text) => {
        output.text += text ?? '';
        output.parts.push({ kind: 'end', text: text ?? '' });
      },
    };
    const call = (body: Record<string, unknown>) => {
      const target = relay.targetOf('up:gpt-test');
      if (!target) throw new Error('up:gpt-test is not relayed');
      return relay.relay(
        {
          name: 'up:gpt-test',
          target,
          body: { model: 'up:gpt-test', messages: [{ role: 'user', content: 'Hi' }], ...body },
          requestText: '{}',
          key: developmentKey,
          signal: new AbortController().signal,
        },
        sink,
      );
    };
    return { relay, call, output, recorded, upstream };
  }

  it('relays only OpenAI-compatible providers, and nothing while the cache is on', async () => {
    const { relay } = await relayTo([], {});
    expect(relay.targetOf('up:gpt-test')?.label).toBe('up:gpt-test');
    for (const name of ['route:cheap', 'agent:greeter', 'scripted:hello.json', 'nowhere:model', 'up:', ':x', 'up'])
      expect(relay.targetOf(name)).toBeUndefined();
    const cached = createChatRelay({
      config: { providers: {}, cache: { path: ':memory:', ttlMs: 1000, mode: 'exact' } as never },
      prices: { lookup: () => undefined },
      record: () => {},
      redact: (message) => message,
    });
    expect(cached.targetOf('up:gpt-test')).toBeUndefined();
    cached.close();
  });

  it('ends a stream that goes silent with an error event, and records the call', async () => {
    const { call, output, recorded } = await relayTo(
      [streamReply(sseBody(streamEvents(['a']).slice(0, 2), { done: false }), { ending: 'stall' })],
      { idleTimeoutMs: 150 },
    );
    await call({ stream: true });
    expect(output.status).toBe(200);
    expect(output.text).toContain('"content":"a"');
    expect(output.text).toMatch(/"code":"model_timeout".*went silent for 150 ms/);
    expect(recorded).toHaveLength(1);
  });

  it('writes the events read in one turn together, and the last ones with the end of the answer', async () => {
    const events = sseBody(streamEvents(['Hel', 'lo']));
    const start = events.lastIndexOf('data: ', events.indexOf('"content":"lo"'));
    const pausing: FakeReply = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(events.slice(0, start));
      setTimeout(() => response.end(events.slice(start)), 50);
    };
    const { call, output } = await relayTo([pausing], {});
    await call({ stream: true });
    // The events before the pause went out as they came, in one write.
    expect(output.parts.map((part) => part.kind)).toEqual(['write', 'end']);
    expect(output.parts[0]?.text).toContain('"content":"Hel"');
    expect(output.parts[0]?.text).not.toContain('"content":"lo"');
    // The events after it, up to [DONE], with the end: one packet to the client, not two.
    expect(output.parts[1]?.text).toContain('"content":"lo"');
    expect(output.parts[1]?.text).toContain('"finish_reason":"stop"');
    expect(output.parts[1]?.text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('sends credentials in the base URL as Basic authentication', async () => {
    const { call, output, upstream } = await relayTo([jsonReply(200, completion('Hi'))], {}, 'relay%40user:s%3Acret@');
    await call({});
    expect(output.status).toBe(200);
    expect(upstream.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('relay@user:s:cret').toString('base64')}`,
    );
    expect(upstream.requests[0]?.path).toBe('/v1/chat/completions');
  });

  it('ends a stream whose provider sends an event that never ends, past its bound', async () => {
    const endless: FakeReply = (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: {"choices":[{"index":0,"delta":{"content":"${'x'.repeat(3000)}`);
      response.write('y'.repeat(3000));
    };
    const { call, output, recorded } = await relayTo([endless], { maxEventChars: 4096 });
    await call({ stream: true });
    expect(output.status).toBe(200);
    expect(output.text).toMatch(/"code":"model_bad_response".*over 4096 characters/);
    expect(recorded).toHaveLength(1);
  });

  it('refuses a whole answer over its size bound, and one that is not JSON', async () => {
    const big = completion('x'.repeat(5000));
    const { call, output } = await relayTo(
      [
        jsonReply(200, big),
        (_request, response) => {
          response.end('<html>');
        },
      ],
      {
        maxAnswerBytes: 4096,
      },
    );
    await expect(call({})).rejects.toMatchObject({ code: 'model_bad_response', message: /over 4096 bytes/ });
    await expect(call({})).rejects.toMatchObject({ code: 'model_bad_response', message: /not JSON/ });
    expect(output.status).toBe(0);
  });
});
