/** The per-key rate limit, on an explicit clock; the limit on requests in flight, over real HTTP. */
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { concurrencyLimit, createRateLimiter } from './request-limits.js';

describe('the rate limiter', () => {
  it('allows a minute’s worth at once, then refills continuously', () => {
    let now = 0;
    const limiter = createRateLimiter(() => now);
    for (let request = 0; request < 3; request++) limiter.take('key', 3);
    let refused: unknown;
    try {
      limiter.take('key', 3);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited', headers: { 'retry-after': '20' } });
    now = 20_000;
    expect(() => limiter.take('key', 3)).not.toThrow();
    expect(() => limiter.take('key', 3)).toThrow(/3 requests per minute/);
    expect(() => limiter.take('other key', 3)).not.toThrow();
  });
});

describe('the limit on requests in flight, served over HTTP', () => {
  it('holds a slot until the response is written: a whole body at once, an event stream until it ends', async () => {
    const app = new Hono();
    app.onError((error, context) =>
      error instanceof ApiError
        ? context.json({ error: { code: error.code } }, error.status as 503)
        : context.text('bug', 500),
    );
    app.use('*', concurrencyLimit(1));
    let endStream: () => void = () => {};
    app.get('/plain', (context) => context.json({ ok: true }));
    app.get('/failing', () => {
      throw new ApiError(400, 'invalid_request', 'no');
    });
    app.get('/events', () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('data: first\n\n'));
          endStream = () => controller.close();
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
    });
    const server = await new Promise<ServerType>((resolve) => {
      const node = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(node));
    });
    const address = server.address() as AddressInfo;
    const url = (path: string) => `http://127.0.0.1:${address.port}${path}`;
    try {
      // One slot, many requests one after another: each gives its slot back, errors too.
      for (let request = 0; request < 5; request++) {
        expect((await fetch(url('/plain'))).status).toBe(200);
        expect((await fetch(url('/failing'))).status).toBe(400);
      }
      const stream = await fetch(url('/events'));
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: first\n\n');
      const refused = await fetch(url('/plain'));
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('server_busy');
      endStream();
      expect((await reader.read()).done).toBe(true);
      await expect.poll(async () => (await fetch(url('/plain'))).status).toBe(200);
      // A client that goes away mid-stream gives the slot back too.
      const abandoned = new AbortController();
      const second = await fetch(url('/events'), { signal: abandoned.signal });
      await (second.body as ReadableStream<Uint8Array>).getReader().read();
      expect((await fetch(url('/plain'))).status).toBe(503);
      abandoned.abort();
      await expect.poll(async () => (await fetch(url('/plain'))).status).toBe(200);
    } finally {
      server.close();
    }
  });
});
