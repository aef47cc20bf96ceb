/**
 * Token counts and dollar costs of every response in the replay.
 *
 * Tokens: cl100k_base (gpt-tokenizer), the real tokenizer of GPT-4-1106-preview. Input = the
 * 8-shot prefix + `Question: …\nAnswer:` + OpenAI's chat framing of one user message; output =
 * the response text. Mixtral-8x7B-Instruct uses a 32,000-entry SentencePiece vocabulary that is
 * not available offline, so its counts are cl100k_base counts too: an approximation that, by
 * the smaller vocabulary, most likely undercounts (see RESULTS.md for its size).
 *
 * Prices: the project's own price source over the @pydantic/genai-prices catalog
 * (`createGenaiPricesSource`, `costOfUsage` from dist/), the same code the runtime bills with.
 */
import { encode, encodeChat } from 'gpt-tokenizer/model/gpt-4-1106-preview';
import { costOfUsage, createGenaiPricesSource } from '../../dist/cost/index.js';
import { fewShotPrefixTokens, questionMessage } from './few-shot-prefix.mjs';

/**
 * The two models and where they are priced. Mixtral is priced at Mistral's own API
 * (`open-mixtral-8x7b`), the model maker's list price; `alternativeWeakPrices` are the other
 * catalog entries for the same model, reported as a sensitivity check.
 */
export const pricedModels = {
  weak: { label: 'Mixtral-8x7B-Instruct', provider: 'mistral', modelId: 'open-mixtral-8x7b' },
  strong: { label: 'GPT-4-1106-preview', provider: 'openai', modelId: 'gpt-4-1106-preview' },
};

export const alternativeWeakPrices = [
  { label: 'Together AI', provider: 'together', modelId: 'mistralai/Mixtral-8x7B-Instruct-v0.1' },
  { label: 'AWS Bedrock', provider: 'aws', modelId: 'mistral.mixtral-8x7b-instruct-v0:1' },
  { label: 'Groq', provider: 'groq', modelId: 'mixtral-8x7b-32768' },
  { label: 'OpenRouter', provider: 'openrouter', modelId: 'mistralai/mixtral-8x7b-instruct' },
];

const priceSource = createGenaiPricesSource({
  providerIds: { mistral: 'mistral', together: 'together', aws: 'aws' },
});

/** Tokens OpenAI's chat format adds around one user message and the reply's start. */
export const chatFramingTokens = encodeChat([{ role: 'user', content: 'x' }]).length - encode('x').length;

/** Input tokens billed for one question, as RouteLLM sent it. */
export function inputTokensFor(question) {
  return fewShotPrefixTokens + encode(questionMessage(question)).length + chatFramingTokens;
}

/** Output tokens billed for one response text. */
export function outputTokensFor(response) {
  return encode(response).length;
}

/**
 * The catalog's price for `model` at a call of `inputTokens`; throws when the catalog has none,
 * because an unknown price must never be counted as zero.
 */
export function priceFor(model, inputTokens) {
  const price = priceSource.lookup(model.provider, model.modelId, { inputTokens });
  if (price === undefined) throw new Error(`no catalog price for ${model.provider}:${model.modelId}`);
  return price;
}

/** USD of one call of `inputTokens` in and `outputTokens` out for `model`. */
export function callCost(model, inputTokens, outputTokens) {
  const { usd, unknownReason } = costOfUsage(priceFor(model, inputTokens), { inputTokens, outputTokens });
  if (usd === undefined) throw new Error(`cannot price ${model.provider}:${model.modelId}: ${unknownReason}`);
  return usd;
}

/**
 * The size, in extra tokens, of one known way in which cl100k_base undercounts a
 * Llama-style SentencePiece tokenizer that splits numbers into single digits: cl100k_base
 * groups up to three digits per token, so a run of n digits costs ceil(n/3) tokens there and
 * n tokens with digit splitting.
 */
export function digitSplitExtraTokens(text) {
  let extra = 0;
  for (const run of text.match(/\d+/g) ?? []) extra += run.length - Math.ceil(run.length / 3);
  return extra;
}
