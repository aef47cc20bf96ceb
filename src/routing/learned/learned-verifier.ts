/**
 * A fitted cascade router as a cascade `Verifier`: the cheap model's final answer is accepted
 * unless the router says escalating it is worth its price. A turn of tool calls is not a final
 * answer and is left to the other verifiers (e.g. `valid-tool-call`).
 */
import { userContentText } from '../../models/message-content.js';
import type { ModelRequest } from '../../models/spec.js';
import type { Verifier } from '../verifiers.js';
import { decideRouting, type LearnedRouter } from './learned-router.js';
import { countTokens } from './token-count.js';

/** Create the `learned` verifier from a fitted cascade router. */
export function learnedVerifier(router: LearnedRouter): Verifier {
  if (router.kind !== 'cascade') {
    throw new TypeError(
      'learnedVerifier: the router was trained as "route"; a cascade needs one trained as "cascade".',
    );
  }
  return function verifyLearned(response, request) {
    if (response.toolCalls.length > 0) return { accept: true, reason: 'learned: not a final answer' };
    const prompt = lastUserText(request);
    const decision = decideRouting(router, {
      prompt,
      response: response.text,
      promptTokens: requestTokens(request),
    });
    const score = decision.score.toPrecision(3);
    return decision.escalate
      ? {
          accept: false,
          reason: `learned: escalating is worth it (score ${score} ≥ ${router.operatingPoint.threshold.toPrecision(3)})`,
        }
      : { accept: true, reason: `learned: answer kept (score ${score})` };
  };
}

function lastUserText(request: ModelRequest): string {
  for (let index = request.messages.length - 1; index >= 0; index -= 1) {
    const message = request.messages[index];
    if (message?.role === 'user') return userContentText(message.content);
  }
  return '';
}

function requestTokens(request: ModelRequest): number {
  let tokens = 0;
  for (const message of request.messages) {
    const text =
      typeof message.content === 'string'
        ? message.content
        : message.content.map((part) => (part.type === 'text' ? part.text : JSON.stringify(part))).join('');
    tokens += countTokens(text);
  }
  return tokens;
}
