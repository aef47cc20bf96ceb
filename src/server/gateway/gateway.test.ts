/**
 * The OpenAI-compatible gateway over a real HTTP server on port 0, in front of a fake OpenAI
 * upstream on loopback that speaks the real wire format, with two real client stacks: the
 * official `openai` package and the AI SDK's OpenAI-compatible provider.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHataraku, type Hataraku } from '../../hataraku.js';
import {
  type FakeOpenAIServer,
  type FakeReply,
  jsonReply,
  sseBody,
  startFakeOpenAIServer,
  streamReply,
} from '../../models/openai/fake-openai-server.js';
import { createNodeHttpFetch } from '../node-http-fetch.js';
import { createServer, type HatarakuServer, startServer } from '../server.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../../models/openai/__fixtures__/${name}`, import.meta.url), 'utf8');

/** An upstream streamed answer with `text` and a usage chunk, as OpenAI sends it. */
function textReply(text: string, usage = { prompt_tokens: 1000, completion_tokens: 100 }): FakeReply {
  const base = { id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1749312000, model: 'gpt-test' };
  return streamReply(
    sseBody([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      ...text.split(' ').map((word, index) => ({
        ...base,
        choices: [{ index: 0, delta: { content: index === 0 ? word : ` ${word}` }, finish_reason: null }],
      })),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } },
    ]),
  );
}

interface Gateway {
  url: string;
  key: string;
  upstream: FakeOpenAIServer;
  hataraku: Hataraku;
  server: HatarakuServer;
  openai: OpenAI;
}

/** Whether the gateways started next pass OpenAI-compatible calls through. */
let relayCalls = true;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  relayCalls = true;
});

async function startGateway(
  replies: FakeReply[],
  extraConfig: Record<string, unknown> = {},
  upstreamKey = 'sk-upstream',
  serverOptions: { gatewayFlushMs?: number; maxLedgerBacklogBytes?: number } = {},
): Promise<Gateway> {
  const upstream = await startFakeOpenAIServer(replies);
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-gateway-'));
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({
      providers: { up: { type: 'openai', baseURL: upstream.baseURL, apiKeyEnv: 'UP_KEY', maxRetries: 0 } },
      prices: {
        'up:gpt-test': { inputPerMillion: 1, outputPerMillion: 4 },
        'up:gpt-down': { inputPerMillion: 10, outputPerMillion: 40 },
      },
      routes: { 'cheap-first': { type: 'fallback', models: ['up:gpt-down', 'up:gpt-test'] } },
      agents: { greeter: { model: 'scripted:hello.json', description: 'Greets people.' } },
      ...extraConfig,
    }),
  );
  writeFileSync(
    join(cwd, 'hello.json'),
    JSON.stringify({
      version: 1,
      turns: [{ text: 'Hello from the greeter agent.', usage: { inputTokens: 5, outputTokens: 6 } }],
    }),
  );
  // As `hataraku serve` does: provider calls over node:http rather than the built-in fetch.
  const hataraku = createHataraku({ cwd, env: { UP_KEY: upstreamKey }, fetch: createNodeHttpFetch() });
  const server = createServer({
    hataraku,
    recoverIntervalMs: 0,
    gatewayFlushMs: 10,
    log: () => {},
    relay: relayCalls,
    ...serverOptions,
  });
  const listening = await startServer(server, { host: '127.0.0.1', port: 0 });
  const { secret } = server.keys.create({ name: 'app', tenant: 'acme' });
  cleanups.push(async () => {
    await listening.close();
    await server.close();
    await hataraku.close();
    await upstream.close();
  });
  const openai = new OpenAI({ baseURL: `${listening.url}/v1`, apiKey: secret, maxRetries: 0 });
  return { url: listening.url, key: secret, upstream, hataraku, server, openai };
}

// Each case runs twice: with OpenAI-compatible calls passed through (`relay.ts`, the default)
// and translated through the model layer (`serve --no-relay`).
describe.each([
  { relay: true, mode: 'relayed' },
  { relay: false, mode: 'translated' },
])('the gateway with the openai client ($mode)', ({ relay }) => {
  beforeEach(() => {
    relayCalls = relay;
  });

  it('answers a chat completion, with usage, the cost in a header, and the call in the ledger', async () => {
    const gateway = await startGateway([textReply('Hi there friend')]);
    const { data, response } = await gateway.openai.chat.completions
      .create({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'Say hi' }], temperature: 0 })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Hi there friend');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 });
    // 1000 input tokens at $1/M plus 100 output tokens at $4/M.
    expect(Number(response.headers.get('x-hataraku-cost-usd'))).toBeCloseTo(0.0014, 9);
    expect(gateway.upstream.requests[0]?.body).toMatchObject({
      model: 'gpt-test',
      temperature: 0,
      messages: [{ role: 'user', content: 'Say hi' }],
    });
    await expect
      .poll(async () => gateway.hataraku.engine.costReport({ by: 'tenant' }))
      .toEqual([expect.objectContaining({ key: 'acme', calls: 1, costUsd: expect.closeTo(0.0014, 9) })]);
    // Gateway calls are runs of the agent "gateway", listed only when asked for.
    const list = async (query: string) =>
      (
        (await (
          await fetch(`${gateway.url}/runs${query}`, { headers: { authorization: `Bearer ${gateway.key}` } })
        ).json()) as {
          runs: Array<{ agent: string; tenant: string }>;
        }
      ).runs;
    expect(await list('')).toEqual([]);
    expect(await list('?agent=gateway')).toEqual([expect.objectContaining({ agent: 'gateway', tenant: 'acme' })]);
  });

  it('streams text, with usage and cost in the last chunk when stream_options asks for it', async () => {
    const gateway = await startGateway([textReply('one two three')]);
    const stream = await gateway.openai.chat.completions.create({
      model: 'up:gpt-test',
      messages: [{ role: 'user', content: 'Count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('one two three');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 100, cost_usd: expect.closeTo(0.0014, 9) });
  });

  it('ends a stream whose upstream breaks mid-way with an error event the client raises', async () => {
    const base = { id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1749312000, model: 'gpt-test' };
    const gateway = await startGateway([
      streamReply(
        sseBody(
          [
            {
              ...base,
              choices: [{ index: 0, delta: { role: 'assistant', content: 'Half an ans' }, finish_reason: null }],
            },
          ],
          {
            done: false,
          },
        ),
        { ending: 'destroy' },
      ),
    ]);
    const stream = await gateway.openai.chat.completions.create({
      model: 'up:gpt-test',
      messages: [{ role: 'user', content: 'Go' }],
      stream: true,
    });
    let text = '';
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((error: unknown) => error);
    expect(text).toBe('Half an ans');
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toMatch(/up:gpt-test/);
  });

  it('passes tools through and returns parallel tool calls, streamed and not', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: { name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
      },
      {
        type: 'function',
        function: { name: 'search', parameters: { type: 'object', properties: { pattern: { type: 'string' } } } },
      },
    ];
    const gateway = await startGateway([
      streamReply(fixture('parallel-tool-calls.txt')),
      streamReply(fixture('parallel-tool-calls.txt')),
    ]);
    const whole = await gateway.openai.chat.completions.create({
      model: 'up:gpt-test',
      messages: [{ role: 'user', content: 'Find TODOs' }],
      tools,
      parallel_tool_calls: true,
      tool_choice: 'auto',
    });
    const calls = whole.choices[0]?.message.tool_calls ?? [];
    expect(whole.choices[0]?.finish_reason).toBe('tool_calls');
    expect(calls.map((call) => (call.type === 'function' ? call.function.name : ''))).toEqual(['read_file', 'search']);
    expect(gateway.upstream.requests[0]?.body).toMatchObject({
      parallel_tool_calls: true,
      tools: [expect.objectContaining({ function: expect.objectContaining({ name: 'read_file' }) }), expect.anything()],
    });

    const stream = gateway.openai.chat.completions.stream({
      model: 'up:gpt-test',
      messages: [{ role: 'user', content: 'Find TODOs' }],
      tools,
    });
    const final = await stream.finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls ?? [];
    expect(streamed).toHaveLength(2);
    expect(streamed.map((call) => (call.type === 'function' ? JSON.parse(call.function.arguments) : null))).toEqual(
      calls.map((call) => (call.type === 'function' ? JSON.parse(call.function.arguments) : null)),
    );
  });

  it('forwards response_format and tool results of an earlier turn', async () => {
    const gateway = await startGateway([textReply('{"ok":true}')]);
    await gateway.openai.chat.completions.create({
      model: 'up:gpt-test',
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object', properties: { ok: { type: 'boolean' } } } },
      },
      messages: [
        { role: 'user', content: 'Read a.txt' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.txt"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'contents of a' },
      ],
    });
    expect(gateway.upstream.requests[0]?.body).toMatchObject({
      response_format: { type: 'json_schema', json_schema: expect.objectContaining({ name: 'answer' }) },
      messages: [
        { role: 'user' },
        { role: 'assistant', tool_calls: [expect.objectContaining({ id: 'call_1' })] },
        { role: 'tool', tool_call_id: 'call_1', content: 'contents of a' },
      ],
    });
  });

  it('passes images and PDFs given as data: URLs to the upstream, and refuses remote URLs and other bytes', async () => {
    // A 1x1 PNG and the first bytes of a PDF: the media type is read from the bytes.
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const pdf = Buffer.from('%PDF-1.4\n%\u00e2\u00e3\n1 0 obj\n<<>>\nendobj\n').toString('base64');
    const gateway = await startGateway([textReply('A red square and a one-page document.')]);
    await gateway.openai.chat.completions.create({
      model: 'up:gpt-test',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What are these?' },
            // Declared as JPEG, but the bytes are a PNG: the bytes win.
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${png}` } },
            { type: 'file', file: { file_data: `data:application/pdf;base64,${pdf}`, filename: 'brief.pdf' } },
          ],
        },
      ],
    });
    expect(gateway.upstream.requests[0]?.body).toMatchObject({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What are these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
            // The upstream is an OpenAI-compatible server, which has no PDF part: the provider
            // leaves the PDF out with a note (and a warning), as it does for any caller.
            { type: 'text', text: expect.stringMatching(/attachment brief\.pdf left out/) },
          ],
        },
      ],
    });

    const refused = async (part: Record<string, unknown>) => {
      const error = await gateway.openai.chat.completions
        .create({
          model: 'up:gpt-test',
          // biome-ignore lint/suspicious/noExplicitAny: a malformed part on purpose
          messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, part as any] }],
        })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      return (error as InstanceType<typeof OpenAI.BadRequestError>).message;
    };
    expect(await refused({ type: 'image_url', image_url: { url: 'http://169.254.169.254/latest/meta-data' } })).toMatch(
      /only data: URLs are accepted/,
    );
    expect(await refused({ type: 'image_url', image_url: { url: 'data:image/png;base64,aGVsbG8gd29ybGQ=' } })).toMatch(
      /not a PNG, JPEG, GIF, WebP image or a PDF/,
    );
    expect(await refused({ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } })).toMatch(
      /"input_audio" are not supported/,
    );
    expect(gateway.upstream.requests).toHaveLength(1);
  });

  it('falls back along a route, priced at the model that answered', async () => {
    const gateway = await startGateway([
      jsonReply(503, { error: { message: 'overloaded', type: 'server_error' } }),
      textReply('from the second model'),
    ]);
    const { data, response } = await gateway.openai.chat.completions
      .create({ model: 'route:cheap-first', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('from the second model');
    expect(data.model).toBe('route:cheap-first');
    expect(gateway.upstream.requests.map((request) => (request.body as { model: string }).model)).toEqual([
      'gpt-down',
      'gpt-test',
    ]);
    expect(Number(response.headers.get('x-hataraku-cost-usd'))).toBeCloseTo(0.0014, 9);
  });

  it('answers a repeated deterministic call from the model-call cache when it is on', async () => {
    const gateway = await startGateway([textReply('cached answer')], { cache: { enabled: true } });
    const ask = () =>
      gateway.openai.chat.completions.create({
        model: 'up:gpt-test',
        temperature: 0,
        messages: [{ role: 'user', content: 'What is 2 + 2?' }],
      });
    const first = await ask();
    const second = await ask();
    expect(second.choices[0]?.message.content).toBe(first.choices[0]?.message.content);
    expect(gateway.upstream.requests).toHaveLength(1);
  });

  it('runs an agent as a model, streamed and not, with the run id in a header', async () => {
    const gateway = await startGateway([]);
    const { data, response } = await gateway.openai.chat.completions
      .create({ model: 'agent:greeter', messages: [{ role: 'user', content: 'Greet me' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello from the greeter agent.');
    const runId = response.headers.get('x-hataraku-run-id') as string;
    expect(runId).toMatch(/^run_/);
    expect(await gateway.hataraku.engine.getRun(runId)).toMatchObject({
      status: 'completed',
      agentName: 'greeter',
      tenant: 'acme',
      input: 'Greet me',
    });

    const stream = await gateway.openai.chat.completions.create({
      model: 'agent:greeter',
      messages: [{ role: 'user', content: 'Greet me again' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello from the greeter agent.');
  });

  it('lists models, routes and agents', async () => {
    const gateway = await startGateway([]);
    const ids: string[] = [];
    for await (const model of gateway.openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(
      expect.arrayContaining(['up:gpt-test', 'route:cheap-first', 'agent:greeter', 'agent:hataraku']),
    );
  });

  it('answers the basic Responses API case', async () => {
    const gateway = await startGateway([textReply('A short answer')]);
    const response = await gateway.openai.responses.create({
      model: 'up:gpt-test',
      instructions: 'Be brief.',
      input: 'Question?',
    });
    expect(response.output_text).toBe('A short answer');
    expect(gateway.upstream.requests[0]?.body).toMatchObject({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Question?' },
      ],
    });
  });

  it('reports errors as the openai client expects them, with a code and what to fix', async () => {
    const gateway = await startGateway([
      jsonReply(401, { error: { message: 'bad upstream key', type: 'invalid_request_error' } }),
    ]);
    const unknown = await gateway.openai.chat.completions
      .create({ model: 'route:nope', messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_unknown');
    expect((unknown as Error).message).toMatch(/no route named "nope"; the routes are: cheap-first/);

    const badKey = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-not-a-hataraku-key', maxRetries: 0 });
    await expect(
      badKey.chat.completions.create({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

    const invalid = await gateway.openai.chat.completions
      .create({ model: 'up:gpt-test', messages: [] })
      .catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
    expect((invalid as Error).message).toMatch(/messages: at least one message/);

    const upstreamFailure = await gateway.openai.chat.completions
      .create({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(upstreamFailure).toBeInstanceOf(OpenAI.APIError);
    expect((upstreamFailure as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((upstreamFailure as InstanceType<typeof OpenAI.APIError>).code).toBe('model_auth');

    const limited = gateway.server.keys.create({ name: 'limited', tenant: 'acme', models: ['route:*'] }).secret;
    const refused = await new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: limited, maxRetries: 0 }).chat.completions
      .create({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
  });

  it("never relays the provider's key, even when the upstream quotes it in its error", async () => {
    const echo = {
      error: { message: 'Incorrect API key provided: sk-upstream-key-1234.', type: 'invalid_request_error' },
    };
    const gateway = await startGateway([jsonReply(401, echo), jsonReply(401, echo)], {}, 'sk-upstream-key-1234');
    for (const stream of [false, true]) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gateway.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'up:gpt-test', stream, messages: [{ role: 'user', content: 'x' }] }),
      });
      const text = await response.text();
      expect(response.status).toBe(502);
      expect(text).toContain('model_auth');
      expect(text).toContain('Incorrect API key provided: [redacted]');
      expect(text).not.toContain('sk-upstream-key-1234');
    }
  });

  it("keeps the provider's key quoted by an upstream error out of a run's recorded error", async () => {
    const echo = {
      error: { message: 'Incorrect API key provided: sk-upstream-key-1234.', type: 'invalid_request_error' },
    };
    const gateway = await startGateway(
      [jsonReply(401, echo)],
      { agents: { leaky: { model: 'up:gpt-test' } } },
      'sk-upstream-key-1234',
    );
    const response = await fetch(`${gateway.url}/runs?wait=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gateway.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'leaky', input: 'x' }),
    });
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ status: 'failed', error: expect.stringContaining('[redacted]') });
    expect(text).not.toContain('sk-upstream-key-1234');
    const run = (await gateway.hataraku.engine.listRuns({ limit: 1 }))[0];
    expect(run?.error).not.toContain('sk-upstream-key-1234');
  });

  it('refuses new calls with 503 and Retry-After while the ledger holds too much unwritten', async () => {
    // Calls written once a minute, and room for less than one call: the first call is served and
    // waits to be written; the next is refused before it reaches the upstream.
    const gateway = await startGateway([textReply('first'), textReply('second')], {}, 'sk-upstream', {
      gatewayFlushMs: 60_000,
      maxLedgerBacklogBytes: 100,
    });
    const ask = () =>
      gateway.openai.chat.completions.create({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'Hi' }] });
    expect((await ask()).choices[0]?.message.content).toBe('first');
    const refused = await ask().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    const apiError = refused as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(503);
    expect(apiError.code).toBe('server_busy');
    expect(apiError.message).toMatch(/ledger is 1 MiB behind its writer.*retry in a second/);
    expect(apiError.headers?.get('retry-after')).toBe('1');
    expect(gateway.upstream.requests).toHaveLength(1);
  });

  it('enforces a key budget and a rate limit', async () => {
    const gateway = await startGateway([textReply('first'), textReply('second')]);
    const budgeted = gateway.server.keys.create({ name: 'small', tenant: 'tiny', budgetDayUsd: 0.001 }).secret;
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: budgeted, maxRetries: 0 });
    await client.chat.completions.create({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'x' }] });
    await expect.poll(async () => gateway.hataraku.engine.costReport({ by: 'tenant', tenant: 'tiny' })).toHaveLength(1);
    const over = await client.chat.completions
      .create({ model: 'up:gpt-test', messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect((over as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((over as Error).message).toMatch(/daily budget of \$0.001 for tenant "tiny" is spent/);

    const slow = gateway.server.keys.create({ name: 'slow', tenant: 'acme', requestsPerMinute: 1 }).secret;
    const slowClient = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: slow, maxRetries: 0 });
    await slowClient.models.list();
    await expect(slowClient.models.list()).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });
});

describe('the gateway with the AI SDK', () => {
  it('generates and streams text through the OpenAI-compatible provider', async () => {
    const gateway = await startGateway([textReply('sdk says hi'), textReply('streamed by the sdk')]);
    const provider = createOpenAICompatible({
      name: 'hataraku',
      baseURL: `${gateway.url}/v1`,
      apiKey: gateway.key,
      includeUsage: true,
    });
    const generated = await generateText({ model: provider('up:gpt-test'), prompt: 'hello' });
    expect(generated.text).toBe('sdk says hi');
    expect(generated.usage.inputTokens).toBe(1000);

    const streamed = streamText({ model: provider('up:gpt-test'), prompt: 'hello' });
    let text = '';
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toBe('streamed by the sdk');
    expect((await streamed.usage).outputTokens).toBe(100);
  });

  it('runs an agent model through the AI SDK', async () => {
    const gateway = await startGateway([]);
    const provider = createOpenAICompatible({ name: 'hataraku', baseURL: `${gateway.url}/v1`, apiKey: gateway.key });
    const generated = await generateText({ model: provider('agent:greeter'), prompt: 'Greet me' });
    expect(generated.text).toBe('Hello from the greeter agent.');
  });
});
