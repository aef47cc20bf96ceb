import { afterEach, describe, expect, it } from 'vitest';
import { collectResponse } from '../models/collect-response.js';
import { type FakeOpenAIServer, startFakeOpenAIServer } from '../models/openai/fake-openai-server.js';
import { createOpenAIModel } from '../models/openai/openai-model.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import type { ModelRequest, ModelStreamEvent } from '../models/spec.js';
import { rateLimited } from './__fixtures__/openai-replies.js';
import { createCascadeModel } from './cascade-model.js';
import { matchesFormat, nonEmptyAnswer } from './verifiers.js';

const question: ModelRequest = { messages: [{ role: 'user', content: 'What is 6 * 7?' }] };

function scripted(modelId: string, text: string, inputTokens: number, outputTokens: number) {
  return createScriptedModel({ script: { turns: [{ text, usage: { inputTokens, outputTokens } }] }, modelId });
}

let server: FakeOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('createCascadeModel', () => {
  it('returns the cheap model’s answer when the verifiers accept it, without calling the strong one', async () => {
    const cheap = scripted('cheap', '#### 42', 20, 5);
    const strong = scripted('strong', '#### 42', 20, 50);
    const cascade = createCascadeModel({
      name: 'math',
      models: [cheap, strong],
      verify: [nonEmptyAnswer(), matchesFormat(/^#### \d+$/)],
    });
    const response = await collectResponse(cascade, question);

    expect(response.text).toBe('#### 42');
    expect(strong.requests).toHaveLength(0);
    expect(response.routing).toEqual([
      { model: 'scripted:cheap', reason: 'cascade: trying scripted:cheap first' },
      {
        model: 'scripted:cheap',
        reason:
          'cascade: accepted scripted:cheap: non-empty: the answer has text; matches-format: matches /^#### \\d+$/',
      },
    ]);
    expect(response.usageByModel).toEqual([
      { model: 'scripted:cheap', usage: expect.objectContaining({ inputTokens: 20, outputTokens: 5 }) },
    ]);
  });

  it('escalates when a verifier rejects, shows only the accepted answer, and reports both usages', async () => {
    const cheap = scripted('cheap', 'I think it is about forty.', 20, 7);
    const strong = scripted('strong', '#### 42', 20, 60);
    const cascade = createCascadeModel({ name: 'math', models: [cheap, strong], verify: matchesFormat(/^#### \d+$/) });
    const events: ModelStreamEvent[] = [];
    const response = await collectResponse(cascade, question, (event) => events.push(event));

    expect(response.text).toBe('#### 42');
    expect(response.routing.map((decision) => decision.reason)).toEqual([
      'cascade: trying scripted:cheap first',
      'cascade: escalating to scripted:strong: scripted:cheap rejected: matches-format: the answer does not match /^#### \\d+$/',
      'cascade: accepted scripted:strong: matches-format: matches /^#### \\d+$/',
    ]);
    expect(response.usageByModel).toEqual([
      { model: 'scripted:cheap', usage: expect.objectContaining({ inputTokens: 20, outputTokens: 7 }) },
      { model: 'scripted:strong', usage: expect.objectContaining({ inputTokens: 20, outputTokens: 60 }) },
    ]);
    expect(response.usage).toMatchObject({ inputTokens: 40, outputTokens: 67 });
    // Nothing of the rejected answer reaches the caller, and no text comes before the verdict.
    const firstText = events.findIndex((event) => event.type === 'text-delta');
    const lastRouting = events.findLastIndex((event) => event.type === 'routing');
    expect(firstText).toBeGreaterThan(lastRouting);
  });

  it('returns the strongest model’s answer even when it is rejected, and says so', async () => {
    const cascade = createCascadeModel({
      name: 'empty',
      models: [scripted('cheap', '', 5, 0), scripted('strong', '', 5, 0)],
      verify: nonEmptyAnswer(),
    });
    const response = await collectResponse(cascade, question);
    expect(response.routing.at(-1)).toEqual({
      model: 'scripted:strong',
      reason:
        'cascade: scripted:strong rejected (non-empty: the answer is empty (finish reason stop)), but it is the strongest model; returning its answer',
    });
  });

  it('sums the usage of a model listed twice', async () => {
    const cascade = createCascadeModel({
      name: 'twice',
      models: [scripted('same', '', 10, 1), scripted('same', 'done', 10, 2)],
      verify: nonEmptyAnswer(),
    });
    const response = await collectResponse(cascade, question);
    expect(response.usageByModel).toEqual([
      { model: 'scripted:same', usage: expect.objectContaining({ inputTokens: 20, outputTokens: 3 }) },
    ]);
  });

  it('escalates past a cheap model that fails with 429', async () => {
    server = await startFakeOpenAIServer([rateLimited()]);
    const cheap = createOpenAIModel({
      modelId: 'gpt-4o-mini',
      baseURL: server.baseURL,
      apiKey: 'sk-test',
      retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 },
    });
    const strong = scripted('strong', 'ok', 3, 1);
    const response = await collectResponse(
      createCascadeModel({ name: 'limited', models: [cheap, strong], verify: nonEmptyAnswer() }),
      question,
    );
    expect(response.text).toBe('ok');
    expect(response.routing[1]?.reason).toBe(
      'cascade: escalating to scripted:strong: openai:gpt-4o-mini failed with 429 (rate limited)',
    );
  });

  it('passes the request to a custom verifier', async () => {
    const seen: ModelRequest[] = [];
    const cascade = createCascadeModel({
      name: 'custom',
      models: [scripted('cheap', 'a', 1, 1), scripted('strong', 'b', 1, 1)],
      verify: (_response, request) => {
        seen.push(request);
        return { accept: false, reason: 'judge: no' };
      },
    });
    expect((await collectResponse(cascade, question)).text).toBe('b');
    expect(seen).toEqual([question, question]);
    expect(cascade.routesTo).toEqual(['scripted:cheap', 'scripted:strong']);
    expect(() => createCascadeModel({ name: 'none', models: [scripted('a', 'a', 1, 1)], verify: [] })).toThrow(
      TypeError,
    );
  });
});
