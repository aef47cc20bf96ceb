/**
 * Test support only: an in-process HTTP server on port 0 that answers `POST /v1/messages` the
 * way the Anthropic Messages API does (server-sent events with `event:` and `data:` lines, JSON
 * error bodies), from replies scripted by the test. It records every request it receives and
 * can misbehave on purpose: stay silent, stall mid-stream, or reset the connection.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer, used for one request. */
export interface FakeAnthropicReply {
  /** HTTP status. Default 200. */
  status?: number;
  /** Response headers. Default: `content-type: text/event-stream` for 200, JSON otherwise. */
  headers?: Record<string, string>;
  /** Response body: an SSE stream, or a JSON error body. Default empty. */
  body?: string;
  /** Write the body in pieces of this many bytes (splitting lines and UTF-8 sequences). */
  chunkBytes?: number;
  /** Pause between pieces, in milliseconds. Default 0. */
  chunkDelayMs?: number;
  /**
   * After the body: `end` the response (default), `reset` the TCP connection, or `hang` with
   * the connection open until the server closes.
   */
  after?: 'end' | 'reset' | 'hang';
  /** Send nothing at all, not even headers, as an unresponsive upstream would. */
  silent?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, parsed. */
  body: unknown;
}

export interface FakeAnthropicServer {
  /** Pass as the model's `baseURL`; ends in `/v1`. */
  readonly baseURL: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Queue replies; each request takes the next one (a 500 when none is left). */
  reply(...replies: FakeAnthropicReply[]): void;
  close(): Promise<void>;
}

/**
 * A rule the real API enforces on the request body: the error reply it gets, or undefined when
 * the body passes. A request that breaks a rule gets that error instead of the next scripted reply.
 */
export type AnthropicQuirk = (body: unknown) => FakeAnthropicReply | undefined;

export async function startFakeAnthropicServer(
  options: { quirks?: AnthropicQuirk[] } = {},
): Promise<FakeAnthropicServer> {
  const requests: RecordedRequest[] = [];
  const queue: FakeAnthropicReply[] = [];
  const server = createServer((incoming, outgoing) => {
    const pieces: Buffer[] = [];
    incoming.on('data', (piece: Buffer) => pieces.push(piece));
    incoming.on('end', () => {
      const text = Buffer.concat(pieces).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      requests.push({ method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers, body });
      const refusal = (options.quirks ?? []).map((quirk) => quirk(body)).find((reply) => reply !== undefined);
      if (refusal !== undefined) {
        void send(outgoing, refusal);
        return;
      }
      const reply = queue.shift() ?? {
        status: 500,
        body: anthropicErrorBody('api_error', 'the fake server has no reply scripted for this request'),
      };
      void send(outgoing, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    reply(...replies) {
      queue.push(...replies);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function send(outgoing: ServerResponse, reply: FakeAnthropicReply): Promise<void> {
  if (reply.silent === true) return;
  const status = reply.status ?? 200;
  const defaultHeaders: Record<string, string> =
    status === 200
      ? { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }
      : { 'content-type': 'application/json' };
  outgoing.writeHead(status, { ...defaultHeaders, ...reply.headers });
  outgoing.flushHeaders();
  const bytes = Buffer.from(reply.body ?? '', 'utf8');
  const size = reply.chunkBytes ?? Math.max(bytes.length, 1);
  for (let offset = 0; offset < bytes.length; offset += size) {
    if (outgoing.destroyed) return;
    outgoing.write(bytes.subarray(offset, offset + size));
    if (reply.chunkDelayMs !== undefined && reply.chunkDelayMs > 0) await delay(reply.chunkDelayMs);
  }
  const after = reply.after ?? 'end';
  if (after === 'end') outgoing.end();
  // Let the written bytes reach the client before the socket goes away mid-response.
  else if (after === 'reset') setTimeout(() => outgoing.socket?.resetAndDestroy(), 20);
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** One server-sent event as Anthropic writes it. */
export function sseEvent(data: { type: string; [key: string]: unknown }): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** An Anthropic error body, as sent with 4xx and 5xx statuses. */
export function anthropicErrorBody(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}

/** Read a recorded stream from `__fixtures__/`. */
export function readFixture(name: string): Promise<string> {
  return readFile(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
}

interface MessagesBody {
  model?: string;
  temperature?: number;
  thinking?: { type: string };
  messages?: Array<{ role: string; content: Array<{ type: string; signature?: string }> }>;
}

/**
 * Extended thinking with tools: an assistant turn that used tools must start with its thinking
 * block, signature included, as the API demands.
 */
export const thinkingWithToolsQuirk: AnthropicQuirk = (body) => {
  const request = body as MessagesBody;
  if (request.thinking?.type !== 'enabled') return undefined;
  for (const [index, message] of (request.messages ?? []).entries()) {
    if (message.role !== 'assistant' || !message.content.some((block) => block.type === 'tool_use')) continue;
    const first = message.content[0];
    const signed =
      first?.type === 'redacted_thinking' || (first?.type === 'thinking' && typeof first.signature === 'string');
    if (!signed) {
      return {
        status: 400,
        body: anthropicErrorBody(
          'invalid_request_error',
          `messages.${index}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first?.type}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block.`,
        ),
      };
    }
  }
  return undefined;
};

/** Models after Claude Opus 4.6 reject any temperature but 1; with thinking on, so do the others. */
export const fixedTemperatureQuirk: AnthropicQuirk = (body) => {
  const request = body as MessagesBody;
  if (request.temperature === undefined || request.temperature === 1) return undefined;
  if (request.thinking?.type === 'enabled') {
    return {
      status: 400,
      body: anthropicErrorBody(
        'invalid_request_error',
        '`temperature` may only be set to 1 when thinking is enabled or in adaptive mode.',
      ),
    };
  }
  if (/claude-opus-4-[7-9]|claude-[a-z]+-5/.test(request.model ?? '')) {
    return {
      status: 400,
      body: anthropicErrorBody('invalid_request_error', 'temperature is deprecated for this model.'),
    };
  }
  return undefined;
};
