/**
 * A learned, cost-aware router between a cheap model and a strong one, fitted from the user's
 * own outcomes (an eval run, a replay). It estimates, per prompt, the probability that the cheap
 * answer is right (from the prompt, and in a cascade from the cheap response too) and that the
 * strong one is, and the dollars the strong call would cost from the prompt's length. It
 * escalates when the expected quality gain per dollar of escalation, (P(strong right) − P(cheap
 * right)) / cost of the strong call, reaches a threshold: a long prompt must promise more gain
 * to be worth its price.
 *
 * The threshold is an operating point set on the training data (scores out of fold, so none
 * scores its own example) at the target quality plus a safety margin, so that a deployment
 * reaches the target on prompts it has not seen. The fitted router is plain JSON.
 */
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { type AnswerFormat, checkAnswerFormat } from './answer-format.js';
import { promptFeatures, type ResponseSignals, responseFeatures } from './features.js';
import { fitLogisticRegression, type LogisticModel, predictProbability } from './logistic-regression.js';

/** One training outcome: a prompt, both models' results on it, and what each call cost. */
export interface RoutingExample {
  prompt: string;
  /** The cheap model's response text (needed for a cascade). */
  weakResponse?: string | undefined;
  weakCorrect: boolean;
  strongCorrect: boolean;
  weakCostUsd: number;
  strongCostUsd: number;
  signals?: ResponseSignals | undefined;
}

/** What the router sees when it decides. */
export interface RoutingInput {
  prompt: string;
  /** The cheap response, for a cascade. */
  response?: string | undefined;
  signals?: ResponseSignals | undefined;
  /** Tokens of the whole request when the prompt is only part of it (default: the prompt's). */
  promptTokens?: number | undefined;
}

/** The operating point: where the threshold sits and what it reached on the training data. */
export interface OperatingPoint {
  /** Escalate when the score is at least this. */
  threshold: number;
  /** Target quality as a share of always-strong's accuracy, e.g. 0.95. */
  targetQuality: number;
  /** Added to the target on the training data, so that unseen prompts still reach it. */
  margin: number;
  /** On the training data (out of fold): quality reached, share escalated, dollars saved against always-strong. */
  trainQuality: number;
  trainEscalatedShare: number;
  trainSaving: number;
}

/** A fitted router, as stored in a file. */
export interface LearnedRouter {
  format: 'hataraku-learned-router';
  version: 1;
  /** `cascade`: decides after the cheap model answered; `route`: from the prompt alone. */
  kind: 'cascade' | 'route';
  answerFormat: AnswerFormat;
  /** P(cheap answer right | features). */
  weak: LogisticModel;
  /** P(strong answer right | prompt features). */
  strong: LogisticModel;
  /** Strong call cost ≈ fixedUsd + perTokenUsd × prompt tokens, fitted on the training data. */
  strongCost: { fixedUsd: number; perTokenUsd: number };
  /** `gain-per-dollar` (the default) or `gain` (ignores each prompt's cost). */
  objective: 'gain-per-dollar' | 'gain';
  operatingPoint: OperatingPoint;
  trainedOn: { examples: number; weakAccuracy: number; strongAccuracy: number };
}

/** Options of `trainRouter`. */
export interface TrainRouterOptions {
  kind: 'cascade' | 'route';
  answerFormat: AnswerFormat;
  /** Target quality as a share of always-strong's accuracy (default 0.95). */
  targetQuality?: number;
  /**
   * Safety margin added to the target on the training data: a number, or `auto` (the default):
   * 1.645 standard errors of the training accuracy, a one-sided 95 % allowance for the
   * difference between the training prompts and the next ones.
   */
  margin?: number | 'auto';
  objective?: 'gain-per-dollar' | 'gain';
  /** Seed of the fold assignment (default 1). */
  seed?: number;
  /** L2 penalty of the logistic regressions (default 1). */
  l2?: number;
}

const folds = 5;

/** Fit a router on `examples`. Throws a RangeError when there are too few to learn from. */
export function trainRouter(examples: readonly RoutingExample[], options: TrainRouterOptions): LearnedRouter {
  checkAnswerFormat(options.answerFormat);
  if (examples.length < folds * 2) {
    throw new RangeError(
      `trainRouter: need at least ${folds * 2} examples with both models' outcomes, got ${examples.length}.`,
    );
  }
  if (options.kind === 'cascade' && examples.some((example) => example.weakResponse === undefined)) {
    throw new RangeError(
      "trainRouter: a cascade learns from the cheap model's responses; every example needs weakResponse.",
    );
  }
  const targetQuality = options.targetQuality ?? 0.95;
  const objective = options.objective ?? 'gain-per-dollar';
  const l2 = options.l2 ?? 1;
  const base = { kind: options.kind, answerFormat: options.answerFormat, objective };
  const fitted = (train: readonly RoutingExample[]) => fitModels(train, base, l2);
  const full = fitted(examples);

  // Out-of-fold scores: what the router would have said about each training prompt unseen.
  const order = shuffledIndices(examples.length, options.seed ?? 1);
  const scores = new Array<number>(examples.length).fill(0);
  for (let fold = 0; fold < folds; fold += 1) {
    const held = new Set(order.filter((_, rank) => rank % folds === fold));
    const partial = fitted(examples.filter((_, index) => !held.has(index)));
    for (const index of held) scores[index] = scoreWith(partial, inputOf(examples[index] as RoutingExample));
  }
  const strongAccuracy = share(examples, (example) => example.strongCorrect);
  const margin =
    options.margin === undefined || options.margin === 'auto'
      ? (1.645 * Math.sqrt((strongAccuracy * (1 - strongAccuracy)) / examples.length)) / Math.max(strongAccuracy, 1e-9)
      : options.margin;
  const operatingPoint = chooseOperatingPoint(examples, scores, options.kind, targetQuality, margin);
  return {
    format: 'hataraku-learned-router',
    version: 1,
    ...full,
    operatingPoint,
    trainedOn: {
      examples: examples.length,
      weakAccuracy: share(examples, (example) => example.weakCorrect),
      strongAccuracy,
    },
  };
}

type FittedModels = Pick<LearnedRouter, 'kind' | 'answerFormat' | 'objective' | 'weak' | 'strong' | 'strongCost'>;

function fitModels(
  train: readonly RoutingExample[],
  base: Pick<LearnedRouter, 'kind' | 'answerFormat' | 'objective'>,
  l2: number,
): FittedModels {
  const partial = { ...base, weak: emptyModel(), strong: emptyModel(), strongCost: { fixedUsd: 0, perTokenUsd: 0 } };
  const weakRows = train.map((example) => featuresFor(partial, inputOf(example)));
  const promptRows = train.map((example) => promptFeatures(example.prompt));
  return {
    ...base,
    weak: fitLogisticRegression(
      weakRows,
      train.map((example) => example.weakCorrect),
      { l2 },
    ),
    strong: fitLogisticRegression(
      promptRows,
      train.map((example) => example.strongCorrect),
      { l2 },
    ),
    strongCost: fitCost(train),
  };
}

/** Least squares of the strong call's cost on the prompt's token count. */
function fitCost(train: readonly RoutingExample[]): { fixedUsd: number; perTokenUsd: number } {
  const tokens = train.map((example) => encode(example.prompt).length);
  const costs = train.map((example) => example.strongCostUsd);
  const meanTokens = tokens.reduce((total, value) => total + value, 0) / tokens.length;
  const meanCost = costs.reduce((total, value) => total + value, 0) / costs.length;
  let covariance = 0;
  let variance = 0;
  tokens.forEach((value, index) => {
    covariance += (value - meanTokens) * ((costs[index] ?? 0) - meanCost);
    variance += (value - meanTokens) ** 2;
  });
  const perTokenUsd = variance === 0 ? 0 : Math.max(0, covariance / variance);
  return { fixedUsd: meanCost - perTokenUsd * meanTokens, perTokenUsd };
}

/**
 * The router's score for one prompt: the higher, the more escalating it is worth. With the
 * `gain-per-dollar` objective, expected accuracy gain divided by the strong call's estimated cost.
 */
export function scoreRouting(router: FittedModels, input: RoutingInput): number {
  return scoreWith(router, input);
}

function scoreWith(router: FittedModels, input: RoutingInput): number {
  const weakRight = predictProbability(router.weak, featuresFor(router, input));
  const strongRight = predictProbability(router.strong, promptFeatures(input.prompt));
  const gain = strongRight - weakRight;
  if (router.objective === 'gain') return gain;
  const tokens = input.promptTokens ?? encode(input.prompt).length;
  const cost = Math.max(1e-9, router.strongCost.fixedUsd + router.strongCost.perTokenUsd * tokens);
  return gain / cost;
}

/** Whether to escalate (cascade) or send to the strong model (route), with the score. */
export function decideRouting(router: LearnedRouter, input: RoutingInput): { escalate: boolean; score: number } {
  const score = scoreWith(router, input);
  return { escalate: score >= router.operatingPoint.threshold, score };
}

function featuresFor(router: Pick<LearnedRouter, 'kind' | 'answerFormat'>, input: RoutingInput): number[] {
  const prompt = promptFeatures(input.prompt);
  if (router.kind === 'route') return prompt;
  return [...prompt, ...responseFeatures(input.prompt, input.response ?? '', router.answerFormat, input.signals)];
}

function inputOf(example: RoutingExample): RoutingInput {
  return { prompt: example.prompt, response: example.weakResponse, signals: example.signals };
}

/** One point of a replay: escalate the examples whose score reaches `threshold`. */
export interface RoutingOutcome {
  escalatedShare: number;
  accuracy: number;
  /** Accuracy as a share of always-strong's on the same examples. */
  quality: number;
  costPerPrompt: number;
  /** 1 − cost / always-strong's cost. */
  saving: number;
}

/** The outcome of escalating exactly the examples marked in `escalated`. */
export function routingOutcome(
  examples: readonly RoutingExample[],
  escalated: readonly boolean[],
  kind: 'cascade' | 'route',
): RoutingOutcome {
  let cost = 0;
  let correct = 0;
  let strongCost = 0;
  let strongCorrect = 0;
  let count = 0;
  examples.forEach((example, index) => {
    const toStrong = escalated[index] === true;
    count += toStrong ? 1 : 0;
    cost +=
      kind === 'cascade'
        ? example.weakCostUsd + (toStrong ? example.strongCostUsd : 0)
        : toStrong
          ? example.strongCostUsd
          : example.weakCostUsd;
    correct += (toStrong ? example.strongCorrect : example.weakCorrect) ? 1 : 0;
    strongCost += example.strongCostUsd;
    strongCorrect += example.strongCorrect ? 1 : 0;
  });
  const total = examples.length;
  return {
    escalatedShare: count / total,
    accuracy: correct / total,
    quality: strongCorrect === 0 ? 1 : correct / strongCorrect,
    costPerPrompt: cost / total,
    saving: strongCost === 0 ? 0 : 1 - cost / strongCost,
  };
}

/** Replay a fitted router on examples with known outcomes: what it escalates and what that reaches. */
export function replayRouter(router: LearnedRouter, examples: readonly RoutingExample[]): RoutingOutcome {
  const escalated = examples.map((example) => decideRouting(router, inputOf(example)).escalate);
  return routingOutcome(examples, escalated, router.kind);
}

/** Scores of `examples` under a fitted router (for curves). */
export function routingScores(router: FittedModels, examples: readonly RoutingExample[]): number[] {
  return examples.map((example) => scoreWith(router, inputOf(example)));
}

/**
 * The cheapest threshold whose outcome on `examples` reaches `targetQuality + margin` of
 * always-strong's accuracy; escalating everything when none does.
 */
export function chooseOperatingPoint(
  examples: readonly RoutingExample[],
  scores: readonly number[],
  kind: 'cascade' | 'route',
  targetQuality: number,
  margin: number,
): OperatingPoint {
  const distinct = [...new Set(scores)].sort((left, right) => right - left);
  const goal = targetQuality + margin;
  let chosen = Number.NEGATIVE_INFINITY;
  let outcome = routingOutcome(
    examples,
    examples.map(() => true),
    kind,
  );
  const none = routingOutcome(
    examples,
    examples.map(() => false),
    kind,
  );
  if (none.quality >= goal) {
    chosen = Number.POSITIVE_INFINITY;
    outcome = none;
  } else {
    for (const threshold of distinct) {
      const candidate = routingOutcome(
        examples,
        scores.map((score) => score >= threshold),
        kind,
      );
      if (candidate.quality >= goal) {
        chosen = threshold;
        outcome = candidate;
        break;
      }
    }
  }
  return {
    threshold: chosen,
    targetQuality,
    margin,
    trainQuality: outcome.quality,
    trainEscalatedShare: outcome.escalatedShare,
    trainSaving: outcome.saving,
  };
}

/** Check a parsed file is a learned router; a TypeError says what is wrong. */
export function parseLearnedRouter(value: unknown, source: string): LearnedRouter {
  const router = value as Partial<LearnedRouter> | null;
  if (router === null || typeof router !== 'object' || router.format !== 'hataraku-learned-router') {
    throw new TypeError(
      `${source} is not a learned router (expected "format": "hataraku-learned-router"); create one with \`hataraku routes train\`.`,
    );
  }
  if (router.version !== 1)
    throw new TypeError(`${source}: learned router version ${String(router.version)} is not supported (expected 1).`);
  if (router.kind !== 'cascade' && router.kind !== 'route')
    throw new TypeError(`${source}: "kind" must be "cascade" or "route".`);
  if (!router.weak || !router.strong || !router.strongCost || !router.operatingPoint || !router.answerFormat) {
    throw new TypeError(`${source}: the learned router is incomplete; train it again with \`hataraku routes train\`.`);
  }
  checkAnswerFormat(router.answerFormat);
  return router as LearnedRouter;
}

function emptyModel(): LogisticModel {
  return { weights: [0], means: [], deviations: [] };
}

function share<T>(items: readonly T[], test: (item: T) => boolean): number {
  return items.length === 0 ? 0 : items.filter(test).length / items.length;
}

/** A seeded shuffle (mulberry32 + Fisher–Yates) of 0..count-1. */
function shuffledIndices(count: number, seed: number): number[] {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    const swap = order[index] as number;
    order[index] = order[other] as number;
    order[other] = swap;
  }
  return order;
}
