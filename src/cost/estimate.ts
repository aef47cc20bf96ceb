/**
 * Estimating a call's size and cost before it is made, for budget checks. There is no
 * tokenizer here (each provider has its own); the estimate is deliberately conservative, so a
 * budget check stops a call that might overspend rather than let through one that would.
 */

import { attachmentTokenEstimate, userContentText } from '../models/message-content.js';
import type { ModelMessage, ModelRequest } from '../models/spec.js';
import { costOfUsage, type UsageCost } from './cost.js';
import type { ModelPrice } from './price-source.js';

/** English text and JSON average about four characters per token; 3.5 leans high. */
const charactersPerToken = 3.5;
/** Role markers and separators each message costs on the wire (about 3-4 in OpenAI's format). */
const tokensPerMessage = 5;
/** Tokens that prime the reply, charged once per request. */
const tokensPerRequest = 3;

/**
 * An upper-leaning estimate of the prompt tokens of `request`: all message text, tool call
 * arguments, tool definitions and the response schema at 3.5 characters per token, plus a fixed
 * overhead per message. Characters outside ASCII count as a whole token each, since scripts such
 * as Japanese and Chinese tokenize at about one token per character or more. This is an
 * estimate for budgets, not a count; the provider's reported usage is what gets billed.
 */
export function estimateRequestTokens(request: ModelRequest): number {
  let asciiCharacters = 0;
  let otherCharacters = 0;
  const add = (text: string): void => {
    for (const character of text) {
      if (character.charCodeAt(0) < 0x80) asciiCharacters++;
      else otherCharacters++;
    }
  };
  let attachmentTokens = 0;
  for (const message of request.messages) {
    for (const text of messageTexts(message)) add(text);
    if (message.role === 'user' && typeof message.content !== 'string') {
      for (const part of message.content) if (part.type !== 'text') attachmentTokens += attachmentTokenEstimate(part);
    }
  }
  if (request.tools !== undefined && request.tools.length > 0) add(JSON.stringify(request.tools));
  if (request.responseFormat?.type === 'json-schema') add(JSON.stringify(request.responseFormat));
  return (
    Math.ceil(asciiCharacters / charactersPerToken) +
    otherCharacters +
    request.messages.length * tokensPerMessage +
    tokensPerRequest +
    attachmentTokens
  );
}

/**
 * The most a call is expected to cost: the estimated prompt at the full (uncached) input rate
 * plus `maxOutputTokens` of output. Undefined with a reason when the price is unknown.
 */
export function estimateCallCostUsd(
  price: ModelPrice | undefined,
  request: ModelRequest,
  maxOutputTokens: number,
): UsageCost {
  return costOfUsage(price, { inputTokens: estimateRequestTokens(request), outputTokens: maxOutputTokens });
}

function messageTexts(message: ModelMessage): string[] {
  switch (message.role) {
    case 'system':
      return [message.content];
    case 'user':
      return [userContentText(message.content)];
    case 'assistant':
      return message.content.map((part) => (part.type === 'tool-call' ? `${part.name}${part.arguments}` : part.text));
    case 'tool':
      return [message.toolName, message.content];
  }
}
