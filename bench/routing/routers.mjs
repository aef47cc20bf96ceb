/**
 * The routers under test. Each one turns a prompt (and, for a cascade, the weak model's answer)
 * into a score: the higher, the more the prompt needs the strong model. A router that learns is
 * fitted on the train split only; `trainScores` gives the scores a deployment would have seen on
 * its own train data (out-of-fold for learned routers), to pick a threshold before the test.
 */
import { fitLogisticRegression } from './logistic-regression.mjs';
import { shuffled } from './replay-data.mjs';

/**
 * Hand-set severity of each failed check, fixed before looking at results: a non-integer final
 * answer (GSM8K answers are whole numbers) or a false arithmetic claim is close to proof of a
 * wrong answer; a missing final answer or a negative one is strong evidence; hedging is a hint;
 * an answer that differs from the last computed value is the weakest sign (models often finish
 * with a step they do not write as an equation).
 */
export const checkWeights = {
  nonIntegerAnswer: 4,
  wrongArithmetic: 4,
  noFinalMarker: 3,
  negativeAnswer: 3,
  hedging: 2,
  answerNotLastResult: 1,
};

const foldCount = 5;

/** Scores of `train` from models fitted on the other folds, so none scores its own examples. */
function outOfFoldScores(train, fitAndScore, seed) {
  const scores = new Array(train.length);
  const order = shuffled(
    train.map((_, position) => position),
    seed,
  );
  for (let fold = 0; fold < foldCount; fold += 1) {
    const held = new Set(order.filter((_, rank) => rank % foldCount === fold));
    const fitted = fitAndScore(train.filter((_, position) => !held.has(position)));
    for (const position of held) scores[position] = fitted(train[position]);
  }
  return scores;
}

/** A logistic-regression scorer over `featuresOf`, trained to predict a correct weak answer. */
function learnedScorer(featuresOf, l2) {
  return (train) => {
    const model = fitLogisticRegression(
      train.map(featuresOf),
      train.map((item) => item.weak.correct),
      { l2 },
    );
    return (item) => 1 - model.predict(featuresOf(item));
  };
}

/**
 * @typedef {{ name: string, kind: 'cascade' | 'route', learned: boolean, uses: string,
 *   fit: (train: object[], seed: number) => { score: (item: object) => number, trainScores: number[] } }} Router
 */

/** @type {Router[]} */
export const routers = [
  {
    name: 'cascade, rule-based verifier',
    kind: 'cascade',
    learned: false,
    uses: "the weak answer's text (final-answer format, arithmetic re-checked, hedging) and the question",
    fit(train) {
      const score = (item) =>
        Object.entries(item.checks).reduce((sum, [name, failed]) => sum + (failed ? checkWeights[name] : 0), 0);
      return { score, trainScores: train.map(score) };
    },
  },
  {
    name: 'cascade, learned verifier (logistic regression)',
    kind: 'cascade',
    learned: true,
    uses: 'features of the question and of the weak answer (the rule checks among them)',
    fit(train, seed) {
      const fitAndScore = learnedScorer((item) => [...item.promptFeatures, ...item.answerFeatures], 1);
      return { score: fitAndScore(train), trainScores: outOfFoldScores(train, fitAndScore, seed) };
    },
  },
  {
    name: 'router, prompt only (logistic regression)',
    kind: 'route',
    learned: true,
    uses: 'features of the question only; decides before any call',
    fit(train, seed) {
      const fitAndScore = learnedScorer((item) => item.promptFeatures, 1);
      return { score: fitAndScore(train), trainScores: outOfFoldScores(train, fitAndScore, seed) };
    },
  },
];

/** Not a router: escalates exactly the prompts the weak model got wrong, using the labels. */
export const oracleCascade = {
  name: 'oracle cascade (reads the labels; a bound, not a router)',
  kind: 'cascade',
  score: (item) => (item.weak.correct ? 0 : 1),
};
