import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelCallError } from '../../errors.js';
import { type PostRequest, postWithRetry, releaseResponse } from './http.js';

interface Scripted {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

let server: Server | undefined;
afterEach(async () => {
  const running = server;
  server = undefined;
  if (running) await new Promise<void>((resolve) => running.close(() => resolve()));
});

/** A server answering request N with `replies[N]`; returns its URL and the arrival times. */
async function serve(replies: Scripted[]): Promise<{ url: string; arrivals: number[] }> {
  const arrivals: number[] = [];
  server = createServer((request, response) => {
    const reply = replies[arrivals.length] ?? { status: 500, body: 'no reply scripted' };
    arrivals.push(Date.now());
    request.resume();
    request.on('end', () => {
      response.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      response.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/messages`, arrivals };
}

function requestTo(url: string, overrides: Partial<PostRequest> = {}): PostRequest {
  return {
    provider: 'test',
    modelId: 'model-1',
    url,
    headers: {},
    body: { hello: 'world' },
    timeoutMs: 2_000,
    retry: { maxRetries: 2, initialDelayMs: 5, maxDelayMs: 1_000 },
    authHint: 'set TEST_API_KEY',
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ModelCallError> {
  try {
    await promise;
  } catch (caught) {
    expect(caught).toBeInstanceOf(ModelCallError);
    return caught as ModelCallError;
  }
  throw new Error('expected the call to fail');
}

describe('postWithRetry', () => {
  it('returns the first successful response', async () => {
    const { url, arrivals } = await serve([{ status: 200, body: '{"ok":true}' }]);
    const response = await postWithRetry(requestTo(url));
    expect(await response.json()).toEqual({ ok: true });
    expect(arrivals).toHaveLength(1);
  });

  it('honours retry-after-ms on a 503', async () => {
    const { url, arrivals } = await serve([
      { status: 503, body: '{"error":{"message":"overloaded"}}', headers: { 'retry-after-ms': '200' } },
      { status: 200, body: '{}' },
    ]);
    await postWithRetry(requestTo(url));
    expect(arrivals).toHaveLength(2);
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(180);
  });

  it('caps a long Retry-After at maxDelayMs', async () => {
    const { url, arrivals } = await serve([
      { status: 429, body: '{}', headers: { 'retry-after': '3600' } },
      { status: 200, body: '{}' },
    ]);
    const started = Date.now();
    await postWithRetry(requestTo(url, { retry: { maxRetries: 1, initialDelayMs: 5, maxDelayMs: 100 } }));
    expect(arrivals).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('does not retry a 400 and quotes the upstream message', async () => {
    const { url, arrivals } = await serve([{ status: 400, body: '{"error":{"message":"max_tokens is too large"}}' }]);
    const error = await failureOf(postWithRetry(requestTo(url)));
    expect(arrivals).toHaveLength(1);
    expect(error.code).toBe('model_bad_request');
    expect(error.status).toBe(400);
    expect(error.message).toContain('test:model-1');
    expect(error.message).toContain('max_tokens is too large');
  });

  it('reports an unreachable server after retrying', async () => {
    const { url } = await serve([]);
    const running = server;
    server = undefined;
    await new Promise<void>((resolve) => running?.close(() => resolve()));
    const error = await failureOf(postWithRetry(requestTo(url)));
    expect(error.code).toBe('model_unreachable');
    expect(error.message).toContain('cannot reach');
    expect(error.message).toContain('check the base URL');
  });

  it('keeps credentials in the base URL out of every error message', async () => {
    const key = 'sk-query-0123456789abcdef';
    // The upstream quotes the URL it was called with, key and all.
    const { url } = await serve([
      { status: 400, body: JSON.stringify({ error: { message: `bad request to /v1/messages?key=${key}&v=2` } }) },
    ]);
    const error = await failureOf(postWithRetry(requestTo(`${url}?key=${key}&v=2`)));
    expect(error.code).toBe('model_bad_request');
    expect(error.message).toContain('bad request to /v1/messages?key=[redacted]');
    expect(error.message).toMatch(/\/v1\/messages\?key=\[redacted\]&v=\[redacted\] returned 400/);
    expect(error.message).not.toContain(key);

    // fetch refuses userinfo and names the whole URL in its message.
    const withUserinfo = url.replace('http://', 'http://aiko:hunter2-password@');
    const refused = await failureOf(
      postWithRetry(requestTo(withUserinfo, { retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 } })),
    );
    expect(refused.code).toBe('model_unreachable');
    expect(refused.message).toContain('cannot reach http://[redacted]@127.0.0.1:');
    expect(refused.message).not.toContain('hunter2-password');
    expect(refused.message).not.toContain('aiko');
  });

  it('stops waiting between retries as soon as it is aborted', async () => {
    const { url, arrivals } = await serve([{ status: 429, body: '{}', headers: { 'retry-after': '10' } }]);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    const error = await failureOf(
      postWithRetry(
        requestTo(url, {
          abortSignal: controller.signal,
          retry: { maxRetries: 2, initialDelayMs: 5, maxDelayMs: 10_000 },
        }),
      ),
    );
    expect(error.code).toBe('model_aborted');
    expect(arrivals).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('reports an abort that lands while an error response is being handled as an abort', async () => {
    const controller = new AbortController();
    let calls = 0;
    const abortingFetch: typeof fetch = async () => {
      calls++;
      controller.abort();
      return new Response('{"error":{"message":"slow down"}}', { status: 429 });
    };
    const error = await failureOf(
      postWithRetry(requestTo('http://127.0.0.1:9/unused', { abortSignal: controller.signal, fetch: abortingFetch })),
    );
    expect(error.code).toBe('model_aborted');
    expect(calls).toBe(1);
  });

  it("passes a caller's abort on to the connection while the body is read, and no longer once the response is released", async () => {
    const caller = new AbortController();
    const seen: AbortSignal[] = [];
    const recordingFetch: typeof fetch = async (_input, init) => {
      if (init?.signal) seen.push(init.signal);
      return new Response('{}', { status: 200 });
    };
    const request = requestTo('http://127.0.0.1:9/unused', { abortSignal: caller.signal, fetch: recordingFetch });
    // Many calls on one long-lived signal (an agent run's) leave no listener behind once released.
    for (let call = 0; call < 20; call++) releaseResponse(await postWithRetry(request));
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    const held = await postWithRetry(request);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    caller.abort(new Error('the client went away'));
    const connection = seen.at(-1) as AbortSignal;
    expect(connection.aborted).toBe(true);
    expect((connection.reason as Error).message).toBe('the client went away');
    // The earlier calls' connections were released before the abort.
    expect(seen.slice(0, 20).some((signal) => signal.aborted)).toBe(false);
    releaseResponse(held);
  });

  it('aborts a connection whose headers are late and says so', async () => {
    let connection: AbortSignal | undefined;
    const stalledFetch: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        connection = init?.signal ?? undefined;
        connection?.addEventListener('abort', () => reject(new TypeError('fetch failed')));
      });
    const caller = new AbortController();
    const error = await failureOf(
      postWithRetry(
        requestTo('http://127.0.0.1:9/unused', {
          abortSignal: caller.signal,
          fetch: stalledFetch,
          timeoutMs: 20,
          retry: { maxRetries: 0, initialDelayMs: 5, maxDelayMs: 10 },
        }),
      ),
    );
    expect(error.code).toBe('model_timeout');
    expect(connection?.aborted).toBe(true);
    expect(caller.signal.aborted).toBe(false);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });
});
