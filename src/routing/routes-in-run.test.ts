/**
 * Each routing model, and the cache, through the real agent loop on a real journal: the run
 * completes, the routing decisions reach the run's events, and the cost recorded for each model
 * step is the sum of what each model it used costs at that model's own price.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../agent/agent.js';
import type { RunEvent } from '../agent/events.js';
import { run } from '../agent/run.js';
import { cacheHitPriceSource } from '../cache/cache-hit-price.js';
import { createCachedModel } from '../cache/cached-model.js';
import { openSqliteModelCallCache } from '../cache/sqlite-model-call-cache.js';
import { createOverridePriceSource } from '../cost/override-source.js';
import { chainPriceSources } from '../cost/price-source.js';
import type { Engine } from '../engine/engine.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { type FakeOpenAIServer, startFakeOpenAIServer } from '../models/openai/fake-openai-server.js';
import { createOpenAIModel } from '../models/openai/openai-model.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import type { Model } from '../models/spec.js';
import { tool } from '../tools/define-tool.js';
import { rateLimited, serverError, textAnswer, toolCallAnswer } from './__fixtures__/openai-replies.js';
import { createBudgetModel } from './budget-model.js';
import { createCascadeModel } from './cascade-model.js';
import { createFallbackModel } from './fallback-model.js';
import { createStepRouter } from './step-router.js';
import { matchesFormat } from './verifiers.js';

/** USD per million tokens, chosen so that every model costs something different. */
const rates = {
  'openai:gpt-4o-mini': { inputPerMillion: 150, outputPerMillion: 600 },
  'groq:llama-3.1-8b': { inputPerMillion: 50, outputPerMillion: 80 },
  'scripted:cheap': { inputPerMillion: 100, outputPerMillion: 200 },
  'scripted:strong': { inputPerMillion: 2_500, outputPerMillion: 10_000 },
} as const;
const prices = chainPriceSources(createOverridePriceSource(rates), cacheHitPriceSource);

function cost(model: keyof typeof rates, inputTokens: number, outputTokens: number): number {
  return (inputTokens * rates[model].inputPerMillion + outputTokens * rates[model].outputPerMillion) / 1_000_000;
}

const adder = tool({
  name: 'add',
  description: 'Add two integers.',
  input: z.object({ a: z.number().int(), b: z.number().int() }),
  execute: ({ a, b }) => ({ sum: a + b }),
});

const engines: Engine[] = [];
const servers: FakeOpenAIServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

function memoryEngine(): Engine {
  const engine = openSqliteEngine({ path: ':memory:' });
  engines.push(engine);
  return engine;
}

async function modelSteps(engine: Engine, runId: string) {
  return (await engine.listSteps(runId)).filter((step) => step.kind === 'model');
}

/** The cost ledger of a run, per model: calls and USD. */
async function ledgerOf(engine: Engine, runId: string): Promise<Record<string, { calls: number; costUsd: number }>> {
  const rows = await engine.costReport({ by: 'model', runId });
  return Object.fromEntries(rows.map((row) => [row.key, { calls: row.calls, costUsd: row.costUsd }]));
}

/** The models a model step used, from the response the journal recorded. */
function modelsUsed(step: { output: unknown }): string[] {
  return (step.output as { usageByModel: Array<{ model: string }> }).usageByModel.map((entry) => entry.model);
}

function routingOf(events: RunEvent[]) {
  return events.flatMap((event) =>
    event.type === 'routing' ? [{ step: event.stepIndex, model: event.model, reason: event.reason }] : [],
  );
}

function scripted(
  modelId: 'cheap' | 'strong',
  turns: Array<{
    text?: string;
    toolCalls?: Array<{ name: string; arguments: Record<string, unknown> }>;
    usage: { inputTokens: number; outputTokens: number };
  }>,
): Model {
  return createScriptedModel({ script: { turns }, modelId });
}

describe('routing models in the agent loop', () => {
  it('fallback: completes the run when the first upstream answers 429, then 500', async () => {
    const primaryServer = await startFakeOpenAIServer([rateLimited(), serverError()]);
    const secondaryServer = await startFakeOpenAIServer([
      toolCallAnswer({ id: 'call_1', name: 'add', arguments: '{"a":2,"b":3}' }, 40, 12),
      textAnswer('The sum is 5.', 70, 6),
    ]);
    servers.push(primaryServer, secondaryServer);
    const retry = { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 };
    const route = createFallbackModel({
      name: 'resilient',
      models: [
        createOpenAIModel({ modelId: 'gpt-4o-mini', baseURL: primaryServer.baseURL, apiKey: 'sk-a', retry }),
        createOpenAIModel({
          provider: 'groq',
          modelId: 'llama-3.1-8b',
          baseURL: secondaryServer.baseURL,
          apiKey: 'gsk-b',
          retry,
        }),
      ],
    });
    const engine = memoryEngine();
    const events: RunEvent[] = [];
    const worker = agent({
      name: 'adder',
      instructions: 'Add numbers.',
      model: route,
      tools: [adder],
      limits: { maxCostUsd: 100 },
    });
    const result = await run(worker, 'What is 2 + 3?', { engine, prices, onEvent: (event) => events.push(event) });

    expect(result).toMatchObject({ status: 'completed', output: 'The sum is 5.' });
    expect(routingOf(events)).toEqual([
      { step: 0, model: 'openai:gpt-4o-mini', reason: 'fallback: trying openai:gpt-4o-mini first' },
      {
        step: 0,
        model: 'groq:llama-3.1-8b',
        reason: 'fallback: openai:gpt-4o-mini failed with 429 (rate limited); trying groq:llama-3.1-8b',
      },
      { step: 2, model: 'openai:gpt-4o-mini', reason: 'fallback: trying openai:gpt-4o-mini first' },
      {
        step: 2,
        model: 'groq:llama-3.1-8b',
        reason: 'fallback: openai:gpt-4o-mini failed with 500 (server error); trying groq:llama-3.1-8b',
      },
    ]);
    const steps = await modelSteps(engine, result.runId);
    expect(steps.map((step) => step.costUsd)).toEqual([
      cost('groq:llama-3.1-8b', 40, 12),
      cost('groq:llama-3.1-8b', 70, 6),
    ]);
    expect(steps.map(modelsUsed)).toEqual([['groq:llama-3.1-8b'], ['groq:llama-3.1-8b']]);
    expect(result.totals.costUsd).toBeCloseTo(cost('groq:llama-3.1-8b', 110, 18), 12);
    expect(await ledgerOf(engine, result.runId)).toEqual({
      'groq:llama-3.1-8b': { calls: 2, costUsd: expect.closeTo(cost('groq:llama-3.1-8b', 110, 18), 12) },
    });
  });

  it('cascade: a step that escalates costs the cheap call plus the strong one', async () => {
    const cheap = scripted('cheap', [{ text: 'roughly forty', usage: { inputTokens: 30, outputTokens: 4 } }]);
    const strong = scripted('strong', [{ text: '#### 42', usage: { inputTokens: 30, outputTokens: 9 } }]);
    const route = createCascadeModel({ name: 'math', models: [cheap, strong], verify: matchesFormat(/^#### \d+$/) });
    const engine = memoryEngine();
    const events: RunEvent[] = [];
    const result = await run(agent({ name: 'solver', instructions: 'Solve.', model: route }), 'What is 6 * 7?', {
      engine,
      prices,
      onEvent: (event) => events.push(event),
    });

    expect(result).toMatchObject({ status: 'completed', output: '#### 42' });
    expect(routingOf(events).map((decision) => decision.model)).toEqual([
      'scripted:cheap',
      'scripted:strong',
      'scripted:strong',
    ]);
    const [step] = await modelSteps(engine, result.runId);
    const expected = cost('scripted:cheap', 30, 4) + cost('scripted:strong', 30, 9);
    expect(step?.costUsd).toBeCloseTo(expected, 12);
    expect(await ledgerOf(engine, result.runId)).toEqual({
      'scripted:cheap': { calls: 1, costUsd: cost('scripted:cheap', 30, 4) },
      'scripted:strong': { calls: 1, costUsd: cost('scripted:strong', 30, 9) },
    });
  });

  it('budget: past the run budget’s soft limit, the route takes the cheapest model', async () => {
    const strong = scripted('strong', [{ text: 'strong answer', usage: { inputTokens: 10, outputTokens: 10 } }]);
    const cheap = scripted('cheap', [{ text: 'cheap answer', usage: { inputTokens: 10, outputTokens: 10 } }]);
    const route = createBudgetModel({
      name: 'thrifty',
      models: [
        { model: strong, minRemainingFraction: 0.5 },
        { model: cheap, minRemainingFraction: 0 },
      ],
    });
    const engine = memoryEngine();
    const events: RunEvent[] = [];
    const result = await run(agent({ name: 'writer', instructions: 'Write.', model: route }), 'Write a line.', {
      engine,
      prices,
      budgets: [{ scope: 'run', limitUsd: 1_000, softLimitUsd: 0 }],
      onEvent: (event) => events.push(event),
    });

    expect(result).toMatchObject({ status: 'completed', output: 'cheap answer' });
    expect(routingOf(events)).toEqual([
      {
        step: 0,
        model: 'scripted:cheap',
        reason: 'budget: $0.00 spent, past the soft limit of $0.00; using the cheapest model scripted:cheap',
      },
    ]);
    const [step] = await modelSteps(engine, result.runId);
    expect(step?.costUsd).toBe(cost('scripted:cheap', 10, 10));
  });

  it('step router: plans with the strong model, then follows the tool result with the cheap one', async () => {
    const strong = scripted('strong', [
      { toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }], usage: { inputTokens: 50, outputTokens: 15 } },
      { text: 'unused', usage: { inputTokens: 1, outputTokens: 1 } },
    ]);
    const cheap = scripted('cheap', [
      { text: 'unused', usage: { inputTokens: 1, outputTokens: 1 } },
      { text: 'The sum is 5.', usage: { inputTokens: 80, outputTokens: 6 } },
    ]);
    const route = createStepRouter({ name: 'steps', planning: strong, tools: cheap });
    const engine = memoryEngine();
    const result = await run(
      agent({ name: 'adder', instructions: 'Add.', model: route, tools: [adder] }),
      'What is 2 + 3?',
      {
        engine,
        prices,
      },
    );

    expect(result).toMatchObject({ status: 'completed', output: 'The sum is 5.' });
    const steps = await modelSteps(engine, result.runId);
    expect(steps.map(modelsUsed)).toEqual([['scripted:strong'], ['scripted:cheap']]);
    expect(steps.map((step) => step.costUsd)).toEqual([cost('scripted:strong', 50, 15), cost('scripted:cheap', 80, 6)]);
  });

  it('cache: a second identical run is answered from the cache at zero cost', async () => {
    const model = scripted('strong', [{ text: 'Hello.', usage: { inputTokens: 25, outputTokens: 3 } }]);
    const store = openSqliteModelCallCache({ path: ':memory:' });
    const cached = createCachedModel({ model, store, ttlMs: 60_000, tenant: 'acme' });
    const greeter = agent({ name: 'greeter', instructions: 'Greet.', model: cached, temperature: 0 });
    const engine = memoryEngine();

    const first = await run(greeter, 'Say hello.', { engine, prices, tenant: 'acme' });
    const events: RunEvent[] = [];
    const second = await run(greeter, 'Say hello.', {
      engine,
      prices,
      tenant: 'acme',
      onEvent: (event) => events.push(event),
    });
    store.close();

    expect(second).toMatchObject({ status: 'completed', output: 'Hello.' });
    expect((model as ReturnType<typeof createScriptedModel>).requests).toHaveLength(1);
    expect(routingOf(events)).toEqual([
      {
        step: 0,
        model: 'cache:hit',
        reason: expect.stringMatching(/^cache hit: saved a call to scripted:strong \(25 input and 3 output tokens\)/),
      },
    ]);
    const [firstStep] = await modelSteps(engine, first.runId);
    const [secondStep] = await modelSteps(engine, second.runId);
    expect(firstStep?.costUsd).toBe(cost('scripted:strong', 25, 3));
    expect(secondStep?.costUsd).toBe(0);
    expect(await ledgerOf(engine, second.runId)).toEqual({ 'cache:hit': { calls: 1, costUsd: 0 } });
  });
});
