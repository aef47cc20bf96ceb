/**
 * The relay's side of a provider call (`relay.ts`): the transport's sender over `node:http`,
 * reading a whole answer within bounds, and the errors an answer fails with.
 */
import http from 'node:http';
import https from 'node:https';
import { ModelCallError } from '../../errors.js';
import type { TransportSend } from '../../models/transport/http.js';
import { copyWith } from './copy-with.js';
import type { RelayTarget, UpstreamAnswer } from './relay-call.js';

/** How much of an error answer is read. */
const maxErrorBytes = 64 * 1024;

/**
 * The transport's sender over `node:http`: a successful answer keeps its body as the Node
 * stream; an error answer's body is read (up to 64 KiB) for the transport's error handling. An
 * abort destroys the request, and with it the answer being read.
 */
export function createUpstreamSend(agents: { http: http.Agent; https: https.Agent }): TransportSend<UpstreamAnswer> {
  // Each provider's URL is parsed once, not on every call.
  const endpoints = new Map<
    string,
    { hostname: string; port: string; path: string; secure: boolean; auth: string | undefined }
  >();
  const endpointOf = (url: string) => {
    let endpoint = endpoints.get(url);
    if (!endpoint) {
      const parsed = new URL(url);
      endpoint = {
        // A bracketed IPv6 literal is passed to the socket without its brackets.
        hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: parsed.port,
        path: `${parsed.pathname}${parsed.search}`,
        secure: parsed.protocol === 'https:',
        // Credentials in the base URL are sent as Basic authentication, as `http.request(url)` does.
        auth:
          parsed.username || parsed.password
            ? `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`
            : undefined,
      };
      endpoints.set(url, endpoint);
    }
    return endpoint;
  };
  return (url, init) => {
    const { hostname, port, path, secure, auth } = endpointOf(url);
    const { signal, body } = init;
    if (signal.aborted) return Promise.reject(signal.reason);
    const headers = copyWith(init.headers, { 'content-length': String(Buffer.byteLength(body)) });
    return new Promise<UpstreamAnswer>((resolve, reject) => {
      const request = (secure ? https : http).request(
        {
          method: 'POST',
          hostname,
          ...(port ? { port } : {}),
          ...(auth !== undefined ? { auth } : {}),
          path,
          headers,
          agent: secure ? agents.https : agents.http,
        },
        (incoming) => {
          const status = incoming.statusCode ?? 500;
          const headerOf = (name: string) => {
            const value = incoming.headers[name];
            return typeof value === 'string' ? value : null;
          };
          if (status >= 200 && status < 300) {
            resolve({
              ok: true,
              status,
              headers: { get: headerOf },
              text: () => Promise.reject(new Error('the relay reads a successful answer as a stream')),
              incoming,
            });
            return;
          }
          const pieces: Buffer[] = [];
          let size = 0;
          incoming.on('data', (piece: Buffer) => {
            if (size < maxErrorBytes) pieces.push(piece);
            size += piece.length;
          });
          incoming.on('error', () => {});
          incoming.on('close', () => {
            const text = Buffer.concat(pieces).subarray(0, maxErrorBytes).toString('utf8');
            resolve({
              ok: false,
              status,
              headers: { get: headerOf },
              text: () => Promise.resolve(text),
              incoming: undefined,
            });
          });
        },
      );
      // Not `http.request`'s own `signal` option: that takes a Fetch `AbortSignal`.
      signal.addEventListener('abort', () => {
        // A finished request's socket may already carry another call.
        if (!request.destroyed) request.destroy(new Error('the request was aborted'));
      });
      request.on('error', (error) =>
        reject(signal.aborted ? signal.reason : new TypeError('fetch failed', { cause: error })),
      );
      request.end(body);
    });
  };
}

export function badAnswer(
  target: RelayTarget,
  message: string,
  code: 'model_bad_response' | 'model_timeout' = 'model_bad_response',
) {
  return new ModelCallError({
    code,
    provider: target.providerId,
    modelId: target.modelId,
    retryable: false,
    message: `${target.label}: ${message}`,
  });
}

/** An answer's whole body, bounded in size and in silence. */
export function readWhole(
  incoming: http.IncomingMessage,
  target: RelayTarget,
  maxBytes: number,
  idleTimeoutMs: number,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const pieces: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      incoming.destroy();
      reject(error);
    };
    const idle = setTimeout(
      () => fail(badAnswer(target, `the answer went silent for ${idleTimeoutMs} ms.`, 'model_timeout')),
      idleTimeoutMs,
    );
    incoming.on('data', (piece: Buffer) => {
      idle.refresh();
      size += piece.length;
      if (size > maxBytes) {
        fail(badAnswer(target, `the answer is over ${maxBytes} bytes; ask for less (max_tokens).`));
        return;
      }
      pieces.push(piece);
    });
    incoming.on('end', () => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      resolve(Buffer.concat(pieces, size).toString('utf8'));
    });
    incoming.on('error', (error) => fail(brokenAnswer(target, error)));
    incoming.on('close', () => {
      if (!incoming.complete) fail(brokenAnswer(target, new Error('the connection closed')));
    });
  });
}

export function brokenAnswer(target: RelayTarget, error: Error): ModelCallError {
  return new ModelCallError({
    code: 'model_unreachable',
    provider: target.providerId,
    modelId: target.modelId,
    retryable: false,
    message: `${target.label}: the answer broke off (${error.message}); retry the request.`,
  });
}
