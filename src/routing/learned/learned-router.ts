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
import { type AnswerFormat, checkAnswerFormat } from './answer-format.js';
import { type BoostedStumps, fitBoostedStumps, predictBoostedStumps } from './boosted-stumps.js';
import { promptFeatures, type ResponseSignals, responseFeatures } from './features.js';
import { fitLogisticRegression, type LogisticModel, predictProbability } from './logistic-regression.js';
import { countTokens } from './token-count.js';

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
  /** Tokens of the whole prompt when `prompt` holds only part of it (default: the prompt's). */
  promptTokens?: number | undefined;
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
  /**
   * How far above the target the training data had to be: with a fixed margin, that margin;
   * with the bootstrap (`auto`), the training quality at the chosen point minus the target.
   */
  margin: number;
  /** `bootstrap`: the lower confidence bound of the quality reached on resamples; `fixed`: a set margin. */
  method?: 'bootstrap' | 'fixed' | undefined;
  /** For `bootstrap`: the one-sided confidence that a deployment reaches the target. */
  confidence?: number | undefined;
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
  /**
   * Boosted stumps for P(cheap answer right), when present: the estimate is the mean of this
   * and the logistic regression (splits and interactions the straight line misses).
   */
  weakBoosted?: BoostedStumps | undefined;
  /** P(strong answer right | prompt features). */
  strong: LogisticModel;
  /** Strong call cost ≈ fixedUsd + perTokenUsd × prompt tokens, fitted on the training data. */
  strongCost: { fixedUsd: number; perTokenUsd: number };
  /**
   * The cross-validation fold models, when present: the score is their mean, so a deployment
   * scores prompts with the same models whose out-of-fold scores placed the operating point.
   * Without it (older files) the models above, fitted on all the examples, score alone.
   */
  ensemble?: EnsembleMember[] | undefined;
  /** `gain-per-dollar` (the default) or `gain` (ignores each prompt's cost). */
  objective: 'gain-per-dollar' | 'gain';
  operatingPoint: OperatingPoint;
  trainedOn: { examples: number; weakAccuracy: number; strongAccuracy: number };
}

/** One cross-validation fold's models. */
export interface EnsembleMember {
  weak: LogisticModel;
  weakBoosted?: BoostedStumps | undefined;
  strong: LogisticModel;
}

/** Options of `trainRouter`. */
export interface TrainRouterOptions {
  kind: 'cascade' | 'route';
  answerFormat: AnswerFormat;
  /** Target quality as a share of always-strong's accuracy (default 0.95). */
  targetQuality?: number;
  /**
   * How the operating point allows for the next prompts differing from the training ones.
   * `auto` (the default): a bootstrap of the out-of-fold outcomes; the cheapest threshold whose
   * quality reaches the target on `confidence` of the resamples. A number: a fixed margin added
   * to the target on the training data.
   */
  margin?: number | 'auto';
  /** For `auto`: the one-sided confidence of reaching the target (default 0.9). */
  confidence?: number;
  /** For `auto`: bootstrap resamples (default 400). */
  resamples?: number;
  /**
   * For `auto`: how many prompts the deployment's quality is measured over (default: as many as
   * the training examples). The bound allows for both the training set's noise and that set's:
   * a long deployment (a large number) leaves only the training set's.
   */
  deploymentSize?: number;
  /**
   * `folds` (the default): deploy the mean of the cross-validation fold models, the models whose
   * out-of-fold scores placed the threshold; `full`: one model fitted on all the examples.
   */
  deploy?: 'folds' | 'full';
  objective?: 'gain-per-dollar' | 'gain';
  /** Seed of the fold assignment (default 1). */
  seed?: number;
  /**
   * L2 penalty of the logistic regressions: a number, or `auto` (the default), chosen per model
   * from 0.3–100 by out-of-fold log-loss on the training data.
   */
  l2?: number | 'auto';
  /**
   * The model of P(cheap answer right): `blend` (the default), the mean of a logistic
   * regression and boosted stumps; `logistic`, the regression alone.
   */
  weakModel?: 'blend' | 'logistic';
}

const folds = 5;

/** The fewest examples `trainRouter` learns from: two per cross-validation fold. */
export const minimumTrainingExamples = folds * 2;

/** Fit a router on `examples`. Throws a RangeError when there are too few to learn from. */
export function trainRouter(examples: readonly RoutingExample[], options: TrainRouterOptions): LearnedRouter {
  checkAnswerFormat(options.answerFormat);
  if (examples.length < minimumTrainingExamples) {
    throw new RangeError(
      `trainRouter: need at least ${minimumTrainingExamples} examples with both models' outcomes, got ${examples.length}.`,
    );
  }
  if (options.kind === 'cascade' && examples.some((example) => example.weakResponse === undefined)) {
    throw new RangeError(
      "trainRouter: a cascade learns from the cheap model's responses; every example needs weakResponse.",
    );
  }
  const targetQuality = options.targetQuality ?? 0.95;
  const objective = options.objective ?? 'gain-per-dollar';
  const base = { kind: options.kind, answerFormat: options.answerFormat, objective };
  const weakModel = options.weakModel ?? 'blend';
  const rows: TrainingRows = {
    examples,
    weak: examples.map((example) => featuresFor(base, inputOf(example))),
    prompt: examples.map((example) => promptFeatures(example.prompt)),
  };
  // Fold of each example: the same folds choose the penalties and score out of fold.
  const foldOf = new Array<number>(examples.length).fill(0);
  shuffledIndices(examples.length, options.seed ?? 1).forEach((index, rank) => {
    foldOf[index] = rank % folds;
  });
  const l2 = options.l2 ?? 'auto';
  const penalties =
    l2 === 'auto'
      ? {
          weak: chooseL2(
            rows.weak,
            examples.map((example) => example.weakCorrect),
            foldOf,
          ),
          strong: chooseL2(
            rows.prompt,
            examples.map((example) => example.strongCorrect),
            foldOf,
          ),
        }
      : { weak: l2, strong: l2 };
  const fitted = (indices: readonly number[]) => fitModels(rows, indices, base, penalties, weakModel);
  const full = fitted(examples.map((_, index) => index));

  // Out-of-fold scores: what the router would have said about each training prompt unseen.
  const scores = new Array<number>(examples.length).fill(0);
  const members: FittedModels[] = [];
  for (let fold = 0; fold < folds; fold += 1) {
    const partial = fitted(foldOf.flatMap((value, index) => (value === fold ? [] : [index])));
    members.push(partial);
    foldOf.forEach((value, index) => {
      if (value === fold) scores[index] = scoreWith(partial, inputOf(examples[index] as RoutingExample));
    });
  }
  const strongAccuracy = share(examples, (example) => example.strongCorrect);
  const margin = options.margin ?? 'auto';
  const operatingPoint =
    margin === 'auto'
      ? bootstrapOperatingPoint(examples, scores, options.kind, targetQuality, {
          confidence: options.confidence ?? 0.9,
          resamples: options.resamples ?? 400,
          deploymentSize: options.deploymentSize ?? examples.length,
          seed: options.seed ?? 1,
        })
      : { ...chooseOperatingPoint(examples, scores, options.kind, targetQuality, margin), method: 'fixed' as const };
  const ensemble =
    (options.deploy ?? 'folds') === 'folds'
      ? members.map((member) => ({
          weak: member.weak,
          strong: member.strong,
          ...(member.weakBoosted === undefined ? {} : { weakBoosted: member.weakBoosted }),
        }))
      : undefined;
  return {
    format: 'hataraku-learned-router',
    version: 1,
    ...full,
    ...(ensemble === undefined ? {} : { ensemble }),
    operatingPoint,
    trainedOn: {
      examples: examples.length,
      weakAccuracy: share(examples, (example) => example.weakCorrect),
      strongAccuracy,
    },
  };
}

type FittedModels = Pick<
  LearnedRouter,
  'kind' | 'answerFormat' | 'objective' | 'weak' | 'weakBoosted' | 'strong' | 'strongCost'
>;

/** Features of every training example, computed once and shared by all the fits. */
interface TrainingRows {
  examples: readonly RoutingExample[];
  weak: number[][];
  prompt: number[][];
}

function fitModels(
  rows: TrainingRows,
  indices: readonly number[],
  base: Pick<LearnedRouter, 'kind' | 'answerFormat' | 'objective'>,
  penalties: { weak: number; strong: number },
  weakModel: 'blend' | 'logistic',
): FittedModels {
  const train = indices.map((index) => rows.examples[index] as RoutingExample);
  const weakRows = indices.map((index) => rows.weak[index] ?? []);
  const weakLabels = train.map((example) => example.weakCorrect);
  return {
    ...base,
    ...(weakModel === 'blend' ? { weakBoosted: fitBoostedStumps(weakRows, weakLabels) } : {}),
    weak: fitLogisticRegression(weakRows, weakLabels, { l2: penalties.weak }),
    strong: fitLogisticRegression(
      indices.map((index) => rows.prompt[index] ?? []),
      train.map((example) => example.strongCorrect),
      { l2: penalties.strong },
    ),
    strongCost: fitCost(train),
  };
}

/** Candidate L2 penalties for `l2: 'auto'`. */
const penaltyGrid = [0.3, 1, 3, 10, 30, 100] as const;

/** The penalty of the grid with the least out-of-fold log-loss (on the training data only). */
function chooseL2(rows: readonly (readonly number[])[], labels: readonly boolean[], foldOf: readonly number[]): number {
  let best: { l2: number; loss: number } | undefined;
  // From the strongest penalty down, each fold's fit starts from its fit at the previous one.
  const previous = new Array<number[] | undefined>(folds).fill(undefined);
  for (const l2 of [...penaltyGrid].reverse()) {
    let loss = 0;
    for (let fold = 0; fold < folds; fold += 1) {
      const inside = rows.flatMap((_, index) => (foldOf[index] === fold ? [] : [index]));
      const model = fitLogisticRegression(
        inside.map((index) => rows[index] ?? []),
        inside.map((index) => labels[index] === true),
        { l2, initialWeights: previous[fold] },
      );
      previous[fold] = model.weights;
      rows.forEach((row, index) => {
        if (foldOf[index] !== fold) return;
        const probability = Math.min(1 - 1e-6, Math.max(1e-6, predictProbability(model, row)));
        loss -= Math.log(labels[index] === true ? probability : 1 - probability);
      });
    }
    if (best === undefined || loss < best.loss - 1e-9) best = { l2, loss };
  }
  return best?.l2 ?? 1;
}

/** Least squares of the strong call's cost on the prompt's token count. */
function fitCost(train: readonly RoutingExample[]): { fixedUsd: number; perTokenUsd: number } {
  const tokens = train.map((example) => example.promptTokens ?? countTokens(example.prompt));
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
export function scoreRouting(router: FittedModels & Pick<LearnedRouter, 'ensemble'>, input: RoutingInput): number {
  return scoreWith(router, input);
}

function scoreWith(router: FittedModels & Pick<LearnedRouter, 'ensemble'>, input: RoutingInput): number {
  const features = featuresFor(router, input);
  const prompt = promptFeatures(input.prompt);
  const models = router.ensemble ?? [router];
  let gain = 0;
  for (const model of models) {
    gain += predictProbability(model.strong, prompt) - weakProbability(model, features);
  }
  gain /= models.length;
  if (router.objective === 'gain') return gain;
  const tokens = input.promptTokens ?? countTokens(input.prompt);
  const cost = Math.max(1e-9, router.strongCost.fixedUsd + router.strongCost.perTokenUsd * tokens);
  return gain / cost;
}

function weakProbability(model: EnsembleMember, features: readonly number[]): number {
  const logistic = predictProbability(model.weak, features);
  return model.weakBoosted === undefined
    ? logistic
    : (logistic + predictBoostedStumps(model.weakBoosted, features)) / 2;
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
  return {
    prompt: example.prompt,
    response: example.weakResponse,
    signals: example.signals,
    promptTokens: example.promptTokens,
  };
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
export function routingScores(
  router: FittedModels & Pick<LearnedRouter, 'ensemble'>,
  examples: readonly RoutingExample[],
): number[] {
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

/**
 * The operating point by bootstrap: escalating the examples in order of score, the cheapest
 * prefix whose quality (accuracy as a share of always-strong's) reaches `targetQuality` on at
 * least `confidence` of `resamples` bootstrap resamples of the out-of-fold outcomes, and at every
 * larger prefix too (so one lucky dip in the curve does not place it). A resample stands for the
 * quality the next `deploymentSize` prompts may reach: each resample draws n·m/(n + m) of the n
 * examples, so its spread is that of the training set's estimate (n) and of the deployment's own
 * sample (m) together. The quality varies only through the prompts on which the two models
 * disagree, which a margin on the strong model's accuracy alone misjudges.
 */
export function bootstrapOperatingPoint(
  examples: readonly RoutingExample[],
  scores: readonly number[],
  kind: 'cascade' | 'route',
  targetQuality: number,
  settings: { confidence: number; resamples: number; seed: number; deploymentSize?: number | undefined },
): OperatingPoint {
  const count = examples.length;
  const deploymentSize = settings.deploymentSize ?? count;
  if (!(settings.confidence > 0 && settings.confidence < 1) || !(deploymentSize >= 1) || !(settings.resamples >= 1)) {
    throw new RangeError(
      'bootstrapOperatingPoint: confidence must be between 0 and 1, resamples and deploymentSize at least 1.',
    );
  }
  const draws = Math.max(1, Math.round((count * deploymentSize) / (count + deploymentSize)));
  const byScore = Array.from({ length: count }, (_, index) => index).sort(
    (left, right) => (scores[right] ?? 0) - (scores[left] ?? 0),
  );
  const value = (flag: boolean): number => (flag ? 1 : 0);
  const random = seededRandom(settings.seed * 7919 + 17);
  // qualities[k]: the resamples' qualities when escalating the k best-scored examples.
  const qualities = Array.from({ length: count + 1 }, () => new Array<number>(settings.resamples).fill(0));
  for (let resample = 0; resample < settings.resamples; resample += 1) {
    const weights = new Array<number>(count).fill(0);
    for (let draw = 0; draw < draws; draw += 1) {
      const index = Math.floor(random() * count);
      weights[index] = (weights[index] ?? 0) + 1;
    }
    let strong = 0;
    let correct = 0;
    for (let index = 0; index < count; index += 1) {
      const example = examples[index] as RoutingExample;
      strong += (weights[index] ?? 0) * value(example.strongCorrect);
      correct += (weights[index] ?? 0) * value(example.weakCorrect);
    }
    const quality = (): number => (strong === 0 ? 1 : correct / strong);
    (qualities[0] as number[])[resample] = quality();
    byScore.forEach((index, rank) => {
      const example = examples[index] as RoutingExample;
      correct += (weights[index] ?? 0) * (value(example.strongCorrect) - value(example.weakCorrect));
      (qualities[rank + 1] as number[])[resample] = quality();
    });
  }
  const lowerBound = qualities.map((values) => {
    const sorted = [...values].sort((left, right) => left - right);
    return sorted[Math.min(sorted.length - 1, Math.floor((1 - settings.confidence) * sorted.length))] ?? 0;
  });
  // The smallest prefix from which every larger one reaches the target at that confidence.
  let chosenPrefix = count;
  for (let prefix = count; prefix >= 0; prefix -= 1) {
    if ((lowerBound[prefix] ?? 0) < targetQuality) break;
    chosenPrefix = prefix;
  }
  const rankedScore = (rank: number): number => scores[byScore[rank] ?? 0] ?? 0;
  const threshold =
    chosenPrefix === 0
      ? Number.POSITIVE_INFINITY
      : chosenPrefix === count
        ? Number.NEGATIVE_INFINITY
        : (rankedScore(chosenPrefix - 1) + rankedScore(chosenPrefix)) / 2;
  const escalated = new Array<boolean>(count).fill(false);
  for (let rank = 0; rank < chosenPrefix; rank += 1) escalated[byScore[rank] ?? 0] = true;
  const outcome = routingOutcome(examples, escalated, kind);
  return {
    threshold,
    targetQuality,
    margin: outcome.quality - targetQuality,
    method: 'bootstrap',
    confidence: settings.confidence,
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
  if (
    router.ensemble !== undefined &&
    (!Array.isArray(router.ensemble) ||
      router.ensemble.length === 0 ||
      router.ensemble.some((member) => !member?.weak || !member.strong))
  ) {
    throw new TypeError(`${source}: "ensemble" must list fold models with "weak" and "strong"; train it again.`);
  }
  checkAnswerFormat(router.answerFormat);
  return router as LearnedRouter;
}

function share<T>(items: readonly T[], test: (item: T) => boolean): number {
  return items.length === 0 ? 0 : items.filter(test).length / items.length;
}

/** mulberry32: a small seeded generator of numbers in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded shuffle (mulberry32 + Fisher–Yates) of 0..count-1. */
function shuffledIndices(count: number, seed: number): number[] {
  const random = seededRandom(seed);
  const order = Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    const swap = order[index] as number;
    order[index] = order[other] as number;
    order[other] = swap;
  }
  return order;
}
