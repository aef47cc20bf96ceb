/**
 * Local model bench: tokens/s through Hataraku's `local` provider against raw node-llama-cpp on
 * the same GGUF, prompt and settings, in one process; the cost of grammar-constrained generation
 * against free generation; and the per-call overhead of the provider.
 *
 * With no network there is no real model to download, so the model is a llama-architecture GGUF
 * with random weights written by Hataraku's tiny-model writer, sized (about 13M parameters, f16)
 * so a token costs real matrix work. Its text is nonsense; tokens/s is what is measured.
 *
 *   npm run bench:local-model            (writes results.json and RESULTS.md here)
 *   BENCH_MODEL=/path/model.gguf npm run bench:local-model   (the same on a real GGUF)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaChat, LlamaLogLevel, resolveChatWrapper } from 'node-llama-cpp';
import { collectResponse } from '../../dist/models/collect-response.js';
import { unloadIdleModels } from '../../dist/models/local/loaded-models.js';
import { createLocalModel } from '../../dist/models/local/local-model.js';
import { writeTinyLlama } from '../../dist/models/local/tiny-model/tiny-llama.js';

const here = new URL('.', import.meta.url);
// One thread by default: on a shared 2-core machine, llama.cpp's spinning threads collapse when a core is taken.
const threads = Number(process.env.BENCH_THREADS ?? 1);
const gpu = process.env.BENCH_GPU === 'auto' ? 'auto' : 'cpu';
const maxTokens = Number(process.env.BENCH_TOKENS ?? 96);
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 5);
const contextSize = 4096;

const directory = mkdtempSync(join(os.tmpdir(), 'hataraku-bench-local-'));
let modelPath = process.env.BENCH_MODEL;
let modelDescription;
if (modelPath) {
  modelDescription = `${modelPath} (given with BENCH_MODEL)`;
} else {
  modelPath = join(directory, 'bench.gguf');
  const { parameters } = writeTinyLlama(modelPath, {
    embeddingLength: 512,
    feedForwardLength: 1536,
    blockCount: 4,
    headCount: 8,
    headCountKv: 4,
    weightType: 'f16',
    seed: 42,
  });
  modelDescription = `generated llama-architecture GGUF, random weights: ${(parameters / 1e6).toFixed(1)}M parameters, f16, 512 wide, 4 blocks, 8 heads (4 KV), 538-token vocabulary`;
}
const fileBytes = readFileSync(modelPath).length;

const messages = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Write a long story about a city by the sea and the weather there.' },
];
const history = [
  { type: 'system', text: messages[0].content },
  { type: 'user', text: messages[1].content },
  { type: 'model', response: [] },
];
const bfcl = JSON.parse(
  readFileSync(new URL('../../src/models/local/__fixtures__/bfcl-tools.json', import.meta.url), 'utf8'),
);

// Raw node-llama-cpp: its own model and context, the chat template from the file.
const llama = await getLlama({ gpu: gpu === 'cpu' ? false : 'auto', build: 'never', logLevel: LlamaLogLevel.error });
const rawModel = await llama.loadModel({ modelPath, gpuLayers: gpu === 'cpu' ? 0 : 'auto' });
const rawContext = await rawModel.createContext({ contextSize, threads });
const rawChat = new LlamaChat({ contextSequence: rawContext.getSequence(), chatWrapper: resolveChatWrapper(rawModel) });

async function raw() {
  const meter = rawChat.sequence.tokenMeter;
  const before = meter.getState();
  const started = performance.now();
  await rawChat.generateResponse(history, { maxTokens, temperature: 0 });
  const seconds = (performance.now() - started) / 1000;
  const { usedOutputTokens } = meter.diff(before);
  return { tokens: usedOutputTokens, seconds };
}

const settings = { modelPath, threads, contextSize, gpu, gpuLayers: gpu === 'cpu' ? 0 : 'auto', idleUnloadMs: 600_000 };
const provider = createLocalModel({ ...settings, modelId: 'bench' });

async function viaHataraku(extra = {}) {
  const started = performance.now();
  const response = await collectResponse(provider, { messages, maxOutputTokens: maxTokens, temperature: 0, ...extra });
  const seconds = (performance.now() - started) / 1000;
  return { tokens: response.usage.outputTokens ?? 0, seconds, response };
}

const story = {
  type: 'object',
  properties: { title: { type: 'string' }, text: { type: 'string' } },
  required: ['title', 'text'],
};
const tools = bfcl.tools;

/** Rows measured interleaved (separate contexts, so no row evicts another's prompt). */
const interleaved = {
  'raw node-llama-cpp, free text': raw,
  'Hataraku local provider, free text': () => viaHataraku(),
};
/**
 * Rows measured one block each, after a warm-up, because they share the provider's context and
 * their prompts differ (the tool rows carry the tools' descriptions): interleaving them would
 * measure prompt re-evaluation, not generation. The first is their baseline.
 */
const blocks = {
  'Hataraku, tools in the prompt, toolChoice none (baseline for the rows below)': () =>
    viaHataraku({ tools, toolChoice: 'none' }),
  'Hataraku, tool call required (grammar)': () =>
    viaHataraku({ tools, toolChoice: { type: 'tool', name: 'array_sort' } }),
  'Hataraku, tool choice auto (call-or-text grammar)': () => viaHataraku({ tools, toolChoice: 'auto' }),
  'Hataraku, structured output (JSON Schema grammar)': () =>
    viaHataraku({ responseFormat: { type: 'json-schema', name: 'story', schema: story } }),
};

const samples = {};
for (const run of Object.values(interleaved)) await run();
for (const name of Object.keys(interleaved)) samples[name] = [];
for (let round = 0; round < repetitions; round++) {
  const names = Object.keys(interleaved);
  for (const name of round % 2 ? [...names].reverse() : names) {
    const { tokens, seconds } = await interleaved[name]();
    samples[name].push({ tokens, seconds, tokensPerSecond: tokens / seconds });
  }
}
for (const [name, run] of Object.entries(blocks)) {
  await run();
  samples[name] = [];
  for (let round = 0; round < repetitions; round++) {
    const { tokens, seconds } = await run();
    samples[name].push({ tokens, seconds, tokensPerSecond: tokens / seconds });
  }
}

// Per-call overhead: a one-token call, raw against the provider.
const overhead = { raw: [], hataraku: [] };
for (let index = 0; index < 20; index++) {
  let started = performance.now();
  await rawChat.generateResponse(history, { maxTokens: 1, temperature: 0 });
  overhead.raw.push(performance.now() - started);
  started = performance.now();
  await collectResponse(provider, { messages, maxOutputTokens: 1, temperature: 0 });
  overhead.hataraku.push(performance.now() - started);
}

// Threads: the same model and prompt with 1, 2 and 4 generation threads (raw node-llama-cpp).
const threadRows = [];
for (const count of [1, 2, 4]) {
  const context = await rawModel.createContext({ contextSize: 1024, threads: count });
  const chat = new LlamaChat({ contextSequence: context.getSequence(), chatWrapper: resolveChatWrapper(rawModel) });
  await chat.generateResponse(history, { maxTokens: 2, temperature: 0 });
  const before = chat.sequence.tokenMeter.getState();
  const started = performance.now();
  await chat.generateResponse(history, { maxTokens: 16, temperature: 0 });
  const seconds = (performance.now() - started) / 1000;
  const { usedOutputTokens } = chat.sequence.tokenMeter.diff(before);
  threadRows.push({ threads: count, tokens: usedOutputTokens, seconds, tokensPerSecond: usedOutputTokens / seconds });
  chat.dispose();
  await context.dispose();
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const rows = Object.entries(samples).map(([name, runs]) => ({
  name,
  medianTokensPerSecond: median(runs.map((run) => run.tokensPerSecond)),
  medianTokens: median(runs.map((run) => run.tokens)),
  medianSeconds: median(runs.map((run) => run.seconds)),
}));
const rawRow = rows[0];
const ratio = rows[1].medianTokensPerSecond / rawRow.medianTokensPerSecond;
const overheadMs = { raw: median(overhead.raw), hataraku: median(overhead.hataraku) };

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const results = {
  date: new Date().toISOString(),
  machine: {
    cpu,
    logicalCores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()}/${os.arch()} ${os.release()}`,
    device: llama.gpu === false ? 'CPU only' : `GPU (${llama.gpu})`,
    loadAverageAtEnd: os.loadavg().map((load) => Number(load.toFixed(2))),
  },
  model: { description: modelDescription, fileBytes },
  settings: { threads, contextSize, maxTokens, repetitions, temperature: 0 },
  rows,
  providerToRawRatio: ratio,
  oneTokenCallMs: overheadMs,
  threads: threadRows,
};
writeFileSync(new URL('results.json', here), `${JSON.stringify(results, null, 2)}\n`);

const table = [
  '| Contender | median tokens/s | ms per token | median tokens per call | median s per call | vs raw |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (row) =>
      `| ${row.name} | ${row.medianTokensPerSecond.toFixed(1)} | ${(1000 / row.medianTokensPerSecond).toFixed(2)} | ${row.medianTokens} | ${row.medianSeconds.toFixed(3)} | ${(row.medianTokensPerSecond / rawRow.medianTokensPerSecond).toFixed(2)}× |`,
  ),
].join('\n');
const markdown = `# Local model bench: results

Generated by \`npm run bench:local-model\` (\`bench/local-model/run.mjs\`) on ${results.date}.

## Machine

- ${cpu}, ${results.machine.logicalCores} logical cores, ${results.machine.memoryGiB} GiB memory. Load average ${results.machine.loadAverageAtEnd.join(' / ')} over 1 / 5 / 15 minutes at the end, on 2 cores (the bench itself keeps about one core busy). Figures vary between runs on a machine others share: in a check while other builds ran, identical raw calls on one context ranged from 223 to 598 tokens/s. On such a machine, read a provider/raw ratio above 1 as no measurable overhead, not as the provider being faster. Compare rows within one run.
- Node ${process.version}, ${results.machine.platform}; node-llama-cpp 3.21.1 prebuilt binaries; ${results.machine.device}
- No GPU figures: this machine has none and none was lent for this task. On a GPU machine run \`BENCH_GPU=auto npm run bench:local-model\`.

## Model

- ${modelDescription}; ${(fileBytes / 1e6).toFixed(1)} MB file.
- Not a real model: with no network none can be downloaded. The random weights make nonsense text, but every token costs the same matrix work as a real model of this shape, which is what tokens/s measures. Figures for a real 0.5B–7B model will be lower in tokens/s; the ratios are what carry over.

## Method

- ${threads} threads, context ${contextSize}, greedy (temperature 0), at most ${maxTokens} output tokens per call, the same system and user message everywhere.
- Raw: node-llama-cpp's own \`LlamaChat.generateResponse\` on its own loaded model and context, with the chat wrapper resolved from the file's template. Hataraku: \`collectResponse(createLocalModel(...), request)\` — the provider's queue, history conversion, prompt token count for usage, grammar (when any) and event stream included.
- Raw and provider free text: one warm-up call each, then ${repetitions} rounds interleaved (alternating order); they run on separate contexts. The grammar rows share the provider's context and have different prompts, so each runs as a block (warm-up, then ${repetitions} calls) and is compared with the block that has the same tools in its prompt but no grammar. Tokens/s = output tokens (node-llama-cpp's token meter) / wall time of the whole call, so prompt handling is included on both sides (the prompt prefix is reused from the context on repeated calls on both sides).
- One-token calls (20 each) give the fixed per-call overhead.

## Tokens per second

${table}

**Provider / raw: ${ratio.toFixed(2)}×** (goal ≥ 0.9×).

The grammar cost is each grammar row against the "tools in the prompt, toolChoice none" row. Grammar rows are through the provider: the tool call row is constrained to \`{"name": "array_sort", "arguments": …}\` with the BFCL schema; the auto row allows a call or text, decided by the first character; the structured row is a JSON Schema object. With random weights, string values run on until the output limit, so these rows measure grammar-constrained sampling throughput, not the length of a real answer.

## Per-call overhead

- One-token call: raw ${overheadMs.raw.toFixed(2)} ms, Hataraku ${overheadMs.hataraku.toFixed(2)} ms (median of 20): ${(overheadMs.hataraku - overheadMs.raw).toFixed(2)} ms added per call.

## Threads

Raw node-llama-cpp, the same model and prompt, 16 output tokens, one call each (after a warm-up):

| threads | tokens/s | seconds |
| ---: | ---: | ---: |
${threadRows.map((row) => `| ${row.threads} | ${row.tokensPerSecond.toFixed(1)} | ${row.seconds.toFixed(2)} |`).join('\n')}

llama.cpp's threads spin while they wait for each other, so more threads than free cores collapses throughput. This is why the \`local.threads\` default is half the logical cores (${Math.max(1, Math.floor(os.availableParallelism() / 2))} here).
`;
writeFileSync(new URL('RESULTS.md', here), markdown);
process.stdout.write(
  `${table}\n\nprovider/raw ${ratio.toFixed(2)}x; one-token call raw ${overheadMs.raw.toFixed(2)} ms, hataraku ${overheadMs.hataraku.toFixed(2)} ms\n`,
);

await rawChat.dispose();
await rawContext.dispose();
await rawModel.dispose();
await unloadIdleModels();
rmSync(directory, { recursive: true, force: true });
