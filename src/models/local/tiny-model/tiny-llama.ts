/**
 * Tiny llama-architecture GGUF models with random weights, written on the spot, so tests and
 * benches run the real node-llama-cpp with no download. The text they produce is nonsense; what
 * they prove is everything around it: loading, the chat template from metadata, tokenization,
 * grammars, streaming, abort, queueing, throughput.
 *
 * `preferences` raises chosen tokens' logits at every position (the residual stream carries a
 * constant direction that the output layer reads). Tests use it to make generation end soon —
 * favouring `"`, `}`, `]` and end-of-turn — which keeps samples short on two cores; it never
 * makes invalid JSON valid, which only the grammar does.
 */
import { type GgufTensor, type GgufValue, writeGguf } from './gguf-writer.js';

export interface TinyLlamaOptions {
  /** Width of the residual stream (default 64). */
  embeddingLength?: number;
  /** Width of the feed-forward layers (default 2 × embeddingLength). */
  feedForwardLength?: number;
  /** Transformer blocks (default 2). */
  blockCount?: number;
  /** Attention heads (default 4); key/value heads default to half of them. */
  headCount?: number;
  headCountKv?: number;
  contextLength?: number;
  /** Weight type of the matrices (default f32). */
  weightType?: 'f32' | 'f16';
  /** Seed of the random weights (default 1). */
  seed?: number;
  /** Extra logit per token text, e.g. `{ '"': 6, '<|im_end|>': 4 }`. */
  preferences?: Record<string, number>;
  /** Jinja chat template stored as `tokenizer.chat_template` (default ChatML). */
  chatTemplate?: string;
  /** `general.name` (default `hataraku-tiny-llama`). */
  name?: string;
}

/** ChatML, the template Qwen and many others use. */
export const chatmlTemplate =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const SPACE = '\u2581';
const specialTokens = ['<unk>', '<s>', '</s>', '<|im_start|>', '<|im_end|>'] as const;
const words = [
  'the',
  'a',
  'is',
  'to',
  'of',
  'and',
  'hello',
  'world',
  'name',
  'arguments',
  'location',
  'unit',
  'query',
  'true',
  'false',
  'null',
  'weather',
  'city',
  'answer',
  'value',
  'number',
  'result',
];
const pieces = ['{"', '":', '",', '"}', '":"', '"]', '["', '},', '{}', '[]', '":{', '}}', '":[', '0.', '10', '12'];

/** The vocabulary: specials, 256 byte tokens, printable ASCII, then words and JSON pieces with all their prefixes. */
export function tinyVocabulary(): { tokens: string[]; types: number[]; scores: number[] } {
  const tokens: string[] = [...specialTokens];
  const types: number[] = [2, 3, 3, 3, 3];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
  }
  const normal = new Set<string>([SPACE]);
  for (let code = 33; code < 127; code++) normal.add(String.fromCharCode(code));
  for (const word of [...words.map((word) => SPACE + word), ...words, ...pieces]) {
    for (let end = 2; end <= word.length; end++) normal.add(word.slice(0, end));
  }
  for (const token of normal) {
    tokens.push(token);
    types.push(1);
  }
  // SentencePiece merges the highest-scoring pair first: longer pieces win.
  const scores = tokens.map((token, index) => (types[index] === 1 ? token.length * 10 - index / 1000 : 0));
  return { tokens, types, scores };
}

/** Write a tiny random llama model to `path`; returns its parameter count. */
export function writeTinyLlama(
  path: string,
  options: TinyLlamaOptions = {},
): { parameters: number; vocabularySize: number } {
  const embedding = options.embeddingLength ?? 64;
  const feedForward = options.feedForwardLength ?? embedding * 2;
  const blocks = options.blockCount ?? 2;
  const heads = options.headCount ?? 4;
  const kvHeads = options.headCountKv ?? Math.max(1, heads / 2);
  const headDimension = embedding / heads;
  const kvWidth = kvHeads * headDimension;
  const weightType = options.weightType ?? 'f32';
  const random = seededRandom(options.seed ?? 1);
  const { tokens, types, scores } = tinyVocabulary();
  const vocabulary = tokens.length;
  const imEnd = tokens.indexOf('<|im_end|>');

  const metadata: Record<string, GgufValue> = {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: options.name ?? 'hataraku-tiny-llama' },
    'general.file_type': { type: 'u32', value: weightType === 'f32' ? 0 : 1 },
    'llama.context_length': { type: 'u32', value: options.contextLength ?? 8192 },
    'llama.embedding_length': { type: 'u32', value: embedding },
    'llama.block_count': { type: 'u32', value: blocks },
    'llama.feed_forward_length': { type: 'u32', value: feedForward },
    'llama.attention.head_count': { type: 'u32', value: heads },
    'llama.attention.head_count_kv': { type: 'u32', value: kvHeads },
    'llama.attention.layer_norm_rms_epsilon': { type: 'f32', value: 1e-5 },
    'llama.rope.dimension_count': { type: 'u32', value: headDimension },
    'llama.vocab_size': { type: 'u32', value: vocabulary },
    'tokenizer.ggml.model': { type: 'string', value: 'llama' },
    'tokenizer.ggml.tokens': { type: 'string-array', value: tokens },
    'tokenizer.ggml.scores': { type: 'f32-array', value: scores },
    'tokenizer.ggml.token_type': { type: 'i32-array', value: types },
    'tokenizer.ggml.unknown_token_id': { type: 'u32', value: 0 },
    'tokenizer.ggml.bos_token_id': { type: 'u32', value: 1 },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: imEnd },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
    'tokenizer.chat_template': { type: 'string', value: options.chatTemplate ?? chatmlTemplate },
  };

  // Every embedding carries a constant first component, so after the final norm the first
  // dimension is about √embedding everywhere; the output layer's first column turns that into a
  // per-token preference. The other weights are small so the blocks barely disturb it.
  const residualBias = 4;
  const matrix = (columns: number, rows: number, scale: number) => randomValues(columns * rows, scale, random);
  const tokenEmbedding = randomValues(embedding * vocabulary, 0.05, random);
  for (let token = 0; token < vocabulary; token++) tokenEmbedding[token * embedding] = residualBias;
  const output = randomValues(embedding * vocabulary, 0.05, random);
  const normScale = Math.sqrt(embedding);
  for (let token = 0; token < vocabulary; token++) output[token * embedding] = 0;
  for (const [text, logit] of Object.entries(options.preferences ?? {})) {
    const token = tokens.indexOf(text === ' ' ? SPACE : text);
    if (token < 0) throw new RangeError(`preference for "${text}": not in the tiny vocabulary`);
    output[token * embedding] = logit / normScale;
  }

  const tensors: GgufTensor[] = [
    { name: 'token_embd.weight', dimensions: [embedding, vocabulary], type: weightType, values: tokenEmbedding },
    { name: 'output_norm.weight', dimensions: [embedding], type: 'f32', values: ones(embedding) },
    { name: 'output.weight', dimensions: [embedding, vocabulary], type: weightType, values: output },
  ];
  const scale = 0.02;
  for (let block = 0; block < blocks; block++) {
    const prefix = `blk.${block}.`;
    tensors.push(
      { name: `${prefix}attn_norm.weight`, dimensions: [embedding], type: 'f32', values: ones(embedding) },
      {
        name: `${prefix}attn_q.weight`,
        dimensions: [embedding, embedding],
        type: weightType,
        values: matrix(embedding, embedding, scale),
      },
      {
        name: `${prefix}attn_k.weight`,
        dimensions: [embedding, kvWidth],
        type: weightType,
        values: matrix(embedding, kvWidth, scale),
      },
      {
        name: `${prefix}attn_v.weight`,
        dimensions: [embedding, kvWidth],
        type: weightType,
        values: matrix(embedding, kvWidth, scale),
      },
      {
        name: `${prefix}attn_output.weight`,
        dimensions: [embedding, embedding],
        type: weightType,
        values: matrix(embedding, embedding, scale),
      },
      { name: `${prefix}ffn_norm.weight`, dimensions: [embedding], type: 'f32', values: ones(embedding) },
      {
        name: `${prefix}ffn_gate.weight`,
        dimensions: [embedding, feedForward],
        type: weightType,
        values: matrix(embedding, feedForward, scale),
      },
      {
        name: `${prefix}ffn_up.weight`,
        dimensions: [embedding, feedForward],
        type: weightType,
        values: matrix(embedding, feedForward, scale),
      },
      {
        name: `${prefix}ffn_down.weight`,
        dimensions: [feedForward, embedding],
        type: weightType,
        values: matrix(feedForward, embedding, scale),
      },
    );
  }
  writeGguf(path, metadata, tensors);
  const parameters = tensors.reduce((sum, tensor) => sum + tensor.values.length, 0);
  return { parameters, vocabularySize: vocabulary };
}

function ones(length: number): Float32Array {
  return new Float32Array(length).fill(1);
}

function randomValues(length: number, scale: number, random: () => number): Float32Array {
  const values = new Float32Array(length);
  for (let index = 0; index < length; index++) values[index] = (random() * 2 - 1) * scale;
  return values;
}

/** mulberry32: a small deterministic generator, so a seed always gives the same model. */
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
