/**
 * A `fetch` for the server's calls to model providers, over `node:http`/`node:https` with
 * keep-alive agents. Node 20's built-in fetch (undici) costs far more CPU per call than the
 * request itself on a busy gateway; this covers what the providers use (POST of a string body,
 * status, headers, a streamed body, abort) and nothing else.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

/**
 * The runtime's own Response, taken when this module loads: `@hono/node-server` replaces the
 * global with a light Response of its own once it serves, and reading `body` of one of those
 * builds the runtime's Response anyway, a second object for every provider call.
 */
const NativeResponse = globalThis.Response;

export function createNodeHttpFetch(options: { maxSockets?: number } = {}): typeof globalThis.fetch {
  const maxSockets = options.maxSockets ?? 256;
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets }),
  };
  const nodeFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') {
      return Promise.reject(new TypeError('the server fetch sends string bodies only'));
    }
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = init.body ?? undefined;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const transport = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
    return new Promise<Response>((resolve, reject) => {
      const request = transport.request(
        url,
        { method: init.method ?? 'GET', headers, agent, ...(signal ? { signal } : {}) },
        (incoming) => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (Array.isArray(value)) for (const item of value) responseHeaders.append(name, item);
            else if (value !== undefined) responseHeaders.set(name, value);
          }
          const status = incoming.statusCode ?? 500;
          const empty = status === 204 || status === 304 || init.method === 'HEAD';
          resolve(
            new NativeResponse(empty ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>), {
              status,
              statusText: incoming.statusMessage ?? '',
              headers: responseHeaders,
            }),
          );
        },
      );
      request.on('error', (error) =>
        reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error })),
      );
      request.end(body);
    });
  };
  return nodeFetch as typeof globalThis.fetch;
}
