/**
 * The learned router on data of a kind it was not built for: synthetic multiple-choice
 * questions whose answers are a single letter, with no numbers anywhere, so nothing can lean on
 * a maths data set's format. The data is generated with a seeded generator, and the signals of a
 * wrong cheap answer are generic ones (wavering between letters, hedging, no clear answer).
 */
import { describe, expect, it } from 'vitest';
import type { ModelRequest, ModelResponse } from '../../models/spec.js';
import {
  bootstrapOperatingPoint,
  chooseOperatingPoint,
  parseLearnedRouter,
  type RoutingExample,
  replayRouter,
  routingOutcome,
  routingScores,
  trainRouter,
} from './learned-router.js';
import { learnedVerifier } from './learned-verifier.js';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

const topics = ['rivers', 'poets', 'enzymes', 'treaties', 'planets', 'alloys', 'dialects', 'glaciers'];
const letters = 'ABCD';

/**
 * One synthetic multiple-choice item. A third of the cheap answers waver or hedge, and those are
 * mostly wrong; clear single-letter answers are mostly right. Half the prompts carry a long
 * passage, which makes the strong call about ten times dearer.
 */
function multipleChoiceSet(count: number, seed: number): RoutingExample[] {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  return Array.from({ length: count }, () => {
    const long = random() < 0.5;
    const passage = long
      ? `Read the passage first. ${'The committee reviewed the evidence carefully. '.repeat(40)}`
      : '';
    const prompt = `${passage}Which statement about ${pick(topics)} is true?\nA) the first\nB) the second\nC) the third\nD) the fourth\nAnswer with one letter.`;
    const wavering = random() < 0.35;
    const weakCorrect = random() < (wavering ? 0.25 : 0.92);
    const strongCorrect = random() < 0.96;
    const first = pick([...letters]);
    const second = pick([...letters.replace(first, '')]);
    const weakResponse = wavering
      ? pick([
          `It might be ${first}, or perhaps ${second}; I am not sure.`,
          `Probably (${first})... actually maybe (${second}).`,
          'The options are unclear.',
        ])
      : pick([first, `${first}.`, `The answer is ${first}.`]);
    const tokens = long ? 420 : 40;
    return {
      prompt,
      weakResponse,
      weakCorrect,
      strongCorrect,
      weakCostUsd: tokens * 0.2e-6,
      strongCostUsd: tokens * 10e-6 + 50e-6,
    };
  });
}

const choiceFormat = { kind: 'choice', choices: 'ABCD' } as const;

describe('trainRouter on single-letter multiple choice', () => {
  const train = multipleChoiceSet(600, 11);
  const test = multipleChoiceSet(600, 12);

  it('has no digits in the cheap answers, so no numeric format can carry the decision', () => {
    expect(train.some((example) => /\d/.test(example.weakResponse ?? ''))).toBe(false);
  });

  it('reaches the target quality on unseen prompts with the operating point chosen on the training data', () => {
    const router = trainRouter(train, { kind: 'cascade', answerFormat: choiceFormat, targetQuality: 0.95 });
    expect(router.operatingPoint.trainQuality).toBeGreaterThanOrEqual(0.95 + router.operatingPoint.margin);
    const reached = replayRouter(router, test);
    expect(reached.quality).toBeGreaterThanOrEqual(0.95);
    const random = routingOutcome(
      test,
      test.map((_, index) => index % 10 < Math.round(reached.escalatedShare * 10)),
      'cascade',
    );
    // Escalating the wavering answers beats escalating as many prompts blindly.
    expect(reached.quality).toBeGreaterThan(random.quality);
    expect(reached.saving).toBeGreaterThan(0.3);
  });

  it('saves more dollars at the same quality when it weighs gain by the price of each escalation', () => {
    const costAware = trainRouter(train, { kind: 'cascade', answerFormat: choiceFormat, objective: 'gain-per-dollar' });
    const gainOnly = trainRouter(train, { kind: 'cascade', answerFormat: choiceFormat, objective: 'gain' });
    const savingAt = (router: typeof costAware): number =>
      chooseOperatingPoint(test, routingScores(router, test), 'cascade', 0.9, 0).trainSaving;
    expect(savingAt(costAware)).toBeGreaterThan(savingAt(gainOnly));
  });

  it('reaches the target on most unseen sets over many seeds with the bootstrap operating point', () => {
    // Each seed is a fresh training set and a fresh set of unseen prompts; the point is placed on
    // the training set alone. At 90 % confidence about one seed in ten may fall short; more than
    // three in twelve would mean the calibration is optimistic.
    const outcomes = Array.from({ length: 12 }, (_, index) => {
      const seedTrain = multipleChoiceSet(400, 100 + index);
      const seedTest = multipleChoiceSet(400, 200 + index);
      const router = trainRouter(seedTrain, { kind: 'cascade', answerFormat: choiceFormat, confidence: 0.9 });
      return replayRouter(router, seedTest);
    });
    const reached = outcomes.filter((outcome) => outcome.quality >= 0.95).length;
    expect(reached).toBeGreaterThanOrEqual(9);
    const meanSaving = outcomes.reduce((total, outcome) => total + outcome.saving, 0) / outcomes.length;
    expect(meanSaving).toBeGreaterThan(0.3);
  });

  it('deploys the fold models whose out-of-fold scores placed the threshold, and survives JSON', () => {
    const router = trainRouter(train, { kind: 'cascade', answerFormat: choiceFormat });
    expect(router.ensemble).toHaveLength(5);
    expect(router.operatingPoint.method).toBe('bootstrap');
    const copy = JSON.parse(JSON.stringify(router)) as typeof router;
    expect(routingScores(copy, test.slice(0, 20))).toEqual(routingScores(router, test.slice(0, 20)));
    expect(parseLearnedRouter(copy, 'router.json').ensemble).toHaveLength(5);
    expect(() => parseLearnedRouter({ ...copy, ensemble: [{}] }, 'router.json')).toThrow(
      /router\.json: "ensemble" must list fold models/,
    );
    const full = trainRouter(train, { kind: 'cascade', answerFormat: choiceFormat, deploy: 'full', margin: 0.02 });
    expect(full.ensemble).toBeUndefined();
    expect(full.operatingPoint.method).toBe('fixed');
    expect(full.operatingPoint.margin).toBe(0.02);
  });

  it('asks more of the training data as the confidence rises, and nothing when the models always agree', () => {
    const scores = train.map((_, index) => (index * 7919) % 601);
    const point = (confidence: number) =>
      bootstrapOperatingPoint(train, scores, 'cascade', 0.9, { confidence, resamples: 300, seed: 3 });
    expect(point(0.99).trainEscalatedShare).toBeGreaterThanOrEqual(point(0.5).trainEscalatedShare);
    expect(point(0.99).trainQuality).toBeGreaterThanOrEqual(0.9);
    const agreeing = train.map((example) => ({ ...example, weakCorrect: example.strongCorrect }));
    const none = bootstrapOperatingPoint(agreeing, scores, 'cascade', 0.95, {
      confidence: 0.9,
      resamples: 50,
      seed: 1,
    });
    expect(none.threshold).toBe(Number.POSITIVE_INFINITY);
    expect(none.trainEscalatedShare).toBe(0);
  });

  it("fits the strong cost on the whole prompt's tokens when an example holds only part of it", () => {
    // The same cut text for every prompt; the whole prompts were 1,000 to 40,000 tokens long.
    const examples = multipleChoiceSet(60, 5).map((example, index) => {
      const promptTokens = 1_000 * (1 + (index % 40));
      return { ...example, prompt: 'Which is true? A) x B) y', promptTokens, strongCostUsd: promptTokens * 3e-6 };
    });
    const router = trainRouter(examples, { kind: 'cascade', answerFormat: choiceFormat, targetQuality: 0.9 });
    expect(router.strongCost.perTokenUsd).toBeCloseTo(3e-6, 12);
    const withoutTokens = examples.map(({ promptTokens: _whole, ...rest }) => rest);
    expect(
      trainRouter(withoutTokens, { kind: 'cascade', answerFormat: choiceFormat, targetQuality: 0.9 }).strongCost
        .perTokenUsd,
    ).toBe(0);
  });

  it('refuses a cascade without cheap responses and too few examples, naming the problem', () => {
    expect(() => trainRouter(train.slice(0, 3), { kind: 'cascade', answerFormat: choiceFormat })).toThrow(
      /at least 10/,
    );
    const noResponses = train.map(({ weakResponse: _, ...rest }) => rest);
    expect(() => trainRouter(noResponses, { kind: 'cascade', answerFormat: choiceFormat })).toThrow(/weakResponse/);
  });

  it('serves as a cascade verifier: keeps a clear letter, escalates a wavering one', async () => {
    const router = trainRouter(train, { kind: 'cascade', answerFormat: choiceFormat });
    const request: ModelRequest = { messages: [{ role: 'user', content: test[0]?.prompt ?? '' }] };
    const answer = (text: string): ModelResponse => ({
      text,
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 10, outputTokens: 2 },
      usageByModel: [],
      routing: [],
      warnings: [],
    });
    const verify = learnedVerifier(JSON.parse(JSON.stringify(router)));
    expect((await verify(answer('B'), request)).accept).toBe(true);
    const wavering = await verify(answer('It might be A, or perhaps C; I am not sure.'), request);
    expect(wavering.accept).toBe(false);
    expect(wavering.reason).toMatch(/^learned: escalating/);
  });
});
