/** The server's fetch over node:http, against a real server on port 0. */
import { describe, expect, it } from 'vitest';
import {
  jsonReply,
  silentReply,
  sseBody,
  startFakeOpenAIServer,
  streamReply,
} from '../models/openai/fake-openai-server.js';
import { createNodeHttpFetch } from './node-http-fetch.js';

describe('the server fetch', () => {
  it('posts a string body and reads status, headers and a streamed body', async () => {
    const server = await startFakeOpenAIServer([
      streamReply(sseBody([{ n: 1 }, { n: 2 }]), { pieceSize: 5 }),
      jsonReply(429, { error: { message: 'slow down' } }, { 'retry-after': '3' }),
    ]);
    const fetch = createNodeHttpFetch();
    const streamed = await fetch(`${server.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: JSON.stringify({ stream: true }),
    });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(await streamed.text()).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      body: { stream: true },
      headers: { authorization: 'Bearer sk-test', 'content-length': '15' },
    });
    const limited = await fetch(`${server.baseURL}/chat/completions`, { method: 'POST', body: '{}' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(await limited.json()).toEqual({ error: { message: 'slow down' } });
    await server.close();
  });

  it('rejects when aborted, and with a TypeError carrying the cause when unreachable', async () => {
    const server = await startFakeOpenAIServer([silentReply()]);
    const fetch = createNodeHttpFetch();
    const controller = new AbortController();
    const pending = fetch(`${server.baseURL}/chat/completions`, {
      method: 'POST',
      body: '{}',
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await expect(pending).rejects.toThrow('stop');
    await server.close();
    const unreachable = await fetch(`${server.baseURL}/chat/completions`, { method: 'POST', body: '{}' }).catch(
      (error: unknown) => error,
    );
    expect(unreachable).toBeInstanceOf(TypeError);
    expect(((unreachable as TypeError).cause as Error).message).toMatch(/ECONNREFUSED/);
  });
});
