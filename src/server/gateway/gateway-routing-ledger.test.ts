/**
 * Gateway calls through a `route:` cascade keep the cascade's routing decision (the models tried,
 * the cheap answer it rejected) and the request's last user message, as the agent loop records a
 * run, so the labelled calls train a router: real HTTP server on port 0, a fake OpenAI upstream on
 * loopback speaking the streamed wire format, a real SQLite journal, feedback over HTTP, and
 * `hataraku routes train --from ledger`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { captureCliIo } from '../../cli/__fixtures__/captured-io.js';
import { main } from '../../cli/main.js';
import { createHataraku } from '../../hataraku.js';
import { type FakeReply, sseBody, startFakeOpenAIServer, streamReply } from '../../models/openai/fake-openai-server.js';
import { createNodeHttpFetch } from '../node-http-fetch.js';
import { createServer, startServer } from '../server.js';
import { lastUserText } from './gateway-ledger.js';

/** An upstream streamed answer with `text` and a usage chunk, as OpenAI sends it. */
function upstreamText(text: string, usage: { prompt_tokens: number; completion_tokens: number }): FakeReply {
  const base = { id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1749312000, model: 'gpt-test' };
  return streamReply(
    sseBody([
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: text }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } },
    ]),
  );
}

/** Call `index`: two in three the cheap model hedges and is escalated; its hedge is right on every other one. */
function task(index: number) {
  const right = 10 + index;
  const escalates = index % 3 !== 0;
  const hedgeRight = index % 2 === 0;
  return {
    prompt: `What is ${index} + 10? Answer as #### N.`,
    right,
    escalates,
    cheapText: escalates ? `I think it is ${hedgeRight ? right : right + 3}` : `#### ${right}`,
    cheapRight: escalates ? hedgeRight : true,
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('gateway calls through a route: model', () => {
  it('keep the routing decision and the prompt, so labelled calls train a router', async () => {
    const count = 30;
    const replies: FakeReply[] = [];
    for (let index = 0; index < count; index += 1) {
      const current = task(index);
      replies.push(upstreamText(current.cheapText, { prompt_tokens: 20, completion_tokens: 6 }));
      if (current.escalates)
        replies.push(upstreamText(`#### ${current.right}`, { prompt_tokens: 20, completion_tokens: 40 }));
    }
    const upstream = await startFakeOpenAIServer(replies);
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-gw-routing-'));
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        providers: { up: { type: 'openai', baseURL: upstream.baseURL, apiKeyEnv: 'UP_KEY', maxRetries: 0 } },
        prices: {
          'up:gpt-down': { inputPerMillion: 1, outputPerMillion: 4 },
          'up:gpt-test': { inputPerMillion: 25, outputPerMillion: 100 },
        },
        routes: {
          math: {
            type: 'cascade',
            models: ['up:gpt-down', 'up:gpt-test'],
            verify: [{ 'matches-format': '^#### \\d+$' }],
          },
        },
      }),
    );
    const hataraku = createHataraku({ cwd, env: { UP_KEY: 'sk-upstream' }, fetch: createNodeHttpFetch() });
    const server = createServer({ hataraku, recoverIntervalMs: 0, gatewayFlushMs: 10, log: () => {} });
    const listening = await startServer(server, { host: '127.0.0.1', port: 0 });
    cleanups.push(async () => {
      await listening.close();
      await server.close();
      await hataraku.close();
      await upstream.close();
    });
    const { secret } = server.keys.create({ name: 'ops', tenant: 'acme' });
    const post = (path: string, body: unknown) =>
      fetch(`${listening.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    const runIds: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const current = task(index);
      const response = await post('/v1/chat/completions', {
        model: 'route:math',
        messages: [
          { role: 'system', content: 'Solve.' },
          { role: 'user', content: current.prompt },
        ],
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
      expect(body.choices[0]?.message.content).toBe(current.escalates ? `#### ${current.right}` : current.cheapText);
      runIds.push(response.headers.get('x-hataraku-run-id') ?? '');
    }
    await expect
      .poll(async () => (await hataraku.engine.listRuns({ agentName: 'gateway', limit: 100 })).length)
      .toBe(count);

    // Recorded as the agent loop records a run through a cascade.
    const escalatedId = runIds[1] ?? '';
    expect((await hataraku.engine.getRun(escalatedId))?.input).toBe(task(1).prompt);
    const [step] = await hataraku.engine.listSteps(escalatedId);
    if (step === undefined) throw new Error('the gateway call has no step');
    expect(step.model).toBe('route:math');
    const routing = (step.output as { routing: Array<{ model: string; reason: string; rejectedAnswer?: string }> })
      .routing;
    expect(routing.map((entry) => entry.model)).toEqual(['up:gpt-down', 'up:gpt-test', 'up:gpt-test']);
    expect(routing[0]?.reason).toMatch(/^cascade: trying/);
    expect(routing.map((entry) => entry.rejectedAnswer)).toEqual([undefined, task(1).cheapText, undefined]);

    for (const [index, runId] of runIds.entries()) {
      const current = task(index);
      const labelled = await post(`/runs/${runId}/feedback`, { solved: current.escalates ? true : current.cheapRight });
      expect(labelled.status).toBe(200);
    }

    const train = captureCliIo(cwd);
    const code = await main(
      [
        'routes',
        'train',
        '--from',
        'ledger',
        '--route',
        'math',
        '--tenant',
        'acme',
        '--labelled-by',
        'key:ops',
        '--json',
      ],
      train.io,
    );
    expect(train.stderr()).toBe('');
    expect(code).toBe(0);
    // The 20 escalated calls: strong right on all, the cheap hedge right on half.
    expect(JSON.parse(train.stdout()).trainedOn).toEqual({ examples: 20, weakAccuracy: 0.5, strongAccuracy: 1 });
    const config = JSON.parse(readFileSync(join(cwd, 'hataraku.config.json'), 'utf8'));
    expect(config.routes.learned.models).toEqual(['up:gpt-down', 'up:gpt-test']);
  });

  it('reads the last user message of a chat or a responses request', () => {
    const chat = JSON.stringify({
      model: 'route:math',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is' },
            { type: 'text', text: '2 + 2?' },
          ],
        },
      ],
    });
    expect(lastUserText(chat)).toBe('What is\n2 + 2?');
    expect(lastUserText(JSON.stringify({ model: 'route:math', input: 'Add 2 and 2.' }))).toBe('Add 2 and 2.');
    expect(
      lastUserText(
        JSON.stringify({
          model: 'route:math',
          input: [{ role: 'user', content: [{ type: 'input_text', text: 'Add' }] }],
        }),
      ),
    ).toBe('Add');
    expect(lastUserText(JSON.stringify({ model: 'route:math', messages: [{ role: 'system', content: 'x' }] }))).toBe(
      undefined,
    );
    expect(lastUserText('not json')).toBeUndefined();
  });
});
