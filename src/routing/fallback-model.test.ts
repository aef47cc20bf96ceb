import { afterEach, describe, expect, it } from 'vitest';
import { ModelCallError } from '../errors.js';
import { collectResponse } from '../models/collect-response.js';
import {
  type FakeOpenAIServer,
  type FakeReply,
  jsonReply,
  sseBody,
  startFakeOpenAIServer,
  streamReply,
} from '../models/openai/fake-openai-server.js';
import { createOpenAIModel } from '../models/openai/openai-model.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import type { Model, ModelRequest, ModelStreamEvent } from '../models/spec.js';
import { rateLimited, serverError, textAnswer } from './__fixtures__/openai-replies.js';
import { createCircuitBreakerRegistry } from './circuit-breaker.js';
import { createFallbackModel } from './fallback-model.js';

const servers: FakeOpenAIServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function upstream(provider: string, modelId: string, ...replies: FakeReply[]) {
  const server = await startFakeOpenAIServer(replies);
  servers.push(server);
  const model = createOpenAIModel({
    provider,
    modelId,
    baseURL: server.baseURL,
    apiKey: 'sk-test',
    retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 },
  });
  return { server, model };
}

const hello: ModelRequest = { messages: [{ role: 'user', content: 'Say hello.' }] };

async function events(model: Model, request: ModelRequest = hello): Promise<ModelStreamEvent[]> {
  const seen: ModelStreamEvent[] = [];
  for await (const event of model.stream(request)) seen.push(event);
  return seen;
}

describe('createFallbackModel', () => {
  it('answers from the second upstream when the first returns 429, then 500', async () => {
    const primary = await upstream('openai', 'gpt-4o-mini', rateLimited(), serverError());
    const secondary = await upstream(
      'groq',
      'llama-3.1-8b',
      textAnswer('Hello from Groq.', 12, 4),
      textAnswer('Hello again.', 14, 3),
    );
    const route = createFallbackModel({ name: 'resilient', models: [primary.model, secondary.model] });
    expect(route).toMatchObject({ provider: 'route', modelId: 'resilient' });
    expect(route.routesTo).toEqual(['openai:gpt-4o-mini', 'groq:llama-3.1-8b']);

    const first = await collectResponse(route, hello);
    expect(first.text).toBe('Hello from Groq.');
    expect(first.routing).toEqual([
      { model: 'openai:gpt-4o-mini', reason: 'fallback: trying openai:gpt-4o-mini first' },
      {
        model: 'groq:llama-3.1-8b',
        reason: 'fallback: openai:gpt-4o-mini failed with 429 (rate limited); trying groq:llama-3.1-8b',
      },
    ]);
    expect(first.usageByModel).toEqual([
      { model: 'groq:llama-3.1-8b', usage: expect.objectContaining({ inputTokens: 12, outputTokens: 4 }) },
    ]);

    const second = await collectResponse(route, hello);
    expect(second.text).toBe('Hello again.');
    expect(second.routing[1]?.reason).toBe(
      'fallback: openai:gpt-4o-mini failed with 500 (server error); trying groq:llama-3.1-8b',
    );
    expect(second.usageByModel).toEqual([
      { model: 'groq:llama-3.1-8b', usage: expect.objectContaining({ inputTokens: 14, outputTokens: 3 }) },
    ]);
    expect(primary.server.requests).toHaveLength(2);
    expect(secondary.server.requests).toHaveLength(2);
  });

  it('falls back on a 401 from a misconfigured upstream', async () => {
    const primary = await upstream('openai', 'gpt-4o', jsonReply(401, { error: { message: 'Incorrect API key' } }));
    const secondary = await upstream('groq', 'llama-3.1-8b', textAnswer('ok', 1, 1));
    const response = await collectResponse(
      createFallbackModel({ name: 'keys', models: [primary.model, secondary.model] }),
      hello,
    );
    expect(response.text).toBe('ok');
    expect(response.routing[1]?.reason).toContain('failed with 401 (authentication failed)');
  });

  it('does not switch models once the first has streamed text; its failure is thrown', async () => {
    const partial = sseBody(
      [
        {
          id: 'x',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'm',
          choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }],
        },
      ],
      { done: false },
    );
    const primary = await upstream('openai', 'gpt-4o-mini', streamReply(partial, { ending: 'destroy' }));
    const secondary = await upstream('groq', 'llama-3.1-8b', textAnswer('unused', 1, 1));
    const route = createFallbackModel({ name: 'mid-stream', models: [primary.model, secondary.model] });
    const seen: ModelStreamEvent[] = [];
    const failure = await (async () => {
      try {
        for await (const event of route.stream(hello)) seen.push(event);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(failure).toBeInstanceOf(ModelCallError);
    expect((failure as ModelCallError).provider).toBe('openai');
    expect(seen.filter((event) => event.type === 'text-delta')).toEqual([{ type: 'text-delta', delta: 'Hel' }]);
    expect(secondary.server.requests).toHaveLength(0);
  });

  it('skips an upstream whose circuit is open, and tries it again after the cooldown', async () => {
    let time = 0;
    const breakers = createCircuitBreakerRegistry({ failureThreshold: 1, cooldownMs: 30_000, now: () => time });
    const primary = await upstream('openai', 'gpt-4o-mini', rateLimited(), textAnswer('primary is back', 5, 2));
    const secondary = await upstream('groq', 'llama-3.1-8b', textAnswer('one', 1, 1), textAnswer('two', 1, 1));
    const route = createFallbackModel({ name: 'breaker', models: [primary.model, secondary.model], breakers });

    expect((await collectResponse(route, hello)).text).toBe('one');
    expect(breakers.breaker('openai:gpt-4o-mini').state()).toBe('open');

    time = 10_000;
    const skipped = await collectResponse(route, hello);
    expect(skipped.text).toBe('two');
    expect(skipped.routing).toEqual([
      {
        model: 'openai:gpt-4o-mini',
        reason:
          'fallback: circuit open for openai:gpt-4o-mini (1 consecutive failures; next trial in 20 s); skipping it',
      },
      {
        model: 'groq:llama-3.1-8b',
        reason: 'fallback: openai:gpt-4o-mini skipped (circuit open); trying groq:llama-3.1-8b',
      },
    ]);
    expect(primary.server.requests).toHaveLength(1);

    time = 30_000;
    const trial = await collectResponse(route, hello);
    expect(trial.text).toBe('primary is back');
    expect(trial.routing).toEqual([
      { model: 'openai:gpt-4o-mini', reason: 'fallback: trying openai:gpt-4o-mini first as the half-open trial call' },
    ]);
    expect(breakers.breaker('openai:gpt-4o-mini').state()).toBe('closed');
  });

  it('throws one error naming every failure when no model answers', async () => {
    const primary = await upstream('openai', 'gpt-4o-mini', rateLimited());
    const secondary = await upstream('groq', 'llama-3.1-8b', serverError());
    const route = createFallbackModel({ name: 'doomed', models: [primary.model, secondary.model] });
    const failure = await collectResponse(route, hello).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelCallError);
    expect(failure).toMatchObject({
      code: 'model_server_error',
      provider: 'route',
      modelId: 'doomed',
      retryable: true,
    });
    expect((failure as Error).message).toBe(
      'route:doomed: every model of the fallback route failed: openai:gpt-4o-mini failed with 429 (rate limited); groq:llama-3.1-8b failed with 500 (server error).',
    );
  });

  it('does not fall back on an error that is not the upstream’s (a script error here)', async () => {
    const broken = createScriptedModel({ script: { turns: [{ text: 'only one turn' }] }, modelId: 'short' });
    const spare = createScriptedModel({ script: { turns: [{ text: 'a' }, { text: 'b' }] }, modelId: 'spare' });
    const route = createFallbackModel({ name: 'strict', models: [broken, spare] });
    const request: ModelRequest = {
      messages: [
        ...hello.messages,
        { role: 'assistant', content: [{ type: 'text', text: 'hi' }] },
        { role: 'user', content: 'again' },
      ],
    };
    await expect(collectResponse(route, request)).rejects.toMatchObject({ code: 'script_invalid' });
    expect(spare.requests).toHaveLength(0);
  });

  it('stops before the next model when the caller has aborted', async () => {
    const primary = await upstream('openai', 'gpt-4o-mini', rateLimited());
    const spare = createScriptedModel({ script: { turns: [{ text: 'never' }] }, modelId: 'spare' });
    const controller = new AbortController();
    const route = createFallbackModel({ name: 'abort', models: [primary.model, spare] });
    const iterator = route.stream({ ...hello, abortSignal: controller.signal })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ type: 'routing', model: 'openai:gpt-4o-mini' });
    controller.abort();
    await expect(iterator.next()).rejects.toMatchObject({ code: 'model_aborted' });
    expect(spare.requests).toHaveLength(0);
  });

  it('fails fast, retryable after the soonest cooldown, when every circuit is open', async () => {
    const breakers = createCircuitBreakerRegistry({ failureThreshold: 1, cooldownMs: 12_000, now: () => 0 });
    const a = createScriptedModel({ script: { turns: [{ text: 'a' }] }, modelId: 'a' });
    const b = createScriptedModel({ script: { turns: [{ text: 'b' }] }, modelId: 'b' });
    for (const upstream of ['scripted:a', 'scripted:b']) {
      const permit = breakers.breaker(upstream).acquire();
      if (permit.allowed) permit.failure();
    }
    const failure = await collectResponse(createFallbackModel({ name: 'dark', models: [a, b], breakers }), hello).catch(
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'model_unreachable', retryable: true, retryAfterSeconds: 12 });
    expect((failure as Error).message).toBe(
      'route:dark: every model of the fallback route failed: 2 skipped with an open circuit.',
    );
    expect(a.requests).toHaveLength(0);
    expect(b.requests).toHaveLength(0);
  });

  it('names the models it may call, through nested routes', () => {
    const a = createScriptedModel({ script: { turns: [{ text: 'a' }] }, modelId: 'a' });
    const b = createScriptedModel({ script: { turns: [{ text: 'b' }] }, modelId: 'b' });
    const inner = createFallbackModel({ name: 'inner', models: [a, b] });
    expect(createFallbackModel({ name: 'outer', models: [inner, a] }).routesTo).toEqual(['scripted:a', 'scripted:b']);
    expect(() => createFallbackModel({ name: 'empty', models: [] })).toThrow(TypeError);
  });

  it('reports each upstream’s usage under its own name', async () => {
    const scripted = createScriptedModel({
      script: { turns: [{ text: 'hi', usage: { inputTokens: 3, outputTokens: 1 } }] },
      modelId: 'one',
    });
    const seen = await events(createFallbackModel({ name: 'single', models: [scripted] }));
    expect(seen.filter((event) => event.type === 'usage')).toEqual([
      {
        type: 'usage',
        model: 'scripted:one',
        usage: { inputTokens: 3, outputTokens: 1, cachedInputTokens: undefined, cacheWriteTokens: undefined },
      },
    ]);
  });
});
