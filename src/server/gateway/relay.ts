/**
 * The relay: how the gateway serves a chat completion for a model of an OpenAI-compatible
 * provider. The client's request body goes to the provider as the client wrote it (only `model`
 * becomes the provider's model id, and a stream asks for its usage), and the provider's answer
 * comes back as the provider wrote it, streamed through as it arrives. The gateway reads only
 * what it needs: the usage, to price the call and add its cost; errors, to remove the provider's
 * secrets from them. Fields Hataraku has no use for (`logprobs`, `seed`, `user`, a provider's own
 * extensions) reach the provider and the client unchanged.
 *
 * The provider call is the same one the model layer makes (`postWithRetry`: timeout, retries of
 * retryable failures before the answer starts, the errors and their advice), over `node:http`,
 * with the answer's body read as a Node stream rather than through WHATWG streams.
 *
 * Everything else is translated (`gateway-routes.ts`): routes, agents, Anthropic and local
 * models, and every model while the model-call cache is on, since a cached answer must be the
 * same whoever asked. `serve --no-relay` translates every call.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { priceUsageByModel } from '../../agent/run-costs.js';
import type { HatarakuConfig } from '../../config/load-config.js';
import type { PriceSource } from '../../cost/price-source.js';
import { ModelCallError } from '../../errors.js';
import { describeStreamError, type OpenAIUsage, toUsage } from '../../models/openai/openai-wire.js';
import type { Usage } from '../../models/spec.js';
import {
  defaultRetryPolicy,
  type PostRequest,
  postWithRetry,
  releaseResponse,
  type TransportFetch,
  type TransportResponse,
} from '../../models/transport/http.js';
import { redactedUrl } from '../../models/transport/url-redaction.js';
import type { ApiKey } from '../keys/key-store.js';
import { answerOfEventStream, dataOf, type StreamedAnswer, type WireAnswerFields } from './chat-stream.js';
import type { GatewayCall } from './gateway-ledger.js';

/** Where a relayed answer is written: a Node response, or a Fetch response for in-process calls. */
export interface RelaySink {
  head(status: number, headers: Record<string, string>): void;
  /** False when the client is not keeping up; `onDrain` then says when to write again. */
  write(text: string): boolean;
  onDrain(listener: () => void): void;
  end(text?: string): void;
}

/** The provider a model name is relayed to. */
export interface RelayTarget {
  /** `provider:modelId`, the name prices and the ledger know the model by. */
  label: string;
  providerId: string;
  modelId: string;
  /** The provider call, less its body and abort signal, for a streamed and a whole answer. */
  streamed: Omit<PostRequest<UpstreamAnswer>, 'body' | 'abortSignal'>;
  whole: Omit<PostRequest<UpstreamAnswer>, 'body' | 'abortSignal'>;
}

export interface RelayCall {
  /** The model name as the client wrote it. */
  name: string;
  target: RelayTarget;
  /** The request body as the client sent it, already validated. */
  body: Record<string, unknown>;
  requestText: string;
  key: ApiKey;
  /** Fires when the client goes away: the provider call is dropped. */
  signal: AbortSignal;
}

export interface ChatRelay {
  /** The provider `name` is relayed to; undefined when the gateway translates calls for it. */
  targetOf(name: string): RelayTarget | undefined;
  /**
   * Serve one call into `sink`. Rejects, before `sink.head`, with the provider's error (a
   * `ModelCallError`) when the call fails before its answer starts; a streamed answer that
   * breaks later ends with an error event instead.
   */
  relay(call: RelayCall, sink: RelaySink): Promise<void>;
  close(): void;
}

export interface ChatRelayOptions {
  config: Pick<HatarakuConfig, 'providers' | 'cache'>;
  prices: PriceSource;
  record: (call: GatewayCall) => void;
  /** Removes the provider secrets from an upstream's error text. */
  redact: (message: string) => string;
  /** Off: `targetOf` answers undefined for every name. */
  enabled?: boolean;
  /** Longest silence while an answer is read, in milliseconds (default 120 s, as the model layer). */
  idleTimeoutMs?: number;
  /** Largest answer read whole, in bytes (default 32 MiB). */
  maxAnswerBytes?: number;
}

/** How much of a streamed answer the ledger keeps, to record its text (the usage is kept whole). */
const maxRecordedStreamChars = 4 * 1024 * 1024;
/** How much of an error answer is read. */
const maxErrorBytes = 64 * 1024;

/**
 * A provider's answer as the transport sees it: its status and headers, and either its body as a
 * Node stream (a successful answer, read by the relay) or its text (an error, up to 64 KiB).
 */
interface UpstreamAnswer extends TransportResponse {
  incoming: http.IncomingMessage | undefined;
}

export function createChatRelay(options: ChatRelayOptions): ChatRelay {
  const { config, prices, record, redact } = options;
  const enabled = (options.enabled ?? true) && !config.cache;
  const idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
  const maxAnswerBytes = options.maxAnswerBytes ?? 32 * 1024 * 1024;
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
  };
  const fetchUpstream = createUpstreamFetch(agents);
  const targets = new Map<string, RelayTarget | null>();

  const targetOf = (name: string): RelayTarget | undefined => {
    if (!enabled) return undefined;
    const known = targets.get(name);
    if (known !== undefined) return known ?? undefined;
    const target = resolveTarget(name, config.providers, fetchUpstream);
    // Names come from clients: remember a bounded number of them.
    if (targets.size >= 1000) targets.clear();
    targets.set(name, target ?? null);
    return target;
  };

  const price = (target: RelayTarget, wire: OpenAIUsage | undefined) => {
    const usage: Usage = wire ? toUsage(wire) : { inputTokens: undefined, outputTokens: undefined };
    const priced = priceUsageByModel([{ model: target.label, usage }], prices);
    return { usage, ...priced };
  };

  const relay = async (call: RelayCall, sink: RelaySink): Promise<void> => {
    const { target } = call;
    const streamed = call.body.stream === true;
    const payload: Record<string, unknown> = { ...call.body, model: target.modelId };
    if (streamed) {
      const asked = call.body.stream_options;
      payload.stream_options = { ...(typeof asked === 'object' && asked !== null ? asked : {}), include_usage: true };
    } else {
      // A whole answer: OpenAI refuses `stream_options` without `stream: true`.
      delete payload.stream;
      delete payload.stream_options;
    }
    const unique = randomUUID().replaceAll('-', '');
    const runId = `gw_${unique.slice(0, 20)}`;
    const startedAt = Date.now();
    const response = await postWithRetry({
      ...(streamed ? target.streamed : target.whole),
      body: payload,
      abortSignal: call.signal,
    });
    const incoming = response.incoming;
    const finish = (
      fields: Pick<GatewayCall, 'text' | 'toolCalls' | 'usage' | 'costUsd' | 'ledger'> & {
        answerStream?: string;
      },
    ) =>
      record({
        id: runId,
        model: call.name,
        tenant: call.key.tenant,
        keyName: call.key.name,
        requestText: call.requestText,
        startedAt,
        finishedAt: Date.now(),
        ...fields,
      });
    try {
      if (!incoming) throw badAnswer(target, `${redactedUrl(target.streamed.url)} answered with no body.`);
      const eventStream = (incoming.headers['content-type'] ?? '').includes('text/event-stream');
      if (streamed && eventStream) {
        await relayStream({ call, target, incoming, sink, runId, idleTimeoutMs, price, finish, redact });
        return;
      }
      const text = await readWhole(incoming, target, maxAnswerBytes, idleTimeoutMs);
      const whole = eventStream ? undefined : parseCompletion(text, target);
      const answer = whole?.answer ?? answerOfEventStream(text);
      if (answer.error !== undefined) {
        throw new ModelCallError({
          code: 'model_server_error',
          provider: target.providerId,
          modelId: target.modelId,
          retryable: false,
          message: `${target.label}: the provider answered with an error (${describeStreamError(answer.error)}).`,
        });
      }
      const priced = price(target, answer.usage);
      finish({
        text: answer.text,
        toolCalls: answer.toolCalls,
        usage: priced.usage,
        costUsd: priced.costUsd,
        ledger: priced.ledger,
      });
      const headers: Record<string, string> = { 'x-hataraku-run-id': runId };
      if (priced.costUsd !== undefined) headers['x-hataraku-cost-usd'] = priced.costUsd.toFixed(8);
      if (streamed) {
        // The provider sent the whole answer to a streamed request: it goes out as chunks.
        sink.head(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
        sink.end(chunksOf(answer, target, call.body, priced.costUsd));
        return;
      }
      const body = whole
        ? withCost(text, whole.document, priced.costUsd)
        : JSON.stringify(completionOfAnswer(answer, target, priced.costUsd));
      sink.head(200, {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      });
      sink.end(body);
    } finally {
      releaseResponse(response);
    }
  };

  return {
    targetOf,
    relay,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

function resolveTarget(
  name: string,
  providers: HatarakuConfig['providers'],
  fetchUpstream: TransportFetch<UpstreamAnswer>,
): RelayTarget | undefined {
  const separator = name.indexOf(':');
  if (separator <= 0 || separator === name.length - 1) return undefined;
  const providerId = name.slice(0, separator);
  const modelId = name.slice(separator + 1);
  if (!Object.hasOwn(providers, providerId)) return undefined;
  const settings = providers[providerId];
  // A missing key is reported by the translated path, with the variable to set.
  if (settings?.type !== 'openai' || (settings.apiKeyEnv !== undefined && settings.apiKey === undefined)) {
    return undefined;
  }
  const headers: Record<string, string> = {};
  if (settings.apiKey !== undefined && settings.apiKey !== '') headers.authorization = `Bearer ${settings.apiKey}`;
  Object.assign(headers, settings.headers);
  const common = {
    provider: providerId,
    modelId,
    url: `${settings.baseURL}/chat/completions`,
    timeoutMs: settings.timeoutMs,
    retry: { ...defaultRetryPolicy, maxRetries: settings.maxRetries },
    fetch: fetchUpstream,
    authHint: settings.apiKeyEnv ? `set ${settings.apiKeyEnv}` : `check the server at ${redactedUrl(settings.baseURL)}`,
  };
  return {
    label: `${providerId}:${modelId}`,
    providerId,
    modelId,
    streamed: { ...common, headers: { accept: 'text/event-stream', ...headers } },
    whole: { ...common, headers: { accept: 'application/json', ...headers } },
  };
}

/**
 * The transport's `fetch` over `node:http`: a successful answer keeps its body as the Node
 * stream; an error answer's body is read (up to 64 KiB) for the transport's error handling.
 */
function createUpstreamFetch(agents: { http: http.Agent; https: https.Agent }): TransportFetch<UpstreamAnswer> {
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
    const headers = { ...init.headers, 'content-length': String(Buffer.byteLength(body)) };
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
          signal,
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
      request.on('error', (error) =>
        reject(signal.aborted ? signal.reason : new TypeError('fetch failed', { cause: error })),
      );
      request.end(body);
    });
  };
}

function badAnswer(
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
function readWhole(
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

function brokenAnswer(target: RelayTarget, error: Error): ModelCallError {
  return new ModelCallError({
    code: 'model_unreachable',
    provider: target.providerId,
    modelId: target.modelId,
    retryable: false,
    message: `${target.label}: the answer broke off (${error.message}); retry the request.`,
  });
}

/** A whole completion, read for the ledger (its choices) and its usage. */
function parseCompletion(
  text: string,
  target: RelayTarget,
): { answer: StreamedAnswer; document: Record<string, unknown> } {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw badAnswer(target, `sent an answer that is not JSON: ${JSON.stringify(text.slice(0, 200))}.`);
  }
  if (typeof document !== 'object' || document === null) {
    throw badAnswer(target, `sent an answer that is not a chat completion: ${JSON.stringify(text.slice(0, 200))}.`);
  }
  const fields = document as WireAnswerFields;
  const choice = Array.isArray(fields.choices) ? (fields.choices[0] as Record<string, unknown> | undefined) : undefined;
  const message = (choice?.message ?? {}) as { content?: unknown; refusal?: unknown; tool_calls?: unknown };
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as Array<Record<string, unknown>>) : [];
  const answer: StreamedAnswer = {
    id: typeof fields.id === 'string' ? fields.id : undefined,
    created: typeof fields.created === 'number' ? fields.created : undefined,
    model: typeof fields.model === 'string' ? fields.model : undefined,
    text: typeof message.content === 'string' ? message.content : '',
    refusal: typeof message.refusal === 'string' ? message.refusal : undefined,
    toolCalls: calls.map((call) => {
      const fn = (call?.function ?? {}) as { name?: unknown; arguments?: unknown };
      return {
        type: 'tool-call' as const,
        id: typeof call?.id === 'string' ? call.id : '',
        name: typeof fn.name === 'string' ? fn.name : '',
        arguments: typeof fn.arguments === 'string' ? fn.arguments : '',
      };
    }),
    finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : null,
    usage: typeof fields.usage === 'object' && fields.usage !== null ? (fields.usage as OpenAIUsage) : undefined,
    error: fields.error ?? undefined,
  };
  return { answer, document: document as Record<string, unknown> };
}

/** The provider's completion with the call's cost added to its usage (`usage.cost_usd`). */
function withCost(text: string, document: Record<string, unknown>, costUsd: number | undefined): string {
  const usage = document.usage as Record<string, unknown> | null | undefined;
  if (costUsd === undefined || typeof usage !== 'object' || usage === null) return text;
  usage.cost_usd = costUsd;
  return JSON.stringify(document);
}

function usageWithCost(usage: OpenAIUsage | undefined, costUsd: number | undefined) {
  if (usage === undefined) return undefined;
  return costUsd === undefined ? usage : { ...usage, cost_usd: costUsd };
}

/** A whole `chat.completion` from an answer the provider streamed. */
function completionOfAnswer(answer: StreamedAnswer, target: RelayTarget, costUsd: number | undefined) {
  return {
    id: answer.id ?? `chatcmpl-${randomUUID().replaceAll('-', '')}`,
    object: 'chat.completion',
    created: answer.created ?? Math.floor(Date.now() / 1000),
    model: answer.model ?? target.modelId,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: answer.text === '' && answer.toolCalls.length > 0 ? null : answer.text,
          refusal: answer.refusal ?? null,
          ...(answer.toolCalls.length > 0
            ? {
                tool_calls: answer.toolCalls.map((call) => ({
                  id: call.id,
                  type: 'function',
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: answer.finishReason ?? 'stop',
      },
    ],
    ...(answer.usage ? { usage: usageWithCost(answer.usage, costUsd) } : {}),
  };
}

/** The chunks of a stream carrying `answer`, for a provider that sent a whole answer to a streamed request. */
function chunksOf(
  answer: StreamedAnswer,
  target: RelayTarget,
  body: Record<string, unknown>,
  costUsd: number | undefined,
): string {
  const base = {
    id: answer.id ?? `chatcmpl-${randomUUID().replaceAll('-', '')}`,
    object: 'chat.completion.chunk',
    created: answer.created ?? Math.floor(Date.now() / 1000),
    model: answer.model ?? target.modelId,
  };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
  let out = chunk({ role: 'assistant', content: answer.text });
  if (answer.refusal !== undefined) out += chunk({ refusal: answer.refusal });
  for (const [index, call] of answer.toolCalls.entries()) {
    out += chunk({
      tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }],
    });
  }
  out += chunk({}, answer.finishReason ?? 'stop');
  const options = body.stream_options as { include_usage?: unknown } | null | undefined;
  if (options?.include_usage === true && answer.usage) {
    out += `data: ${JSON.stringify({ ...base, choices: [], usage: usageWithCost(answer.usage, costUsd) })}\n\n`;
  }
  return `${out}data: [DONE]\n\n`;
}

/**
 * Pass a provider's event stream through to the client as it arrives. Complete events are
 * forwarded untouched, except the ones that carry usage (priced, with the cost added; dropped
 * when the client did not ask for usage) or an error (its message redacted).
 */
function relayStream(init: {
  call: RelayCall;
  target: RelayTarget;
  incoming: http.IncomingMessage;
  sink: RelaySink;
  runId: string;
  idleTimeoutMs: number;
  price: (
    target: RelayTarget,
    usage: OpenAIUsage | undefined,
  ) => { usage: Usage; costUsd: number | undefined; ledger: GatewayCall['ledger'] };
  finish: (
    fields: Pick<GatewayCall, 'text' | 'toolCalls' | 'usage' | 'costUsd' | 'ledger'> & { answerStream?: string },
  ) => void;
  redact: (message: string) => string;
}): Promise<void> {
  const { call, target, incoming, sink, idleTimeoutMs, redact } = init;
  const options = call.body.stream_options as { include_usage?: unknown } | null | undefined;
  const clientWantsUsage = options?.include_usage === true;
  sink.head(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-hataraku-run-id': init.runId,
  });
  return new Promise<void>((resolve) => {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    let recorded = '';
    let usage: OpenAIUsage | undefined;
    let priced: ReturnType<typeof init.price> | undefined;
    let ended = false;

    const rewrite = (event: string): string => {
      const payload = dataOf(event);
      if (payload === undefined) return event;
      let document: Record<string, unknown>;
      try {
        const parsed = JSON.parse(payload) as unknown;
        if (typeof parsed !== 'object' || parsed === null) return event;
        document = parsed as Record<string, unknown>;
      } catch {
        return event;
      }
      if (document.error !== undefined && document.error !== null) {
        const error = document.error as Record<string, unknown> | string;
        if (typeof error === 'string') document.error = redact(error);
        else if (typeof error.message === 'string') error.message = redact(error.message);
        return `data: ${JSON.stringify(document)}\n\n`;
      }
      if (typeof document.usage !== 'object' || document.usage === null) return event;
      usage = document.usage as OpenAIUsage;
      priced = init.price(target, usage);
      if (clientWantsUsage) {
        document.usage = usageWithCost(usage, priced.costUsd);
        return `data: ${JSON.stringify(document)}\n\n`;
      }
      if (!Array.isArray(document.choices) || document.choices.length === 0) return '';
      delete document.usage;
      return `data: ${JSON.stringify(document)}\n\n`;
    };

    const forward = (complete: string) => {
      if (recorded.length < maxRecordedStreamChars) recorded += complete;
      let out = complete;
      if (complete.includes('"usage"') || complete.includes('"error"')) {
        out = complete
          .split('\n\n')
          .map((event) => (event === '' ? '' : rewrite(`${event}\n\n`)))
          .join('');
      }
      if (out !== '' && !sink.write(out)) {
        incoming.pause();
        sink.onDrain(() => incoming.resume());
      }
    };

    const done = (failure: ModelCallError | undefined) => {
      if (ended) return;
      ended = true;
      clearTimeout(idle);
      const rest = pending + decoder.end();
      pending = '';
      if (rest !== '' && failure === undefined) forward(rest);
      if (failure !== undefined && !call.signal.aborted) {
        sink.end(
          `data: ${JSON.stringify({ error: { code: failure.code, message: redact(failure.message), type: 'server_error' } })}\n\n`,
        );
      } else sink.end();
      const final = priced ?? init.price(target, usage);
      // The text and tool calls are read from the stream by the ledger's batch writer.
      init.finish({
        text: '',
        toolCalls: [],
        answerStream: recorded,
        usage: final.usage,
        costUsd: final.costUsd,
        ledger: final.ledger,
      });
      resolve();
    };

    const idle = setTimeout(() => {
      incoming.destroy();
      done(badAnswer(target, `the stream went silent for ${idleTimeoutMs} ms.`, 'model_timeout'));
    }, idleTimeoutMs);

    incoming.on('data', (piece: Buffer) => {
      idle.refresh();
      pending += decoder.write(piece);
      // Lines may end in CRLF; a CR at the very end waits for what follows it.
      if (pending.includes('\r')) {
        const last = pending.endsWith('\r') ? '\r' : '';
        pending = pending.slice(0, pending.length - last.length).replace(/\r\n?/g, '\n') + last;
      }
      const end = pending.lastIndexOf('\n\n');
      if (end < 0) return;
      const complete = pending.slice(0, end + 2);
      pending = pending.slice(end + 2);
      forward(complete);
    });
    incoming.on('end', () => done(undefined));
    incoming.on('error', (error) => done(brokenAnswer(target, error)));
    incoming.on('close', () => {
      if (!incoming.complete) done(brokenAnswer(target, new Error('the connection closed')));
    });
  });
}
