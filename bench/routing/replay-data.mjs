/**
 * The replay data: RouteLLM's GSM8K responses, each priced for both models, and a fixed seeded
 * train/test split.
 */
import { readFileSync } from 'node:fs';
import { parseCsvWithHeader } from './csv.mjs';
import { callCost, inputTokensFor, outputTokensFor, pricedModels } from './pricing.mjs';

const weakColumn = 'mistralai/Mixtral-8x7B-Instruct-v0.1';
const strongColumn = 'gpt-4-1106-preview';

/**
 * One GSM8K prompt with both models' answers. `correct` is the dataset's label (RouteLLM's
 * grader: the last integer in the response equals the reference answer); routers never see it.
 *
 * @typedef {{ response: string, correct: boolean, inputTokens: number, outputTokens: number, costUsd: number }} ModelAnswer
 * @typedef {{ index: number, question: string, weak: ModelAnswer, strong: ModelAnswer }} ReplayItem
 */

function parseLabel(text, row, column) {
  if (text === 'True') return true;
  if (text === 'False') return false;
  throw new SyntaxError(`row ${row}: column ${column} is ${JSON.stringify(text)}, expected True or False`);
}

function answerOf(model, question, response, correct) {
  const inputTokens = inputTokensFor(question);
  const outputTokens = outputTokensFor(response);
  return { response, correct, inputTokens, outputTokens, costUsd: callCost(model, inputTokens, outputTokens) };
}

/** Load and price every row of the CSV at `path`. */
export function loadReplay(path) {
  const { columns, rows } = parseCsvWithHeader(readFileSync(path, 'utf8'));
  for (const name of ['prompt', weakColumn, strongColumn, `${weakColumn}_response`, `${strongColumn}_response`]) {
    if (!columns.includes(name)) throw new SyntaxError(`${path}: missing column ${JSON.stringify(name)}`);
  }
  return rows.map((row, index) => ({
    index,
    question: row.prompt,
    weak: answerOf(
      pricedModels.weak,
      row.prompt,
      row[`${weakColumn}_response`],
      parseLabel(row[weakColumn], index, weakColumn),
    ),
    strong: answerOf(
      pricedModels.strong,
      row.prompt,
      row[`${strongColumn}_response`],
      parseLabel(row[strongColumn], index, strongColumn),
    ),
  }));
}

/** mulberry32: a small seeded PRNG, so that splits and random mixes are reproducible. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded shuffle (Fisher–Yates) of a copy of `items`. */
export function shuffled(items, seed) {
  const random = seededRandom(seed);
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

/** Split `items` into train and test by a seeded shuffle; `trainFraction` of them train. */
export function splitTrainTest(items, seed, trainFraction) {
  const order = shuffled(items, seed);
  const trainSize = Math.round(order.length * trainFraction);
  const byIndex = (left, right) => left.index - right.index;
  return { train: order.slice(0, trainSize).sort(byIndex), test: order.slice(trainSize).sort(byIndex) };
}
