import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHataraku } from '../hataraku.js';
import { collectResponse } from '../models/collect-response.js';
import { type FakeOpenAIServer, type FakeReply, startFakeOpenAIServer } from '../models/openai/fake-openai-server.js';
import { createOpenAIModel } from '../models/openai/openai-model.js';
import type { ModelRequest } from '../models/spec.js';
import { textAnswer } from './__fixtures__/openai-replies.js';
import { createSelfConsistencyModel } from './self-consistency-model.js';

const servers: FakeOpenAIServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function upstream(provider: string, modelId: string, ...replies: FakeReply[]) {
  const server = await startFakeOpenAIServer(replies);
  servers.push(server);
  const model = createOpenAIModel({
    provider,
    modelId,
    baseURL: server.baseURL,
    apiKey: 'sk-test',
    retry: { maxRetries: 0, initialDelayMs: 1, maxDelayMs: 1 },
  });
  return { server, model };
}

const question: ModelRequest = { messages: [{ role: 'user', content: 'Which is a prime? A) 4 B) 6 C) 7 D) 9' }] };
const choice = { kind: 'choice', choices: 'ABCD' } as const;

describe('createSelfConsistencyModel', () => {
  it('keeps the cheap answer when enough samples agree, and bills every sample', async () => {
    const cheap = await upstream(
      'groq',
      'small',
      textAnswer('C', 20, 1),
      textAnswer('The answer is A.', 20, 4),
      textAnswer('(C)', 20, 2),
    );
    const strong = await upstream('openai', 'large');
    const route = createSelfConsistencyModel({
      name: 'vote',
      models: [cheap.model, strong.model],
      samples: 3,
      answerFormat: choice,
      minAgreement: 0.6,
    });
    const response = await collectResponse(route, question);
    expect(response.text).toBe('C');
    expect(response.routing.at(-1)?.reason).toBe('self-consistency: accepted groq:small: 2 of 3 samples agree on C');
    expect(response.usageByModel).toEqual([
      { model: 'groq:small', usage: expect.objectContaining({ inputTokens: 60, outputTokens: 7 }) },
    ]);
    expect(strong.server.requests).toHaveLength(0);
    // Samples after the first are drawn with some temperature, so they can differ.
    expect(cheap.server.requests.map((request) => (request.body as { temperature?: number }).temperature)).toEqual([
      undefined,
      0.7,
      0.7,
    ]);
  });

  it('escalates when the samples disagree, with both models billed', async () => {
    const cheap = await upstream(
      'groq',
      'small',
      textAnswer('A', 20, 1),
      textAnswer('B', 20, 1),
      textAnswer('D', 20, 1),
    );
    const strong = await upstream('openai', 'large', textAnswer('C', 20, 1));
    const route = createSelfConsistencyModel({
      name: 'vote',
      models: [cheap.model, strong.model],
      samples: 3,
      answerFormat: choice,
      minAgreement: 0.6,
    });
    const response = await collectResponse(route, question);
    expect(response.text).toBe('C');
    expect(response.routing.at(-1)?.reason).toBe(
      'self-consistency: escalating to openai:large: only 1 of 3 samples agree',
    );
    expect(response.usageByModel.map((entry) => [entry.model, entry.usage.inputTokens])).toEqual([
      ['groq:small', 60],
      ['openai:large', 20],
    ]);
  });

  it('names a malformed option', () => {
    const model = createOpenAIModel({ provider: 'openai', modelId: 'x', baseURL: 'http://127.0.0.1:9', apiKey: 'k' });
    expect(() =>
      createSelfConsistencyModel({
        name: 'v',
        models: [model, model],
        samples: 1,
        answerFormat: choice,
        minAgreement: 0.5,
      }),
    ).toThrow(/samples must be a whole number of at least 2/);
    expect(() =>
      createSelfConsistencyModel({
        name: 'v',
        models: [model, model],
        samples: 3,
        answerFormat: choice,
        minAgreement: 2,
      }),
    ).toThrow(/minAgreement must be a share/);
  });

  it('is configured as a route, with a one-line error for a bad answer format', async () => {
    const cheap = await upstream('cheap', 'small', textAnswer('B', 10, 1), textAnswer('B', 10, 1));
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-vote-'));
    const config = (answer: string) =>
      JSON.stringify({
        providers: { cheap: { type: 'openai', baseURL: cheap.server.baseURL, apiKeyEnv: 'CHEAP_KEY', maxRetries: 0 } },
        routes: {
          vote: {
            type: 'self-consistency',
            models: ['cheap:small', 'cheap:large'],
            samples: 2,
            answer,
            minAgreement: 1,
          },
        },
      });
    writeFileSync(join(cwd, 'hataraku.config.json'), config('choice:ABCD'));
    const hataraku = createHataraku({ cwd, env: { CHEAP_KEY: 'k' } });
    try {
      expect((await collectResponse(hataraku.model('route:vote'), question)).text).toBe('B');
    } finally {
      await hataraku.close();
    }
    writeFileSync(join(cwd, 'hataraku.config.json'), config('letters'));
    const broken = createHataraku({ cwd, env: { CHEAP_KEY: 'k' } });
    try {
      expect(() => broken.model('route:vote')).toThrow(
        /^routes\.vote\.answer: an answer format must be number, integer, choice:ABCD/,
      );
    } finally {
      await broken.close();
    }
  });
});
