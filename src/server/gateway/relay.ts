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
import { priceUsageByModel } from '../../agent/run-costs.js';
import type { HatarakuConfig } from '../../config/load-config.js';
import type { PriceSource } from '../../cost/price-source.js';
import { ModelCallError } from '../../errors.js';
import { describeStreamError, type OpenAIUsage, toUsage } from '../../models/openai/openai-wire.js';
import type { Usage } from '../../models/spec.js';
import { defaultRetryPolicy, postWithRetry, releaseResponse, type TransportSend } from '../../models/transport/http.js';
import { redactedUrl } from '../../models/transport/url-redaction.js';
import { answerOfEventStream } from './chat-stream.js';
import { copyWith } from './copy-with.js';
import type { GatewayCall } from './gateway-ledger.js';
import { chunksOf, completionOfAnswer, parseCompletion, withCost } from './relay-answer.js';
import type { RelayCall, RelaySink, RelayTarget, UpstreamAnswer } from './relay-call.js';
import { relayStream } from './relay-stream.js';
import { badAnswer, createUpstreamSend, readWhole } from './relay-upstream.js';

export type { RelayCall, RelaySink, RelayTarget } from './relay-call.js';

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
  /** Largest event of a streamed answer, in characters (default 8 Mi). */
  maxEventChars?: number;
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
  const sendUpstream = createUpstreamSend(agents);
  const targets = new Map<string, RelayTarget | null>();

  const targetOf = (name: string): RelayTarget | undefined => {
    if (!enabled) return undefined;
    const known = targets.get(name);
    if (known !== undefined) return known ?? undefined;
    const target = resolveTarget(name, config.providers, sendUpstream);
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
    const response = await postWithRetry(
      copyWith(streamed ? target.streamed : target.whole, { body: payload, abortSignal: call.signal }),
    );
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
        await relayStream({
          call,
          target,
          incoming,
          sink,
          runId,
          idleTimeoutMs,
          maxEventChars: options.maxEventChars,
          price,
          finish,
          redact,
        });
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
      try {
        const headers: Record<string, string> = { 'x-hataraku-run-id': runId };
        if (priced.costUsd !== undefined) headers['x-hataraku-cost-usd'] = priced.costUsd.toFixed(8);
        if (streamed) {
          // The provider sent the whole answer to a streamed request: it goes out as chunks.
          headers['content-type'] = 'text/event-stream; charset=utf-8';
          headers['cache-control'] = 'no-cache';
          sink.head(200, headers);
          sink.end(chunksOf(answer, target, call.body, priced.costUsd));
          return;
        }
        const body = whole
          ? withCost(text, whole.document, priced.costUsd, whole.normalized)
          : JSON.stringify(completionOfAnswer(answer, target, priced.costUsd));
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
        sink.head(200, headers);
        sink.end(body);
      } finally {
        // Recorded once the answer is out, off the client's wait; and whatever became of the
        // answer, since the provider answered.
        finish({
          text: answer.text,
          toolCalls: answer.toolCalls,
          usage: priced.usage,
          costUsd: priced.costUsd,
          ledger: priced.ledger,
        });
      }
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
  sendUpstream: TransportSend<UpstreamAnswer>,
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
    send: sendUpstream,
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
