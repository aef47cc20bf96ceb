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

/**
 * A rule a real server enforces on the request body: the error it answers with (status and JSON
 * body), or undefined when the body passes. A request that breaks a rule gets that error instead
 * of its scripted reply, as the real server would answer.
 */
export type ServerQuirk = (body: unknown) => { status: number; body: unknown } | undefined;

export interface FakeOpenAIServerOptions {
  /** Rules checked on every request, in order; the first that fails answers. */
  quirks?: ServerQuirk[];
}

/** Start a server that answers request N with `replies[N]`. */
export async function startFakeOpenAIServer(
  replies: FakeReply[],
  options: FakeOpenAIServerOptions = {},
): Promise<FakeOpenAIServer> {
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
      for (const quirk of options.quirks ?? []) {
        const refusal = quirk(record.body);
        if (refusal !== undefined) {
          jsonReply(refusal.status, refusal.body)(request, response);
          return;
        }
      }
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

/** The error body OpenAI-compatible servers send with a 400. */
function invalidRequest(message: string, param: string | null, code: string | null) {
  return { status: 400, body: { error: { message, type: 'invalid_request_error', param, code } } };
}

interface ChatBody {
  model?: string;
  max_tokens?: number;
  temperature?: number;
  stop?: string[];
  messages?: Array<{
    role: string;
    content?: unknown;
    reasoning_content?: string;
    tool_call_id?: string;
    tool_calls?: Array<{ id: string; function: { name: string; arguments: unknown } }>;
  }>;
}

/**
 * OpenAI with a reasoning model (o-series, gpt-5): `max_tokens`, `stop` and a temperature other
 * than 1 are rejected with the errors OpenAI sends.
 */
export const openAIReasoningModelQuirk: ServerQuirk = (body) => {
  const chat = body as ChatBody;
  if (!/^(o\d|gpt-5)/.test(chat.model ?? '')) return undefined;
  if (chat.max_tokens !== undefined) {
    return invalidRequest(
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      'max_tokens',
      'unsupported_parameter',
    );
  }
  if (chat.stop !== undefined) {
    return invalidRequest(
      "Unsupported parameter: 'stop' is not supported with this model.",
      'stop',
      'unsupported_parameter',
    );
  }
  if (chat.temperature !== undefined && chat.temperature !== 1) {
    return invalidRequest(
      `Unsupported value: 'temperature' does not support ${chat.temperature} with this model. Only the default (1) value is supported.`,
      'temperature',
      'unsupported_value',
    );
  }
  return undefined;
};

/**
 * Ollama (and likewise vLLM and llama.cpp, with a 500): tool-call arguments in the history are
 * parsed as a JSON object; anything else fails the whole request.
 */
export const ollamaHistoryArgumentsQuirk: ServerQuirk = (body) => {
  for (const message of (body as ChatBody).messages ?? []) {
    for (const call of message.tool_calls ?? []) {
      let parsed: unknown;
      try {
        parsed = typeof call.function.arguments === 'string' ? JSON.parse(call.function.arguments) : undefined;
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return invalidRequest(
          `invalid tool call arguments for ${call.function.name}: ${String(call.function.arguments)}`,
          null,
          null,
        );
      }
    }
  }
  return undefined;
};

/** DeepSeek's thinking mode: an assistant turn with tool calls must come back with its reasoning. */
export const deepSeekReasoningQuirk: ServerQuirk = (body) => {
  const messages = (body as ChatBody).messages ?? [];
  for (const [index, message] of messages.entries()) {
    if (message.role === 'assistant' && (message.tool_calls?.length ?? 0) > 0 && !message.reasoning_content) {
      return invalidRequest(
        `Missing \`reasoning_content\` field in the assistant message at message index ${index}`,
        null,
        'invalid_request_error',
      );
    }
  }
  return undefined;
};

/** vLLM serving a Mistral model: every tool-call id must be exactly nine letters and digits. */
export const mistralToolCallIdQuirk: ServerQuirk = (body) => {
  for (const message of (body as ChatBody).messages ?? []) {
    const ids = [
      ...(message.tool_calls ?? []).map((call) => call.id),
      ...(message.tool_call_id ? [message.tool_call_id] : []),
    ];
    for (const id of ids) {
      if (!/^[a-zA-Z0-9]{9}$/.test(id)) {
        return invalidRequest(`Tool call id was ${id} but must be a-z, A-Z, 0-9, with a length of 9.`, null, null);
      }
    }
  }
  return undefined;
};
