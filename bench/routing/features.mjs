/**
 * What a router knows at run time, as numbers: features of the question alone (for a router that
 * decides before any call) and of the question plus the weak model's answer (for a cascade's
 * verifier). Nothing here reads a correctness label.
 */
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import {
  arithmeticClaims,
  evaluateArithmetic,
  finalAnswer,
  hedgePattern,
  parseNumber,
  questionNumbers,
} from './answer-checks.mjs';

const numberPattern = /-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+/g;

/** The rule-based verifier's checks on one weak answer: each is true when the check FAILS. */
export function failedChecks(response) {
  const final = finalAnswer(response);
  const claims = arithmeticClaims(response);
  const value = final.markerValue ?? final.lastNumber;
  const lastClaim = claims.at(-1);
  const lastClaimValue = lastClaim === undefined ? undefined : evaluateArithmetic(lastClaim.expression);
  return {
    noFinalMarker: final.markerCount === 0,
    wrongArithmetic: claims.some((claim) => claim.verdict === 'wrong'),
    nonIntegerAnswer: value !== undefined && !Number.isInteger(value),
    negativeAnswer: value !== undefined && value < 0,
    hedging: (response.match(hedgePattern) ?? []).length > 0,
    // The final answer should be what the working last computed (allowing a rounded statement).
    answerNotLastResult:
      final.markerValue !== undefined &&
      lastClaimValue !== undefined &&
      Math.abs(lastClaimValue - final.markerValue) > Math.max(1, Math.abs(lastClaimValue) * 0.005),
  };
}

/** Names of the features `promptFeatures` returns, in order. */
export const promptFeatureNames = [
  'question tokens (log)',
  'numbers in question',
  'distinct numbers in question',
  'question has %',
  'question has a fraction a/b',
  'question has a decimal',
  'question has $',
  'question sentences',
  'question has "percent|ratio|average|rate"',
  'question has "each|every|per"',
  'question has "twice|half|times|double|triple"',
  'largest number in question (log10)',
];

/** Features of the question alone. */
export function promptFeatures(question) {
  const numbers = questionNumbers(question);
  const largest = numbers.reduce((maximum, value) => Math.max(maximum, Math.abs(value)), 0);
  return [
    Math.log(1 + encode(question).length),
    numbers.length,
    new Set(numbers).size,
    /%/.test(question) ? 1 : 0,
    /\d\s*\/\s*\d/.test(question) ? 1 : 0,
    /\d\.\d/.test(question) ? 1 : 0,
    /\$/.test(question) ? 1 : 0,
    question.split(/[.?!](?:\s|$)/).filter((part) => part.trim() !== '').length,
    /\b(percent|ratio|average|rate)\b/i.test(question) ? 1 : 0,
    /\b(each|every|per)\b/i.test(question) ? 1 : 0,
    /\b(twice|half|times|double|triple)\b/i.test(question) ? 1 : 0,
    Math.log10(1 + largest),
  ];
}

/** Names of the features `answerFeatures` adds to the prompt's, in order. */
export const answerFeatureNames = [
  'check failed: no "#### N" final answer',
  'check failed: a wrong arithmetic claim',
  'check failed: non-integer final answer',
  'check failed: negative final answer',
  'check failed: hedging words',
  'check failed: final answer is not the last computed result',
  'checks failed (count)',
  'wrong arithmetic claims (count)',
  'rounded arithmetic claims (count)',
  'arithmetic claims (count)',
  'calculator annotations <<…>> (count)',
  'more than one "####"',
  'text after the final answer',
  'hedging words (count)',
  'response tokens (log)',
  'response lines',
  'share of question numbers used in the response',
  'final answer is a number in the question',
  'final answer magnitude (log10)',
  'numbers in the response from neither the question nor a computed result',
];

/** Features of the question and the weak model's answer, for a cascade's verifier. */
export function answerFeatures(question, response) {
  const checks = failedChecks(response);
  const claims = arithmeticClaims(response);
  const final = finalAnswer(response);
  const value = final.markerValue ?? final.lastNumber;
  const asked = questionNumbers(question);
  const responseNumbers = (response.match(numberPattern) ?? [])
    .map((text) => parseNumber(text))
    .filter((number) => number !== undefined);
  const responseSet = new Set(responseNumbers.map(Math.abs));
  const used =
    asked.length === 0 ? 1 : asked.filter((number) => responseSet.has(Math.abs(number))).length / asked.length;
  const explained = new Set([...asked.map(Math.abs)]);
  for (const claim of claims) {
    const computed = evaluateArithmetic(claim.expression);
    if (computed !== undefined) explained.add(Math.abs(computed));
    const claimed = parseNumber(claim.claimed.replace(/%$/, ''));
    if (claimed !== undefined) explained.add(Math.abs(claimed));
  }
  const unexplained = responseNumbers.filter((number) => !explained.has(Math.abs(number))).length;
  return [
    ...Object.values(checks).map((failed) => (failed ? 1 : 0)),
    Object.values(checks).filter(Boolean).length,
    claims.filter((claim) => claim.verdict === 'wrong').length,
    claims.filter((claim) => claim.verdict === 'rounded').length,
    claims.length,
    (response.match(/<<[^<>]*>>/g) ?? []).length,
    final.markerCount > 1 ? 1 : 0,
    final.textAfterMarker !== '' ? 1 : 0,
    (response.match(hedgePattern) ?? []).length,
    Math.log(1 + encode(response).length),
    response
      .trim()
      .split('\n')
      .filter((line) => line.trim() !== '').length,
    used,
    value !== undefined && asked.some((number) => number === value) ? 1 : 0,
    value === undefined ? 0 : Math.log10(1 + Math.abs(value)),
    Math.log(1 + unexplained),
  ];
}
