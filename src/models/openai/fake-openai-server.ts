/**
 * A fake Chat Completions server for tests: a real `node:http` server on port 0 that answers
 * each request with the next scripted reply and records what it was sent. It speaks the real
 * wire format (SSE bodies, JSON error bodies, status codes, Retry-After), so the provider is
 * tested end to end through fetch. Used only by tests.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Handles one request. */
export type FakeReply = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body. */
  body: unknown;
  /** `Date.now()` when the request arrived. */
  receivedAt: number;
}

export interface FakeOpenAIServer {
  /** Base URL including `/v1`, ready for the `baseURL` option. */
  baseURL: string;
  requests: RecordedRequest[];
  /** Resolves when the connection of the given request (0-based) has closed. */
  closed(requestNumber: number): Promise<void>;
  close(): Promise<void>;
}

/** Start a server that answers request N with `replies[N]`. */
export async function startFakeOpenAIServer(replies: FakeReply[]): Promise<FakeOpenAIServer> {
  const requests: RecordedRequest[] = [];
  const closedSignals: Array<Promise<void>> = [];
  const server = createServer((request, response) => {
    const number = requests.length;
    const receivedAt = Date.now();
    const record: RecordedRequest = {
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body: undefined,
      receivedAt,
    };
    requests.push(record);
    closedSignals[number] = new Promise((resolve) => response.on('close', () => resolve()));
    const pieces: Buffer[] = [];
    request.on('data', (piece: Buffer) => pieces.push(piece));
    request.on('end', () => {
      const text = Buffer.concat(pieces).toString('utf8');
      record.body = text === '' ? undefined : JSON.parse(text);
      const reply = replies[number];
      if (reply === undefined) {
        jsonReply(500, { error: { message: `fake server: no reply scripted for request ${number}` } })(
          request,
          response,
        );
        return;
      }
      void reply(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    closed: (requestNumber) => closedSignals[requestNumber] ?? Promise.reject(new Error('no such request')),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answer with a JSON body and the given status and headers. */
export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): FakeReply {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };
}

export interface StreamReplyOptions {
  /** Bytes per write, to put chunk boundaries anywhere (inside UTF-8 sequences too). */
  pieceSize?: number;
  /** Pause between writes in milliseconds. */
  gapMs?: number;
  /** What happens after the body: end it (default), destroy the socket, or leave it open. */
  ending?: 'end' | 'destroy' | 'stall';
}

/** Answer 200 with a raw SSE body, written in pieces. */
export function streamReply(sseBody: string, options: StreamReplyOptions = {}): FakeReply {
  return async (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const bytes = Buffer.from(sseBody, 'utf8');
    const pieceSize = options.pieceSize ?? bytes.length;
    for (let offset = 0; offset < bytes.length; offset += pieceSize) {
      if (response.destroyed) return;
      response.write(bytes.subarray(offset, offset + pieceSize));
      if (options.gapMs !== undefined) await delay(options.gapMs);
    }
    const ending = options.ending ?? 'end';
    // Let the written bytes reach the client before the connection is torn down.
    if (ending === 'destroy') setTimeout(() => response.socket?.destroy(), 20);
    else if (ending === 'end') response.end();
  };
}

/** Serialize chunk objects as SSE `data:` events, optionally followed by `[DONE]`. */
export function sseBody(chunks: unknown[], options: { done?: boolean } = {}): string {
  const events = chunks.map((chunk) => `data: ${typeof chunk === 'string' ? chunk : JSON.stringify(chunk)}\n\n`);
  if (options.done ?? true) events.push('data: [DONE]\n\n');
  return events.join('');
}

/** Never answer; the connection stays open until the client gives up or the server closes. */
export function silentReply(): FakeReply {
  return () => {};
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
