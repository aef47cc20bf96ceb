/**
 * Full agent runs, over two or more turns, against fake servers that speak each provider's
 * real wire format and enforce its documented quirks (a request the real server would reject
 * gets the real server's 400). Most of these failures show only on the second turn, when the
 * history the run built is sent back.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Engine } from '../engine/engine.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createAnthropicModel } from '../models/anthropic/anthropic-model.js';
import {
  type FakeAnthropicServer,
  fixedTemperatureQuirk,
  readFixture,
  sseEvent,
  startFakeAnthropicServer,
  thinkingWithToolsQuirk,
} from '../models/anthropic/fake-anthropic-server.js';
import {
  deepSeekReasoningQuirk,
  type FakeOpenAIServer,
  type FakeReply,
  mistralToolCallIdQuirk,
  ollamaHistoryArgumentsQuirk,
  openAIReasoningModelQuirk,
  type ServerQuirk,
  sseBody,
  startFakeOpenAIServer,
  streamReply,
} from '../models/openai/fake-openai-server.js';
import { createOpenAIModel } from '../models/openai/openai-model.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import type { Model } from '../models/spec.js';
import { tool } from '../tools/define-tool.js';
import { agent } from './agent.js';
import { loadAttachment } from './attachments.js';
import type { RunEvent } from './events.js';
import { resume, run } from './run.js';

const noRetry = { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 };
let openAIServer: FakeOpenAIServer | undefined;
let anthropicServer: FakeAnthropicServer | undefined;
afterEach(async () => {
  await openAIServer?.close();
  await anthropicServer?.close();
  openAIServer = undefined;
  anthropicServer = undefined;
});

function temporaryEngine(): Engine {
  return openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-fidelity-')), 'journal.db') });
}

function openAIFixture(name: string): string {
  return readFileSync(new URL(`../models/openai/__fixtures__/${name}`, import.meta.url), 'utf8');
}

/** A final-answer stream in the Chat Completions shape. */
function finalAnswer(model: string, text: string): FakeReply {
  return streamReply(
    sseBody([
      {
        id: 'chatcmpl-final',
        object: 'chat.completion.chunk',
        created: 1751991000,
        model,
        choices: [{ index: 0, delta: { role: 'assistant', content: text }, logprobs: null, finish_reason: null }],
      },
      {
        id: 'chatcmpl-final',
        object: 'chat.completion.chunk',
        created: 1751991000,
        model,
        choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: 300, completion_tokens: 9, total_tokens: 309 },
      },
    ]),
  );
}

async function openAICompatible(
  provider: string,
  modelId: string,
  replies: FakeReply[],
  quirks: ServerQuirk[],
): Promise<{ server: FakeOpenAIServer; model: Model }> {
  const server = await startFakeOpenAIServer(replies, { quirks });
  openAIServer = server;
  return {
    server,
    model: createOpenAIModel({ modelId, provider, baseURL: server.baseURL, apiKey: 'sk-test', retry: noRetry }),
  };
}

function adder(executions: Array<{ a: number; b: number }>) {
  return tool({
    name: 'add',
    description: 'Add two integers.',
    input: z.object({ a: z.number().int(), b: z.number().int() }),
    execute: ({ a, b }) => {
      executions.push({ a, b });
      return { sum: a + b };
    },
  });
}

type SentMessage = {
  role: string;
  content?: unknown;
  reasoning_content?: string;
  tool_call_id?: string;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
};

function sentMessages(server: FakeOpenAIServer, request: number): SentMessage[] {
  return ((server.requests[request]?.body ?? {}) as { messages: SentMessage[] }).messages;
}

describe('OpenAI reasoning models (item 1)', () => {
  it('runs o4-mini with a tool to a final answer: max_completion_tokens, no temperature, over two turns', async () => {
    const executions: Array<{ a: number; b: number }> = [];
    const { server, model } = await openAICompatible(
      'openai',
      'o4-mini',
      [streamReply(openAIFixture('o4-mini-tool-call.txt')), finalAnswer('o4-mini-2025-04-16', 'The sum is 5.')],
      [openAIReasoningModelQuirk],
    );
    const events: RunEvent[] = [];
    const worker = agent({ name: 'adder', instructions: '', model, tools: [adder(executions)], temperature: 0.2 });
    const result = await run(worker, 'What is 2 + 3?', {
      engine: temporaryEngine(),
      onEvent: (event) => events.push(event),
    });

    expect(result).toMatchObject({ status: 'completed', stopReason: 'final-answer', output: 'The sum is 5.' });
    expect(executions).toEqual([{ a: 2, b: 3 }]);
    for (const request of server.requests) {
      expect(request.body).toMatchObject({ model: 'o4-mini', max_completion_tokens: 4096 });
      expect(request.body).not.toHaveProperty('max_tokens');
      expect(request.body).not.toHaveProperty('temperature');
    }
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'warning', message: expect.stringContaining('temperature 0.2 was not sent') }),
    );
  });

  it('is rejected by the fake exactly as OpenAI rejects max_tokens (the quirk is real)', async () => {
    const { server } = await openAICompatible('openai', 'gpt-5-mini', [], [openAIReasoningModelQuirk]);
    const response = await fetch(`${server.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5-mini', messages: [], max_tokens: 10 }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { param: 'max_tokens', code: 'unsupported_parameter' } });
  });

  it('keeps max_tokens for servers that read only that (Ollama, llama.cpp)', async () => {
    const { server, model } = await openAICompatible('ollama', 'qwen3:8b', [finalAnswer('qwen3:8b', 'Hi.')], []);
    await run(agent({ name: 'greeter', instructions: '', model, maxOutputTokens: 300 }), 'Say hi.', {
      engine: temporaryEngine(),
    });
    expect(server.requests[0]?.body).toMatchObject({ max_tokens: 300 });
    expect(server.requests[0]?.body).not.toHaveProperty('max_completion_tokens');
  });
});

describe('repaired arguments in the history (item 2)', () => {
  it('sends back the executed arguments as canonical JSON, which Ollama-style servers accept', async () => {
    const executions: Array<{ a: number; b: number }> = [];
    const { server, model } = await openAICompatible(
      'vllm',
      'Qwen/Qwen2.5-7B-Instruct',
      [streamReply(openAIFixture('vllm-malformed-arguments.txt')), finalAnswer('Qwen/Qwen2.5-7B-Instruct', 'It is 5.')],
      [ollamaHistoryArgumentsQuirk],
    );
    const result = await run(
      agent({ name: 'adder', instructions: '', model, tools: [adder(executions)] }),
      'What is 2 + 3?',
      {
        engine: temporaryEngine(),
      },
    );

    expect(result).toMatchObject({ status: 'completed', output: 'It is 5.' });
    expect(executions).toEqual([{ a: 2, b: 3 }]);
    const assistant = sentMessages(server, 1).find((message) => message.role === 'assistant');
    expect(assistant?.tool_calls).toEqual([
      { id: 'chatcmpl-tool-4f0e2c1b9a8d', type: 'function', function: { name: 'add', arguments: '{"a":2,"b":3}' } },
    ]);
  });

  it('the fake rejects the raw malformed arguments, as Ollama does', () => {
    const refusal = ollamaHistoryArgumentsQuirk({
      messages: [{ role: 'assistant', tool_calls: [{ id: 'x', function: { name: 'add', arguments: "{'a': 2,}" } }] }],
    });
    expect(refusal?.status).toBe(400);
  });
});

describe('Ollama parallel tool calls at index 0 (item 3)', () => {
  it('runs both calls, each with its own arguments, and answers each by its id', async () => {
    const executions: Array<{ a: number; b: number }> = [];
    const { server, model } = await openAICompatible(
      'ollama',
      'qwen3:8b',
      [streamReply(openAIFixture('ollama-parallel-index-zero.txt')), finalAnswer('qwen3:8b', '5 and 30.')],
      [ollamaHistoryArgumentsQuirk],
    );
    const result = await run(
      agent({ name: 'adder', instructions: '', model, tools: [adder(executions)] }),
      'Add 2+3 and 10+20.',
      {
        engine: temporaryEngine(),
      },
    );

    expect(result).toMatchObject({ status: 'completed', output: '5 and 30.' });
    expect(executions).toEqual(
      expect.arrayContaining([
        { a: 2, b: 3 },
        { a: 10, b: 20 },
      ]),
    );
    expect(executions).toHaveLength(2);
    const second = sentMessages(server, 1);
    expect(second.find((message) => message.role === 'assistant')?.tool_calls?.map((call) => call.id)).toEqual([
      'call_x7k2m9qa',
      'call_p4w8n1zd',
    ]);
    expect(
      second.filter((message) => message.role === 'tool').map((message) => [message.tool_call_id, message.content]),
    ).toEqual([
      ['call_x7k2m9qa', '{"sum":5}'],
      ['call_p4w8n1zd', '{"sum":30}'],
    ]);
  });
});

describe('tool calls cut off by the token limit (item 4)', () => {
  it('never runs a call cut off by finish_reason length; the model is told and gets twice the room', async () => {
    const written: string[] = [];
    const writeNote = tool({
      name: 'write_note',
      description: 'Write a note.',
      input: z.object({ path: z.string(), text: z.string() }),
      effect: 'side-effect',
      execute: ({ text }) => {
        written.push(text);
        return 'written';
      },
    });
    const { server, model } = await openAICompatible(
      'openai',
      'gpt-4o-mini',
      [streamReply(openAIFixture('length-cut-tool-call.txt')), finalAnswer('gpt-4o-mini', 'I will keep it short.')],
      [],
    );
    const events: RunEvent[] = [];
    const result = await run(
      agent({ name: 'writer', instructions: '', model, tools: [writeNote], maxOutputTokens: 16 }),
      'Write notes.',
      {
        engine: temporaryEngine(),
        onEvent: (event) => events.push(event),
      },
    );

    expect(written).toEqual([]);
    expect(events.filter((event) => event.type === 'tool-call-start')).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', output: 'I will keep it short.' });
    const second = sentMessages(server, 1);
    expect(second.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('cut off') });
    expect(second.some((message) => message.tool_calls !== undefined)).toBe(false);
    expect(server.requests[1]?.body).toMatchObject({ max_completion_tokens: 32 });
  });

  it('never runs a tool_use cut off by stop_reason max_tokens (Anthropic)', async () => {
    const executions: Array<{ a: number; b: number }> = [];
    anthropicServer = await startFakeAnthropicServer();
    anthropicServer.reply(
      {
        body:
          sseEvent({ type: 'message_start', message: { usage: { input_tokens: 40, output_tokens: 1 } } }) +
          sseEvent({
            type: 'content_block_start',
            index: 0,
            content_block: { type: 'tool_use', id: 'toolu_01Cut', name: 'add', input: {} },
          }) +
          sseEvent({
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'input_json_delta', partial_json: '{"a": 2, "b' },
          }) +
          sseEvent({ type: 'content_block_stop', index: 0 }) +
          sseEvent({ type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 16 } }) +
          sseEvent({ type: 'message_stop' }),
      },
      { body: anthropicText('Sorry, 5.') },
    );
    const model = createAnthropicModel({
      modelId: 'claude-haiku-4-5',
      baseURL: anthropicServer.baseURL,
      apiKey: 'k',
      retry: noRetry,
    });
    const result = await run(
      agent({ name: 'adder', instructions: '', model, tools: [adder(executions)] }),
      'What is 2 + 3?',
      {
        engine: temporaryEngine(),
      },
    );
    expect(executions).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', output: 'Sorry, 5.' });
  });
});

describe('reasoning content sent back (item 5)', () => {
  it('runs DeepSeek in thinking mode with tools: reasoning_content goes back on the tool turn', async () => {
    const executions: Array<{ a: number; b: number }> = [];
    const { server, model } = await openAICompatible(
      'deepseek',
      'deepseek-reasoner',
      [streamReply(openAIFixture('deepseek-reasoning-tool-call.txt')), finalAnswer('deepseek-reasoner', '2 + 3 = 5.')],
      [deepSeekReasoningQuirk],
    );
    const engine = temporaryEngine();
    const result = await run(
      agent({ name: 'adder', instructions: '', model, tools: [adder(executions)] }),
      'What is 2 + 3?',
      { engine },
    );

    expect(result).toMatchObject({ status: 'completed', output: '2 + 3 = 5.' });
    const assistant = sentMessages(server, 1).find((message) => message.role === 'assistant');
    expect(assistant?.reasoning_content).toBe('The user wants 2 + 3. I should call add.');
    // Kept in the journal with the step, and its tokens counted.
    const [firstStep] = await engine.listSteps(result.runId);
    expect(firstStep?.output).toMatchObject({
      reasoning: [{ type: 'reasoning', text: 'The user wants 2 + 3. I should call add.' }],
      usage: { reasoningTokens: 37 },
    });
  });

  it('runs Anthropic with extended thinking and tools: the signed thinking block goes back first', async () => {
    const executions: Array<{ a: number; b: number }> = [];
    anthropicServer = await startFakeAnthropicServer({ quirks: [thinkingWithToolsQuirk, fixedTemperatureQuirk] });
    anthropicServer.reply({ body: await readFixture('thinking-tool-use.sse') }, { body: anthropicText('It is 5.') });
    const model = createAnthropicModel({
      modelId: 'claude-sonnet-4-5',
      baseURL: anthropicServer.baseURL,
      apiKey: 'k',
      retry: noRetry,
      thinkingBudgetTokens: 2048,
    });
    const events: RunEvent[] = [];
    const result = await run(
      agent({ name: 'adder', instructions: '', model, tools: [adder(executions)], temperature: 0 }),
      'What is 2 + 3?',
      {
        engine: temporaryEngine(),
        onEvent: (event) => events.push(event),
      },
    );

    expect(result).toMatchObject({ status: 'completed', output: 'It is 5.' });
    expect(executions).toEqual([{ a: 2, b: 3 }]);
    const second = anthropicServer.requests[1]?.body as { messages: Array<{ role: string; content: unknown[] }> };
    expect(second.messages[1]?.content[0]).toEqual({
      type: 'thinking',
      thinking: 'The user asks for 2 + 3; the add tool does that.',
      signature:
        'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxDYPh4b0c0FHeaHqMiMCnOkBJLgXRc7wWvCxNCvOK3rS4wGqYGSvkIwcEuMn3xF3d7Z5E0c6vqn4W0Q==',
    });
    expect(anthropicServer.requests[0]?.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(anthropicServer.requests[0]?.body).not.toHaveProperty('temperature');
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'warning', message: expect.stringContaining('temperature 0 was not sent') }),
    );
  });
});

describe('Anthropic model rules (item 6)', () => {
  it('leaves out a temperature that Opus 4.7 rejects, with a warning', async () => {
    anthropicServer = await startFakeAnthropicServer({ quirks: [fixedTemperatureQuirk] });
    anthropicServer.reply({ body: anthropicText('Hi.') }, { body: anthropicText('Hi again.') });
    const model = createAnthropicModel({
      modelId: 'claude-opus-4-7',
      baseURL: anthropicServer.baseURL,
      apiKey: 'k',
      retry: noRetry,
    });
    const result = await run(agent({ name: 'greeter', instructions: '', model, temperature: 0.3 }), 'Hi', {
      engine: temporaryEngine(),
    });
    expect(result).toMatchObject({ status: 'completed', output: 'Hi.' });
    expect(anthropicServer.requests[0]?.body).not.toHaveProperty('temperature');
  });

  it('uses output_config.format for an output schema, strict-shaped, and reads the answer', async () => {
    anthropicServer = await startFakeAnthropicServer();
    anthropicServer.reply({ body: anthropicText('{"city":"Oslo","celsius":3,"note":null}') });
    const model = createAnthropicModel({
      modelId: 'claude-sonnet-4-5',
      baseURL: anthropicServer.baseURL,
      apiKey: 'k',
      retry: noRetry,
    });
    const output = z.object({ city: z.string(), celsius: z.number(), note: z.string().optional() });
    const result = await run(agent({ name: 'weather', instructions: '', model, output }), 'Weather in Oslo?', {
      engine: temporaryEngine(),
    });
    expect(result).toMatchObject({ status: 'completed', output: { city: 'Oslo', celsius: 3 } });
    expect(anthropicServer.requests[0]?.body).toMatchObject({
      output_config: {
        format: {
          type: 'json_schema',
          schema: {
            type: 'object',
            required: ['city', 'celsius', 'note'],
            additionalProperties: false,
            properties: { note: { type: ['string', 'null'] } },
          },
        },
      },
    });
  });

  it('skips server tool blocks (server_tool_use, web_search_tool_result) and keeps the text', async () => {
    anthropicServer = await startFakeAnthropicServer();
    anthropicServer.reply({ body: await readFixture('server-tool-use.sse') });
    const model = createAnthropicModel({
      modelId: 'claude-sonnet-4-5',
      baseURL: anthropicServer.baseURL,
      apiKey: 'k',
      retry: noRetry,
    });
    const result = await run(agent({ name: 'searcher', instructions: '', model }), 'Weather in Oslo?', {
      engine: temporaryEngine(),
    });
    expect(result).toMatchObject({ status: 'completed', output: "I'll search for that.It is 3 °C in Oslo." });
  });
});

describe('tool-call arguments as a JSON object (item 7)', () => {
  it('runs a llama.cpp server that sends arguments as an object, and sends them back as text', async () => {
    const executions: Array<{ a: number; b: number }> = [];
    const { server, model } = await openAICompatible(
      'llamacpp',
      'qwen2.5-7b-instruct',
      [streamReply(openAIFixture('llamacpp-object-arguments.txt')), finalAnswer('qwen2.5-7b-instruct', '5.')],
      [ollamaHistoryArgumentsQuirk],
    );
    const result = await run(agent({ name: 'adder', instructions: '', model, tools: [adder(executions)] }), '2 + 3?', {
      engine: temporaryEngine(),
    });
    expect(result).toMatchObject({ status: 'completed', output: '5.' });
    expect(executions).toEqual([{ a: 2, b: 3 }]);
    expect(sentMessages(server, 1)[1]?.tool_calls?.[0]?.function.arguments).toBe('{"a":2,"b":3}');
  });
});

describe('refusals (item 8)', () => {
  it('ends an OpenAI refusal with stop reason refusal and the refusal text', async () => {
    const { model } = await openAICompatible(
      'openai',
      'gpt-4o-mini',
      [
        streamReply(
          sseBody([
            { choices: [{ index: 0, delta: { role: 'assistant', content: null, refusal: '' }, finish_reason: null }] },
            { choices: [{ index: 0, delta: { refusal: "I'm sorry, I can't help with that." }, finish_reason: null }] },
            { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
          ]),
        ),
      ],
      [],
    );
    const result = await run(agent({ name: 'asker', instructions: '', model }), 'Something bad.', {
      engine: temporaryEngine(),
    });
    expect(result).toMatchObject({
      status: 'stopped',
      stopReason: 'refusal',
      output: "I'm sorry, I can't help with that.",
    });
  });

  it('ends an Anthropic stop_reason refusal the same way', async () => {
    anthropicServer = await startFakeAnthropicServer();
    anthropicServer.reply({
      body:
        sseEvent({ type: 'message_start', message: { usage: { input_tokens: 20, output_tokens: 1 } } }) +
        sseEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
        sseEvent({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: 'I cannot help with that.' },
        }) +
        sseEvent({ type: 'content_block_stop', index: 0 }) +
        sseEvent({
          type: 'message_delta',
          delta: { stop_reason: 'refusal', stop_sequence: null },
          usage: { output_tokens: 7 },
        }) +
        sseEvent({ type: 'message_stop' }),
    });
    const model = createAnthropicModel({
      modelId: 'claude-sonnet-4-5',
      baseURL: anthropicServer.baseURL,
      apiKey: 'k',
      retry: noRetry,
    });
    const result = await run(agent({ name: 'asker', instructions: '', model }), 'Something bad.', {
      engine: temporaryEngine(),
    });
    expect(result).toMatchObject({ status: 'stopped', stopReason: 'refusal', output: 'I cannot help with that.' });
  });
});

describe('made-up tool-call ids (item 9)', () => {
  it('gives a call written as text an id that vLLM with a Mistral tokenizer accepts, over two turns', async () => {
    const executions: Array<{ a: number; b: number }> = [];
    const { server, model } = await openAICompatible(
      'vllm',
      'mistralai/Mistral-7B-Instruct-v0.3',
      [
        finalAnswer('mistral', '[TOOL_CALLS][{"name": "add", "arguments": {"a": 2, "b": 3}}]'),
        finalAnswer('mistral', 'The sum is 5.'),
      ],
      [mistralToolCallIdQuirk],
    );
    const result = await run(agent({ name: 'adder', instructions: '', model, tools: [adder(executions)] }), '2 + 3?', {
      engine: temporaryEngine(),
    });
    expect(result).toMatchObject({ status: 'completed', output: 'The sum is 5.' });
    expect(executions).toEqual([{ a: 2, b: 3 }]);
    const id = sentMessages(server, 1)[1]?.tool_calls?.[0]?.id;
    expect(id).toMatch(/^[A-Za-z0-9]{9}$/);
  });
});

describe('images and PDFs as input (item 13)', () => {
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );

  it('sends an attached image to OpenAI as an image_url part and to Anthropic as an image block', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-attach-'));
    writeFileSync(join(workspace, 'chart.png'), png);
    const attachment = loadAttachment(workspace, 'chart.png');
    const { server, model } = await openAICompatible(
      'openai',
      'gpt-4o-mini',
      [finalAnswer('gpt-4o-mini', 'A dot.')],
      [],
    );
    await run(agent({ name: 'looker', instructions: '', model }), 'What is in the chart?', {
      engine: temporaryEngine(),
      attachments: [attachment],
    });
    expect(sentMessages(server, 0)[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'What is in the chart?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
      ],
    });

    anthropicServer = await startFakeAnthropicServer();
    anthropicServer.reply({ body: anthropicText('A dot.') });
    const claude = createAnthropicModel({
      modelId: 'claude-sonnet-4-5',
      baseURL: anthropicServer.baseURL,
      apiKey: 'k',
      retry: noRetry,
    });
    await run(agent({ name: 'looker', instructions: '', model: claude }), 'What is in the chart?', {
      engine: temporaryEngine(),
      attachments: [attachment],
    });
    const body = anthropicServer.requests[0]?.body as { messages: Array<{ content: unknown[] }> };
    expect(body.messages[0]?.content[1]).toMatchObject({
      type: 'image',
      source: { type: 'base64', media_type: 'image/png', data: png.toString('base64') },
    });
  });

  it('keeps attachments in the journal as base64, so a resumed run sends the same bytes', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-attach-'));
    writeFileSync(join(workspace, 'chart.png'), png);
    const engine = temporaryEngine();
    const executions: Array<{ a: number; b: number }> = [];
    const toolTurn = streamReply(openAIFixture('o4-mini-tool-call.txt'));
    const { server, model } = await openAICompatible(
      'openai',
      'gpt-4o-mini',
      [toolTurn, finalAnswer('gpt-4o-mini', 'Done.')],
      [],
    );
    // The run pauses for an approval after its first model call; the resumed run is rebuilt
    // from the journal alone, the task's image included.
    const worker = agent({
      name: 'looker',
      instructions: '',
      model,
      tools: [adder(executions)],
      policies: [{ tool: 'add', action: 'ask' as const }],
    });
    const first = await run(worker, 'Add what the chart shows.', {
      engine,
      attachments: [loadAttachment(workspace, 'chart.png')],
    });
    expect(first.status).toBe('waiting');
    expect((await engine.getRun(first.runId))?.spec).toMatchObject({
      attachments: [{ type: 'image', mediaType: 'image/png', data: png.toString('base64'), filename: 'chart.png' }],
    });
    await engine.decideApproval({ runId: first.runId, outcome: 'approve', actor: 'aiko' });
    const resumed = await resume(worker, first.runId, { engine });
    expect(resumed).toMatchObject({ status: 'completed', output: 'Done.' });
    expect(executions).toEqual([{ a: 2, b: 3 }]);
    expect(sentMessages(server, 1)[0]).toEqual(sentMessages(server, 0)[0]);
    expect(JSON.stringify(sentMessages(server, 1)[0])).toContain(png.toString('base64'));
  });

  it('leaves an image out with a typed warning for a model that takes none (DeepSeek)', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-attach-'));
    writeFileSync(join(workspace, 'chart.png'), png);
    const { server, model } = await openAICompatible(
      'deepseek',
      'deepseek-chat',
      [finalAnswer('deepseek-chat', 'No image.')],
      [],
    );
    const events: RunEvent[] = [];
    await run(agent({ name: 'looker', instructions: '', model }), 'Describe it.', {
      engine: temporaryEngine(),
      attachments: [loadAttachment(workspace, 'chart.png')],
      onEvent: (event) => events.push(event),
    });
    expect(JSON.stringify(sentMessages(server, 0)[0])).not.toContain('image_url');
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'warning',
        message: expect.stringContaining('chart.png (image/png) was left out'),
      }),
    );
  });
});

describe('strict structured output (item 14)', () => {
  it('asks OpenAI for a strict schema (all required, optional made nullable) and drops the nulls after', async () => {
    const { server, model } = await openAICompatible(
      'openai',
      'gpt-4o-mini',
      [finalAnswer('gpt-4o-mini', '{"city":"Oslo","celsius":3,"note":null}')],
      [],
    );
    const output = z.object({ city: z.string(), celsius: z.number(), note: z.string().optional() });
    const result = await run(agent({ name: 'weather', instructions: '', model, output }), 'Weather in Oslo?', {
      engine: temporaryEngine(),
    });
    expect(result).toMatchObject({ status: 'completed', output: { city: 'Oslo', celsius: 3 } });
    expect(server.requests[0]?.body).toMatchObject({
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'final_output',
          strict: true,
          schema: { required: ['city', 'celsius', 'note'], additionalProperties: false },
        },
      },
    });
  });
});

describe('strict tool schemas (item 14)', () => {
  it('sends a strict tool to OpenAI and runs the call whose optional parameter came as null', async () => {
    const seen: unknown[] = [];
    const search = tool({
      name: 'search',
      description: 'Search notes.',
      input: {
        type: 'object',
        properties: { query: { type: 'string' }, limit: { type: 'integer' } },
        required: ['query'],
      },
      strict: true,
      execute: (input) => {
        seen.push(input);
        return 'no notes';
      },
    });
    const { server, model } = await openAICompatible(
      'openai',
      'gpt-4o-mini',
      [
        streamReply(
          sseBody([
            {
              choices: [
                {
                  index: 0,
                  delta: {
                    role: 'assistant',
                    content: null,
                    tool_calls: [
                      {
                        index: 0,
                        id: 'call_S7rq2Lm4Xw9Tz1Kp3Vb6Nc8H',
                        type: 'function',
                        function: { name: 'search', arguments: '{"query":"budget","limit":null}' },
                      },
                    ],
                  },
                  finish_reason: null,
                },
              ],
            },
            { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
          ]),
        ),
        finalAnswer('gpt-4o-mini', 'Nothing found.'),
      ],
      [],
    );
    const result = await run(
      agent({ name: 'searcher', instructions: '', model, tools: [search] }),
      'Find budget notes.',
      {
        engine: temporaryEngine(),
      },
    );
    expect(result).toMatchObject({ status: 'completed', output: 'Nothing found.' });
    expect(seen).toEqual([{ query: 'budget' }]);
    expect(server.requests[0]?.body).toMatchObject({
      tools: [
        {
          type: 'function',
          function: {
            name: 'search',
            strict: true,
            parameters: {
              required: ['query', 'limit'],
              additionalProperties: false,
              properties: { limit: { type: ['integer', 'null'] } },
            },
          },
        },
      ],
    });
  });
});

describe('schema defaults that break their own schema (item 10)', () => {
  it('warns at run start and runs the call that rightly leaves the parameter out', async () => {
    const seen: unknown[] = [];
    const quote = tool({
      name: 'quote',
      description: 'Stock quote.',
      input: {
        type: 'object',
        properties: {
          ticker: { type: 'string' },
          market: { type: 'string', enum: ['NASDAQ', 'NYSE'], default: 'nasdaq' },
        },
        required: ['ticker'],
      },
      execute: (input) => {
        seen.push(input);
        return '190.5';
      },
    });
    const model = createScriptedModel({
      script: { turns: [{ toolCalls: [{ name: 'quote', arguments: { ticker: 'AAPL' } }] }, { text: '190.5' }] },
    });
    const events: RunEvent[] = [];
    const result = await run(agent({ name: 'quoter', instructions: '', model, tools: [quote] }), 'AAPL?', {
      engine: temporaryEngine(),
      onEvent: (event) => events.push(event),
    });
    expect(result).toMatchObject({ status: 'completed', output: '190.5' });
    expect(seen).toEqual([{ ticker: 'AAPL' }]);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'warning',
        message: expect.stringContaining('the default "nasdaq" at /properties/market'),
      }),
    );
  });
});

/** A complete Anthropic text answer stream. */
function anthropicText(text: string): string {
  return (
    sseEvent({ type: 'message_start', message: { usage: { input_tokens: 30, output_tokens: 1 } } }) +
    sseEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
    sseEvent({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }) +
    sseEvent({ type: 'content_block_stop', index: 0 }) +
    sseEvent({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 5 },
    }) +
    sseEvent({ type: 'message_stop' })
  );
}
