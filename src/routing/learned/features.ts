/**
 * What a learned router knows when it decides, as numbers: features of the prompt alone (for a
 * router that decides before any call) and of the prompt plus the cheap model's response (for a
 * cascade's verifier). Every answer-dependent feature reads the answer through the task's
 * `AnswerFormat`; nothing here knows a data set's layout, and nothing reads a correctness label.
 */
import { type AnswerFormat, extractAnswer } from './answer-format.js';
import { arithmeticClaims, evaluateArithmetic, numbersIn, parseNumber } from './arithmetic-claims.js';
import { countTokens } from './token-count.js';

/** Signals about a response that only some providers or settings give. */
export interface ResponseSignals {
  /**
   * The cheap model's own confidence: the mean log-probability of its answer's tokens (≤ 0),
   * where the provider returns log-probabilities.
   */
  meanLogProbability?: number | undefined;
  /** Agreement of k cheap samples on the answer: the share that agree with the most common one (0–1). */
  sampleAgreement?: number | undefined;
}

/** Words by which an answer admits doubt. */
const hedgePattern =
  /\b(however|approximately|approx|assum\w*|round(?:ed|ing)?|estimate\w*|not (?:possible|enough|clear|specified|given)|cannot|can't|impossible|unclear|ambiguous|actually|wait|mistake|re-?evaluate|let's re-?|recalculate|not sure|might|perhaps|probably)\b/gi;

/** Names of `promptFeatures`, in order. */
export const promptFeatureNames = [
  'prompt tokens (log)',
  'numbers in prompt',
  'distinct numbers in prompt',
  'prompt has %',
  'prompt has a fraction a/b',
  'prompt has a decimal',
  'prompt has a currency sign',
  'prompt sentences',
  'prompt offers lettered options',
  'largest number in prompt (log10)',
] as const;

/** Features of the prompt alone. */
export function promptFeatures(prompt: string): number[] {
  const numbers = numbersIn(prompt);
  const largest = numbers.reduce((maximum, value) => Math.max(maximum, Math.abs(value)), 0);
  return [
    Math.log(1 + countTokens(prompt)),
    numbers.length,
    new Set(numbers).size,
    /%/.test(prompt) ? 1 : 0,
    /\d\s*\/\s*\d/.test(prompt) ? 1 : 0,
    /\d\.\d/.test(prompt) ? 1 : 0,
    /[$€£¥]/.test(prompt) ? 1 : 0,
    prompt.split(/[.?!](?:\s|$)/).filter((part) => part.trim() !== '').length,
    /(^|\n)\s*\(?[A-D][).:]\s/.test(prompt) ? 1 : 0,
    Math.log10(1 + largest),
  ];
}

/** Names of `responseFeatures`, in order. */
export const responseFeatureNames = [
  'no answer found',
  'answer not in the stated form',
  'answer malformed for its format',
  'several different answers stated',
  'text after the stated answer',
  'negative numeric answer',
  'a wrong arithmetic claim',
  'wrong arithmetic claims (count)',
  'rounded arithmetic claims (count)',
  'arithmetic claims (count)',
  'answer differs from the last computed result',
  'answer is the result of a computation in the working',
  'hedging words (count)',
  'response tokens (log)',
  'response lines',
  'share of prompt numbers used in the response',
  'answer is a number from the prompt',
  'answer magnitude (log10)',
  'numbers from neither the prompt nor a computation (log)',
  'mean log-probability (0 when not given)',
  'log-probabilities given',
  'sample agreement (1 when not sampled)',
] as const;

/** Features of the cheap model's response to `prompt`. */
export function responseFeatures(
  prompt: string,
  response: string,
  format: AnswerFormat,
  signals: ResponseSignals = {},
): number[] {
  const answer = extractAnswer(response, format);
  const claims = arithmeticClaims(response);
  const lastClaim = claims.at(-1);
  const lastComputed = lastClaim === undefined ? undefined : evaluateArithmetic(lastClaim.expression);
  const asked = numbersIn(prompt);
  const written = numbersIn(response);
  const writtenSet = new Set(written.map(Math.abs));
  const used = asked.length === 0 ? 1 : asked.filter((value) => writtenSet.has(Math.abs(value))).length / asked.length;
  const explained = new Set(asked.map(Math.abs));
  for (const claim of claims) {
    const computed = evaluateArithmetic(claim.expression);
    if (computed !== undefined) explained.add(Math.abs(computed));
    const claimed = parseNumber(claim.claimed.replace(/%$/, ''));
    if (claimed !== undefined) explained.add(Math.abs(claimed));
  }
  const unexplained = written.filter((value) => !explained.has(Math.abs(value))).length;
  const wrong = claims.filter((claim) => claim.verdict === 'wrong').length;
  const value = answer.number;
  return [
    answer.value === undefined ? 1 : 0,
    answer.explicit ? 0 : 1,
    answer.malformed ? 1 : 0,
    answer.distinctStated > 1 ? 1 : 0,
    answer.textAfter ? 1 : 0,
    value !== undefined && value < 0 ? 1 : 0,
    wrong > 0 ? 1 : 0,
    wrong,
    claims.filter((claim) => claim.verdict === 'rounded').length,
    claims.length,
    value !== undefined &&
    lastComputed !== undefined &&
    Math.abs(lastComputed - value) > Math.max(1, Math.abs(lastComputed) * 0.005)
      ? 1
      : 0,
    value !== undefined &&
    claims.some((claim) => {
      const computed = evaluateArithmetic(claim.expression);
      return computed !== undefined && Math.abs(computed - value) <= Math.max(1e-9, Math.abs(value) * 1e-6);
    })
      ? 1
      : 0,
    (response.match(hedgePattern) ?? []).length,
    Math.log(1 + countTokens(response)),
    response.split('\n').filter((line) => line.trim() !== '').length,
    used,
    value !== undefined && asked.includes(value) ? 1 : 0,
    value === undefined ? 0 : Math.log10(1 + Math.abs(value)),
    Math.log(1 + unexplained),
    signals.meanLogProbability ?? 0,
    signals.meanLogProbability === undefined ? 0 : 1,
    signals.sampleAgreement ?? 1,
  ];
}

/**
 * Self-consistency: of k sampled responses, the share whose answer (read through `format`)
 * equals the most common answer; a response with no answer never agrees. 1 for one sample.
 */
export function sampleAgreement(responses: readonly string[], format: AnswerFormat): number {
  if (responses.length === 0) throw new RangeError('sampleAgreement: give at least one response.');
  const counts = new Map<string, number>();
  for (const response of responses) {
    const value = extractAnswer(response, format).value;
    if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const most = Math.max(0, ...counts.values());
  return most / responses.length;
}
