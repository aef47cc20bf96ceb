/**
 * Counting the prompt tokens of a `ModelRequest` with a real BPE tokenizer (`gpt-tokenizer`),
 * for token budgets checked before every model call.
 *
 * OpenAI models are counted with their own encoding: `o200k_base` for the GPT-4o, GPT-4.1,
 * GPT-4.5, GPT-5 families and the o-series, `cl100k_base` for GPT-4 and GPT-3.5. Other providers
 * (Anthropic, open models) publish no tokenizer that runs here, so they are counted with
 * `o200k_base` as an approximation and `tokenizerFor` says so (`exact: false`); Claude's
 * tokenizer typically yields somewhat more tokens than `o200k_base` for the same text.
 *
 * The chat framing follows OpenAI's documented counting rule (3 tokens per message plus the
 * role, 1 more for a name, 3 to prime the reply); tool definitions are counted as the
 * TypeScript-like namespace OpenAI renders them into, as `gpt-tokenizer` implements it. Tool-call
 * and response-format framing is not documented and is approximated.
 *
 * Counts are cached per message object (a `WeakMap`), so counting the growing history before
 * every call costs only the new messages. The encodings are loaded on first use: loading one
 * takes a few hundred milliseconds, which a process that never counts should not pay.
 */
import { createRequire } from 'node:module';
import {
  type ChatCompletionFunctionDefinition,
  estimateTokensInFunctions,
  FUNCTION_CALL_METADATA_TOKEN_OVERHEAD,
  MESSAGE_TOKEN_OVERHEAD,
  SYSTEM_FUNCTION_TOKEN_DEDUCTION,
} from 'gpt-tokenizer/functionCalling';
import { attachmentTokenEstimate } from '../models/message-content.js';
import { parseModelLabel } from '../models/model-label.js';
import type { ModelMessage, ModelRequest, ModelToolDefinition } from '../models/spec.js';

/** The BPE encodings this counter uses. */
export type TokenizerEncoding = 'o200k_base' | 'cl100k_base';

/** Which encoding counts a model's tokens, and whether that is the model's own tokenizer. */
export interface TokenizerChoice {
  encoding: TokenizerEncoding;
  /** False when the model's own tokenizer is not available and `encoding` approximates it. */
  exact: boolean;
}

/** The parts of a request that are sent as prompt tokens. */
export type CountedRequest = Pick<ModelRequest, 'messages' | 'tools' | 'toolChoice' | 'responseFormat'>;

interface Encoder {
  encode(text: string, options?: { disallowedSpecial?: Set<string> }): number[];
  countTokens(text: string, options?: { disallowedSpecial?: Set<string> }): number;
}

/** Tokens that prime the reply (`<|im_start|>assistant<|im_sep|>`), charged once per request. */
const replyPrimingTokens = 3;
/** Undocumented framing of a structured-output schema; a small allowance. */
const responseFormatOverheadTokens = 8;
/**
 * Text in tool results may contain strings such as `<|endoftext|>`; they are sent as plain text,
 * so they are counted as plain text instead of raising.
 */
const plainText = { disallowedSpecial: new Set<string>() };
/**
 * gpt-tokenizer's pre-tokenising is quadratic on a long run of one kind of character (100,000
 * spaces took 3.4 s; a 1 MB tool result of them would hold the event loop for minutes), and text
 * in a request comes from tools and models, so it is hostile. Longer text is counted in pieces of
 * this many characters: linear time, and a token a cut splits counts twice (one token per piece
 * at most; none for text shorter than a piece).
 */
const pieceLength = 2_000;

const requireFromHere = createRequire(import.meta.url);
const encoders = new Map<TokenizerEncoding, Encoder>();
const messageCounts: Record<TokenizerEncoding, WeakMap<ModelMessage, number>> = {
  o200k_base: new WeakMap(),
  cl100k_base: new WeakMap(),
};
const toolCounts: Record<TokenizerEncoding, WeakMap<readonly ModelToolDefinition[], number>> = {
  o200k_base: new WeakMap(),
  cl100k_base: new WeakMap(),
};

/** The encoder for `encoding`, loaded on first use (the CommonJS build loads synchronously). */
export function encoderFor(encoding: TokenizerEncoding): Encoder {
  let encoder = encoders.get(encoding);
  if (encoder === undefined) {
    encoder = requireFromHere(`gpt-tokenizer/cjs/encoding/${encoding}`) as Encoder;
    encoders.set(encoding, encoder);
  }
  return encoder;
}

const o200kPrefixes = ['gpt-4o', 'chatgpt-4o', 'gpt-4.1', 'gpt-4.5', 'gpt-5', 'gpt-oss', 'o1', 'o3', 'o4', 'codex'];
const cl100kPrefixes = ['gpt-4', 'gpt-3.5', 'text-embedding-3', 'text-embedding-ada'];

/**
 * The encoding for `modelName`, given as `provider:modelId` or a bare model id. Provider
 * prefixes are ignored for the choice (an OpenAI model served by a proxy uses the same
 * tokenizer); models that are not OpenAI's get `o200k_base` with `exact: false`.
 */
export function tokenizerFor(modelName: string): TokenizerChoice {
  const modelId = parseModelLabel(modelName).modelId.toLowerCase();
  const lastPart = modelId.slice(modelId.lastIndexOf('/') + 1);
  if (o200kPrefixes.some((prefix) => lastPart.startsWith(prefix))) return { encoding: 'o200k_base', exact: true };
  if (cl100kPrefixes.some((prefix) => lastPart.startsWith(prefix))) return { encoding: 'cl100k_base', exact: true };
  return { encoding: 'o200k_base', exact: false };
}

/** Tokens of plain `text` in `encoding`. */
export function countTextTokens(text: string, encoding: TokenizerEncoding): number {
  if (text === '') return 0;
  const encoder = encoderFor(encoding);
  if (text.length <= pieceLength) return encoder.countTokens(text, plainText);
  let tokens = 0;
  for (let start = 0; start < text.length; start += pieceLength) {
    tokens += encoder.countTokens(text.slice(start, start + pieceLength), plainText);
  }
  return tokens;
}

/** Token ids of plain `text` in `encoding` (special-token strings are encoded as text). */
export function encodeText(text: string, encoding: TokenizerEncoding): number[] {
  if (text === '') return [];
  const encoder = encoderFor(encoding);
  if (text.length <= pieceLength) return encoder.encode(text, plainText);
  const tokens: number[] = [];
  for (let start = 0; start < text.length; start += pieceLength) {
    for (const token of encoder.encode(text.slice(start, start + pieceLength), plainText)) tokens.push(token);
  }
  return tokens;
}

/**
 * Tokens one message costs in a chat request, framing included. Cached per message object:
 * messages are not mutated once they are in a history, so the count of an object never changes.
 */
export function countMessageTokens(message: ModelMessage, encoding: TokenizerEncoding): number {
  const cache = messageCounts[encoding];
  const cached = cache.get(message);
  if (cached !== undefined) return cached;
  const count = (text: string) => countTextTokens(text, encoding);
  let tokens = MESSAGE_TOKEN_OVERHEAD + count(message.role);
  switch (message.role) {
    case 'system':
    case 'tool':
      tokens += count(message.content);
      break;
    case 'user':
      if (typeof message.content === 'string') tokens += count(message.content);
      else {
        for (const part of message.content) {
          tokens += part.type === 'text' ? count(part.text) : attachmentTokenEstimate(part);
        }
      }
      break;
    case 'assistant':
      for (const part of message.content) {
        if (part.type === 'text' || part.type === 'reasoning') tokens += count(part.text);
        else tokens += count(part.name) + count(part.arguments) + FUNCTION_CALL_METADATA_TOKEN_OVERHEAD;
      }
      break;
  }
  cache.set(message, tokens);
  return tokens;
}

/** Tokens of the tool definitions as OpenAI renders them for the model. Cached per array. */
export function countToolDefinitionTokens(tools: readonly ModelToolDefinition[], encoding: TokenizerEncoding): number {
  if (tools.length === 0) return 0;
  const cache = toolCounts[encoding];
  const cached = cache.get(tools);
  if (cached !== undefined) return cached;
  const definitions = tools.map(
    (tool): ChatCompletionFunctionDefinition => ({
      name: tool.name,
      description: tool.description,
      parameters: tool.inputSchema as unknown as NonNullable<ChatCompletionFunctionDefinition['parameters']>,
    }),
  );
  const tokens = estimateTokensInFunctions(definitions, (text) => countTextTokens(text, encoding));
  cache.set(tools, tokens);
  return tokens;
}

/**
 * The prompt tokens of `request` for `modelName` (`provider:modelId` or a model id): every
 * message with its framing, tool calls and results, tool definitions, the tool choice and the
 * response schema. Exact in the text for OpenAI models; for other providers an `o200k_base`
 * approximation (see `tokenizerFor`).
 */
export function countRequestTokens(request: CountedRequest, modelName: string): number {
  const { encoding } = tokenizerFor(modelName);
  let tokens = replyPrimingTokens;
  for (const message of request.messages) tokens += countMessageTokens(message, encoding);
  if (request.tools !== undefined && request.tools.length > 0) {
    tokens += countToolDefinitionTokens(request.tools, encoding);
    if (request.messages.some((message) => message.role === 'system')) tokens -= SYSTEM_FUNCTION_TOKEN_DEDUCTION;
  }
  const choice = request.toolChoice;
  if (choice === 'none') tokens += 1;
  else if (typeof choice === 'object') tokens += countTextTokens(choice.name, encoding) + 4;
  const format = request.responseFormat;
  if (format?.type === 'json-schema') {
    tokens +=
      countTextTokens(format.name, encoding) +
      countTextTokens(JSON.stringify(format.schema), encoding) +
      (format.description === undefined ? 0 : countTextTokens(format.description, encoding)) +
      responseFormatOverheadTokens;
  }
  return tokens;
}
