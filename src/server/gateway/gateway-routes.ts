/**
 * The OpenAI-compatible gateway under `/v1`: chat completions (streaming and not, tools,
 * `response_format`, usage in the last chunk with `stream_options`), the model list, and
 * responses for the basic non-tool case. A request names any configured model, a route
 * (`route:cheap-first`) or an agent (`agent:<name>`, the whole durable run). Each call is
 * checked against the key's models, agents and budgets, priced, returned with its cost in
 * `x-hataraku-cost-usd`, and recorded in the ledger under the key's tenant.
 */

import { randomUUID } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { stream } from 'hono/streaming';
import type { RunEvent } from '../../agent/events.js';
import { priceResponse } from '../../agent/run-costs.js';
import type { Hataraku } from '../../hataraku.js';
import { collectResponse } from '../../models/collect-response.js';
import { userContentText } from '../../models/message-content.js';
import type { ModelRequest, ModelResponse } from '../../models/spec.js';
import type { AgentCatalog } from '../agent-catalog.js';
import { ApiError, describeValidation, toApiError } from '../api-error.js';
import { type AuthVariables, requireAgent, requireBudget, requireModel } from '../auth.js';
import { type ApiKey, keyAllows } from '../keys/key-store.js';
import type { RunService } from '../run-service.js';
import {
  type ChatRequest,
  chatRequestSchema,
  requireOneChoice,
  toModelMessages,
  toModelRequest,
} from './chat-request.js';
import { completionBody, createChunkWriter, wireUsage } from './chat-response.js';
import type { GatewayCall, GatewayRecorder, LedgerRoom } from './gateway-ledger.js';
import { createPushedBody } from './pushed-body.js';
import type { ChatRelay, RelayCall, RelaySink, RelayTarget } from './relay.js';
import { responseBody, responsesRequestSchema, responsesToChat } from './responses.js';

export interface GatewayOptions {
  hataraku: Hataraku;
  runs: RunService;
  agents: AgentCatalog;
  /** Queues the calls for the ledger. */
  recorder: GatewayRecorder;
  /** Where failures no client sees are reported. */
  log: (line: string) => void;
  /** Removes the provider secrets from a message for the client (default: none). */
  redact?: (message: string) => string;
  /** Serves OpenAI-compatible models by passing calls through (`relay.ts`); without it every call is translated. */
  relay?: ChatRelay;
}

const agentPrefix = 'agent:';

export function gatewayRoutes(options: GatewayOptions) {
  const { hataraku, runs, agents, recorder, log } = options;
  const redact = options.redact ?? ((message: string) => message);
  const app = new Hono<{ Variables: AuthVariables }>();
  const record = (call: GatewayCall) => recorder.record(call);

  app.get('/models', (context) => {
    const key = context.get('key');
    const names = [
      ...(hataraku.config.model ? [hataraku.config.model] : []),
      ...Object.keys(hataraku.config.prices),
      ...Object.keys(hataraku.config.routes).map((route) => `route:${route}`),
    ].filter((name) => keyAllows(key.models, name));
    const agentNames = agents
      .names()
      .filter((name) => keyAllows(key.agents, name))
      .map((name) => `${agentPrefix}${name}`);
    return context.json({
      object: 'list',
      data: [...new Set([...names, ...agentNames])].map((id) => ({
        id,
        object: 'model',
        created: 0,
        owned_by: 'hataraku',
      })),
    });
  });

  const parseChat = async (request: Request): Promise<{ body: ChatRequest; json: ChatRequest; text: string }> => {
    const text = await request.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(400, 'invalid_json', 'the request body is not valid JSON; send a JSON object.');
    }
    requireShallow(json);
    const parsed = chatRequestSchema.safeParse(json);
    if (!parsed.success) throw new ApiError(400, 'invalid_request', describeValidation(parsed.error, 'body'));
    return { body: parsed.data, json: json as ChatRequest, text };
  };

  app.post('/chat/completions', async (context) => {
    const key = context.get('key');
    // `json` is the request as the client sent it (the schema's copy drops unknown nested
    // fields): what the relay forwards.
    const { body, json, text } = await parseChat(context.req.raw);
    if (body.model.startsWith(agentPrefix)) return agentCompletion(context, body);
    const target = options.relay && relayTargetOf(options.relay, body);
    if (options.relay && target) {
      await checkRelayedCall(hataraku, recorder, key, body);
      return relayedResponse(options.relay, {
        name: body.model,
        target,
        body: json,
        requestText: text,
        key,
        signal: context.req.raw.signal,
      });
    }
    requireLedgerRoom(recorder);
    requireModel(key, body.model);
    requireServedModel(hataraku.config, body.model);
    if (key.budgetDayUsd !== undefined || key.budgetMonthUsd !== undefined) await requireBudget(hataraku.engine, key);
    const model = hataraku.model(body.model);
    const request: ModelRequest = { ...toModelRequest(body), abortSignal: context.req.raw.signal };
    const unique = randomUUID().replaceAll('-', '');
    const id = `chatcmpl-${unique}`;
    // The call's record in the journal: a finished run of the agent `gateway`.
    const runId = `gw_${unique.slice(0, 20)}`;
    const created = Math.floor(Date.now() / 1000);
    const startedAt = Date.now();
    const finishCall = (response: ModelResponse) => {
      const priced = priceResponse(response, hataraku.prices);
      record({
        id: runId,
        model: body.model,
        tenant: key.tenant,
        keyName: key.name,
        requestText: text,
        text: response.text,
        toolCalls: response.toolCalls,
        usage: response.usage,
        costUsd: priced.costUsd,
        ledger: priced.ledger,
        startedAt,
        finishedAt: Date.now(),
        ...(response.routing.length > 0 ? { routing: response.routing } : {}),
      });
      return priced.costUsd;
    };
    if (!body.stream) {
      const response = await collectResponse(model, request);
      const costUsd = finishCall(response);
      context.header('x-hataraku-run-id', runId);
      if (costUsd !== undefined) context.header('x-hataraku-cost-usd', costUsd.toFixed(8));
      return context.json(
        completionBody({
          id,
          model: body.model,
          created,
          text: response.text,
          toolCalls: response.toolCalls,
          finishReason: response.finishReason,
          usage: response.usage,
          costUsd,
          refusal: response.refusal,
        }),
      );
    }

    // Errors before the first byte are answered with a JSON error body, like a non-streamed call.
    const writer = createChunkWriter({ id, model: body.model, created });
    const output = createPushedBody();
    output.send(writer.start());
    let firstChunkSent: () => void = () => {};
    const firstChunk = new Promise<void>((resolve) => {
      firstChunkSent = resolve;
    });
    const collected = collectResponse(model, request, (event) => {
      const chunk = writer.event(event);
      if (chunk) {
        output.send(chunk);
        firstChunkSent();
      }
    });
    await Promise.race([collected, firstChunk]);
    collected.then(
      (response) => {
        const costUsd = finishCall(response);
        output.end(
          writer.finish(response.finishReason) +
            (body.stream_options?.include_usage ? writer.usage(wireUsage(response.usage, costUsd)) : '') +
            writer.done(),
        );
      },
      (failure: unknown) => {
        const apiError = toApiError(failure);
        if (!apiError) log(`gateway stream failed: ${failure instanceof Error ? failure.stack : String(failure)}`);
        output.end(
          writer.error(apiError?.code ?? 'internal_error', redact(apiError?.message ?? 'the upstream stream failed.')),
        );
      },
    );
    return new Response(output.body, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-hataraku-run-id': runId,
      },
    });
  });

  /** `agent:<name>`: run the whole agent on the conversation; its final answer is the reply. */
  const agentCompletion = async (context: Context<{ Variables: AuthVariables }>, body: ChatRequest) => {
    const key = context.get('key');
    const agentName = body.model.slice(agentPrefix.length);
    requireAgent(key, agentName);
    await requireBudget(hataraku.engine, key);
    const handle = runs.start({ agent: agentName, input: taskOf(body), tenant: key.tenant });
    const id = `chatcmpl-${handle.runId}`;
    const created = Math.floor(Date.now() / 1000);
    context.header('x-hataraku-run-id', handle.runId);
    if (!body.stream) {
      const result = await handle.result;
      if (result.status === 'waiting') throw approvalRequired(handle.runId, result.approvals?.[0]?.toolName);
      context.header('x-hataraku-cost-usd', result.totals.costUsd.toFixed(8));
      return context.json(
        completionBody({
          id,
          model: body.model,
          created,
          text: typeof result.output === 'string' ? result.output : JSON.stringify(result.output ?? ''),
          toolCalls: [],
          finishReason: result.status === 'completed' ? 'stop' : 'length',
          usage: { inputTokens: result.totals.inputTokens, outputTokens: result.totals.outputTokens },
          costUsd: result.totals.costUsd,
        }),
      );
    }
    const writer = createChunkWriter({ id, model: body.model, created });
    const events = handle.events[Symbol.asyncIterator]();
    context.header('content-type', 'text/event-stream; charset=utf-8');
    context.header('cache-control', 'no-cache');
    return stream(context, async (output) => {
      output.onAbort(() => void events.return?.());
      await output.write(writer.start());
      let end: Extract<RunEvent, { type: 'run-end' }> | undefined;
      for (;;) {
        const next = await events.next();
        if (next.done) break;
        const event = next.value;
        if (event.type === 'text-delta') await output.write(writer.text(event.delta));
        if (event.type === 'run-end') end = event;
      }
      const failure = await handle.result.then(
        () => undefined,
        (error: unknown) => error,
      );
      if (failure !== undefined || !end) {
        const apiError = toApiError(failure);
        await output.write(
          writer.error(apiError?.code ?? 'internal_error', redact(apiError?.message ?? 'the run failed.')),
        );
        return;
      }
      if (end.status === 'waiting') {
        const waiting = approvalRequired(handle.runId, undefined);
        await output.write(writer.error(waiting.code, waiting.message));
        return;
      }
      await output.write(writer.finish(end.status === 'completed' ? 'stop' : 'length'));
      if (body.stream_options?.include_usage) {
        await output.write(
          writer.usage(
            wireUsage(
              { inputTokens: end.totals.inputTokens, outputTokens: end.totals.outputTokens },
              end.totals.costUsd,
            ),
          ),
        );
      }
      await output.write(writer.done());
    });
  };

  app.post('/responses', async (context) => {
    const text = await context.req.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(400, 'invalid_json', 'the request body is not valid JSON; send a JSON object.');
    }
    requireShallow(json);
    const parsed = responsesRequestSchema.safeParse(json);
    if (!parsed.success) throw new ApiError(400, 'invalid_request', describeValidation(parsed.error, 'body'));
    const key = context.get('key');
    const chat = responsesToChat(parsed.data);
    requireLedgerRoom(recorder);
    requireModel(key, chat.model);
    requireServedModel(hataraku.config, chat.model);
    if (key.budgetDayUsd !== undefined || key.budgetMonthUsd !== undefined) await requireBudget(hataraku.engine, key);
    const model = hataraku.model(chat.model);
    const startedAt = Date.now();
    const response = await collectResponse(model, { ...toModelRequest(chat), abortSignal: context.req.raw.signal });
    const priced = priceResponse(response, hataraku.prices);
    const id = `resp_${randomUUID().replaceAll('-', '')}`;
    record({
      id: `gw_${id.slice(5, 25)}`,
      model: chat.model,
      tenant: key.tenant,
      keyName: key.name,
      requestText: text,
      text: response.text,
      toolCalls: [],
      usage: response.usage,
      costUsd: priced.costUsd,
      ledger: priced.ledger,
      startedAt,
      finishedAt: Date.now(),
      ...(response.routing.length > 0 ? { routing: response.routing } : {}),
    });
    context.header('x-hataraku-run-id', `gw_${id.slice(5, 25)}`);
    if (priced.costUsd !== undefined) context.header('x-hataraku-cost-usd', priced.costUsd.toFixed(8));
    return context.json(responseBody({ id, model: chat.model, response, costUsd: priced.costUsd }));
  });

  return app;
}

/**
 * The relay's target for a chat completion, or undefined when the call is translated instead:
 * the model is not relayed, or a message carries media. Decided from the request alone, before
 * anything about the key is checked or counted.
 */
export function relayTargetOf(relay: ChatRelay, body: ChatRequest): RelayTarget | undefined {
  const target = relay.targetOf(body.model);
  return target && !carriesMedia(body) ? target : undefined;
}

/**
 * Refuse a new gateway call while the ledger's writer is behind by more than the recorder may
 * hold: the call would be answered, and its cost then neither recorded nor counted against a
 * budget, or held in memory without bound. The client is asked to retry in a second (503,
 * `server_busy`, `Retry-After`), and the server logs why.
 */
export function requireLedgerRoom(recorder: LedgerRoom): void {
  if (recorder.backlogBytes <= recorder.maxBacklogBytes) return;
  throw new ApiError(
    503,
    'server_busy',
    `the cost ledger is ${Math.ceil(recorder.backlogBytes / (1024 * 1024))} MiB behind its writer, so new gateway calls wait until it catches up; retry in a second.`,
    { 'retry-after': '1' },
  );
}

/**
 * The checks of a relayed chat completion, as the translated path makes them: the ledger has room
 * for the call, the key may use the model and has budget left, and the request is one the gateway
 * honours (one choice).
 */
export async function checkRelayedCall(
  hataraku: Hataraku,
  recorder: LedgerRoom,
  key: ApiKey,
  body: ChatRequest,
): Promise<void> {
  requireLedgerRoom(recorder);
  requireModel(key, body.model);
  requireOneChoice(body);
  if (key.budgetDayUsd !== undefined || key.budgetMonthUsd !== undefined) await requireBudget(hataraku.engine, key);
}

/**
 * Whether a message has parts other than text (images, PDFs): such a call is translated, so that
 * the media are checked by their bytes and given to the model in the form it accepts.
 */
function carriesMedia(body: ChatRequest): boolean {
  for (const message of body.messages) {
    const content = message.content;
    if (!Array.isArray(content)) continue;
    for (const part of content) if (part.type !== 'text') return true;
  }
  return false;
}

/** A relayed call as a Fetch response (the gateway's Hono route: in-process calls and hand-offs). */
function relayedResponse(relay: ChatRelay, call: RelayCall): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const output = createPushedBody();
    let started = false;
    const sink: RelaySink = {
      head(status, headers) {
        started = true;
        resolve(new Response(output.body, { status, headers }));
      },
      write(text) {
        output.send(text);
        return true;
      },
      onDrain() {},
      end(text) {
        output.end(text);
      },
    };
    relay.relay(call, sink).then(
      () => {
        if (!started) reject(new Error('the relay ended without an answer'));
      },
      (error: unknown) => {
        if (!started) reject(error);
        else output.end();
      },
    );
  });
}

/**
 * `scripted:<file>` and `local:<file.gguf>` name files on the server's disk: from a client they
 * would read any file the server can (its content echoed in the parse error). The gateway serves
 * such a model only when the configuration names it (`model`, `prices`, an agent's model); a
 * `local:<alias>` of the model cache (a plain name, no path) stays open.
 */
function requireServedModel(config: Hataraku['config'], name: string): void {
  const separator = name.indexOf(':');
  const provider = name.slice(0, separator);
  if (provider !== 'scripted' && provider !== 'local') return;
  if (provider === 'local' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name.slice(separator + 1)) && !name.endsWith('.gguf'))
    return;
  const configured = new Set([
    ...(config.model ? [config.model] : []),
    ...Object.keys(config.prices),
    ...Object.values(config.agents).flatMap((agent) => (agent.model ? [agent.model] : [])),
  ]);
  if (!configured.has(name)) {
    throw new ApiError(
      403,
      'forbidden',
      `the gateway serves "${provider}:" models named by a file only when hataraku.config.json names them (as "model", under "prices" or as an agent's model); "${name}" is not one.`,
    );
  }
}

/** Deepest nesting a request body may have: deeper would overflow the stack when it is serialized. */
const maxJsonDepth = 64;

/** Refuse (400) a body nested deeper than `maxJsonDepth`, walked without recursion. */
export function requireShallow(json: unknown): void {
  const pending: Array<{ value: unknown; depth: number }> = [{ value: json, depth: 0 }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= maxJsonDepth) {
      throw new ApiError(
        400,
        'invalid_request',
        `the request body is nested deeper than ${maxJsonDepth} levels; send a flatter JSON object.`,
      );
    }
    for (const child of Object.values(item.value)) pending.push({ value: child, depth: item.depth + 1 });
  }
}

/** The task for an agent: the last user message, with the earlier conversation before it. */
function taskOf(body: ChatRequest): string {
  const messages = toModelMessages(body.messages);
  const last = messages.at(-1);
  if (messages.length === 1 && last?.role === 'user') return userContentText(last.content);
  return messages
    .map((message) => {
      if (message.role === 'assistant') {
        const parts = message.content.map((part) =>
          part.type === 'text' ? part.text : part.type === 'tool-call' ? `[called ${part.name}]` : '',
        );
        return `assistant: ${parts.join('')}`;
      }
      if (message.role === 'user') return `user: ${userContentText(message.content)}`;
      return `${message.role}: ${message.content}`;
    })
    .join('\n\n');
}

function approvalRequired(runId: string, toolName: string | undefined): ApiError {
  return new ApiError(
    409,
    'approval_required',
    `run ${runId} is waiting for approval${toolName ? ` of ${toolName}` : ''}; approve it with POST /runs/${runId}/approve (or deny it), then read its answer with GET /runs/${runId}.`,
    { 'x-hataraku-run-id': runId },
  );
}
