/**
 * The server's Node request listener, with a fast lane for the gateway's busiest call.
 *
 * `POST /v1/chat/completions` with an API key, for a model the relay serves (`gateway/relay.ts`),
 * is handled here on `node:http` directly: the same limits, key check, rate limit, model and
 * budget checks as the app's middleware and route, then the relay writing into the Node
 * response. Without Hono's routing and the Fetch Request, Response and stream objects it builds,
 * a call costs a fraction of the CPU, which is what a gateway's added latency is made of.
 *
 * Everything else goes to the Hono app, including every such request the lane does not finish
 * itself: no key (development mode, console sessions), a body that is not valid JSON or not a
 * valid request, a model that is translated. The app then gets the body the lane already read,
 * and answers exactly as it would have, errors included.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hataraku } from '../hataraku.js';
import { PlainAbortController } from '../models/transport/plain-abort.js';
import { errorBody, toApiError } from './api-error.js';
import { type ChatRequest, chatRequestSchema, isPlainChatRequest } from './gateway/chat-request.js';
import type { LedgerRoom } from './gateway/gateway-ledger.js';
import { checkRelayedCall, relayTargetOf, requireShallow } from './gateway/gateway-routes.js';
import type { ChatRelay, RelaySink } from './gateway/relay.js';
import type { KeyStore } from './keys/key-store.js';
import { bodyTooLarge, type RateLimiter, type RequestGate } from './request-limits.js';

export type NodeRequestListener = (incoming: IncomingMessage, outgoing: ServerResponse) => void;

export interface RequestListenerOptions {
  app: {
    fetch(request: Request, env: { incoming: IncomingMessage; outgoing: ServerResponse }): Response | Promise<Response>;
  };
  hataraku: Hataraku;
  /** The gateway's ledger: a call is refused while its writer is too far behind. */
  recorder: LedgerRoom;
  /** Without a relay every request goes to the app. */
  relay: ChatRelay | undefined;
  keys: KeyStore;
  rateLimiter: RateLimiter;
  gate: RequestGate;
  maxBodyBytes: number;
  log: (line: string) => void;
  redact: (message: string) => string;
}

const chatPath = '/v1/chat/completions';

export function createRequestListener(options: RequestListenerOptions): NodeRequestListener {
  const { relay, keys, rateLimiter, gate, maxBodyBytes, log, redact } = options;
  /** Bodies the lane read before handing a request to the app. */
  const bodies = new WeakMap<IncomingMessage, string>();
  const app = getRequestListener((request, bindings) => {
    // Served by `node:http` (this listener), never HTTP/2.
    const env = bindings as { incoming: IncomingMessage; outgoing: ServerResponse };
    const body = bodies.get(env.incoming);
    if (body === undefined) return options.app.fetch(request, env);
    return options.app.fetch(new Request(request.url, { method: 'POST', headers: request.headers, body }), env);
  });

  const serveChat = async (incoming: IncomingMessage, outgoing: ServerResponse, token: string) => {
    let release: (() => void) | undefined;
    try {
      release = gate.enter();
      outgoing.once('close', release);
      const text = await readBody(incoming, maxBodyBytes);
      const handOff = () => {
        release?.();
        bodies.set(incoming, text);
        void app(incoming, outgoing);
      };
      let json: unknown;
      try {
        json = JSON.parse(text);
        requireShallow(json);
      } catch {
        return handOff();
      }
      if (!isPlainChatRequest(json) && !chatRequestSchema.safeParse(json).success) return handOff();
      // The request as the client sent it, now known to be valid: what the relay forwards.
      const body = json as ChatRequest;
      // Everything that hands the request to the app is decided before the key's rate limit is
      // counted: the app counts it then.
      const target = relay && relayTargetOf(relay, body);
      if (!relay || !target) return handOff();
      const key = keys.verify(token);
      if (!key) return handOff();
      if (key.requestsPerMinute !== undefined) rateLimiter.take(key.id, key.requestsPerMinute);
      await checkRelayedCall(options.hataraku, options.recorder, key, body);
      // Not an `AbortController`: on Node 20 each of those costs the garbage collector (`plain-abort.ts`).
      const clientGone = new PlainAbortController();
      outgoing.once('close', () => {
        if (!outgoing.writableFinished) clientGone.abort();
      });
      const sink: RelaySink = {
        head: (status, headers) => void outgoing.writeHead(status, headers),
        write: (chunk) => outgoing.write(chunk),
        onDrain: (listener) => void outgoing.once('drain', listener),
        end: (chunk) => void outgoing.end(chunk),
      };
      await relay.relay({ name: body.model, target, body, requestText: text, key, signal: clientGone.signal }, sink);
    } catch (error) {
      sendError(incoming, outgoing, error, log, redact);
    }
  };

  return (incoming, outgoing) => {
    const authorization = incoming.headers.authorization;
    if (
      relay !== undefined &&
      incoming.method === 'POST' &&
      incoming.url === chatPath &&
      authorization?.startsWith('Bearer ')
    ) {
      void serveChat(incoming, outgoing, authorization.slice('Bearer '.length).trim());
      return;
    }
    void app(incoming, outgoing);
  };
}

/** The request body as text; over `maxBytes` (by its Content-Length or as counted) it is refused. */
function readBody(incoming: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = incoming.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(bodyTooLarge(maxBytes));
  return new Promise<string>((resolve, reject) => {
    const pieces: Buffer[] = [];
    let size = 0;
    let refused = false;
    incoming.on('data', (piece: Buffer) => {
      if (refused) return;
      size += piece.length;
      if (size > maxBytes) {
        refused = true;
        pieces.length = 0;
        reject(bodyTooLarge(maxBytes));
        return;
      }
      pieces.push(piece);
    });
    incoming.on('end', () => {
      if (!refused)
        resolve(
          pieces.length === 1 ? (pieces[0] as Buffer).toString('utf8') : Buffer.concat(pieces, size).toString('utf8'),
        );
    });
    incoming.on('error', (error) => {
      if (!refused) reject(error);
      refused = true;
    });
  });
}

/** The app's error answer (`respondWithError`), written to a Node response. */
function sendError(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  error: unknown,
  log: (line: string) => void,
  redact: (message: string) => string,
): void {
  if (outgoing.headersSent) {
    outgoing.end();
    return;
  }
  const apiError = toApiError(error);
  if (!apiError) {
    // A client that went away mid-body is not a bug.
    if (!incoming.destroyed) {
      log(`internal error on POST ${chatPath}: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }
  const status = apiError?.status ?? 500;
  const body = JSON.stringify(
    apiError
      ? errorBody(apiError.code, redact(apiError.message), status)
      : errorBody('internal_error', 'the server failed to handle this request (a bug; see the server log).', 500),
  );
  const headers: Record<string, string> = {
    ...apiError?.headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  };
  // A body refused before it was read whole: the connection cannot carry another request.
  if (!incoming.complete) headers.connection = 'close';
  outgoing.writeHead(status, headers);
  outgoing.end(body);
}
