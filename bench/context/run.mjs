/**
 * Context benchmark: what each context strategy makes a 50-step agent run cost in billed input
 * tokens and dollars, with the providers' prompt caches modelled, against a naive loop that
 * resends the whole history at every call.
 *
 * 1. The scripted trajectory (`trajectory.mjs`: 49 tool turns with results from 150 characters
 *    to 80 KB, then the final answer) is run through the real agent loop (`run()` from dist/,
 *    SQLite journal in a temp file, a scripted model, tools with the real toolchain definitions
 *    that return the scripted results). The loop's own cap on tool results is raised to 100,000
 *    characters so that every strategy starts from whole results. The 50 requests the scripted
 *    model received are the naive loop's requests.
 * 2. Each strategy is applied to each of those 50 histories, as the loop will do before every
 *    call, in a fresh temp workspace, giving the 50 requests it would send.
 * 3. The requests are counted with the real tokenizer (o200k_base; exact for gpt-4.1-mini, an
 *    approximation for Claude) and billed with the documented cache rules
 *    (`provider-caches.mjs`) at real prices from @pydantic/genai-prices: gpt-4.1-mini for
 *    OpenAI, claude-sonnet-4-5 for Anthropic. Summaries are written by a deterministic
 *    extractive stand-in for a cheap model; its calls are billed at gpt-4.1-nano or
 *    claude-haiku-4-5 rates.
 * 4. For the last request (the one that produces the final answer), each of the 12 facts the
 *    answer quotes is checked: in the context, in a file whose handle is in the context, only
 *    by re-running a tool call still named in the context, or lost.
 *
 * The final answer is the same for every strategy by construction (the model is scripted); the
 * fact check is what says whether a real model could still give it.
 *
 * Run: `npm run build && node bench/context/run.mjs` (about 10 s). BENCH_NO_WRITE=1 leaves the
 * results files untouched.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { anthropicInputBilling, openAiInputBilling } from './provider-caches.mjs';
import { buildTrajectory, facts, systemPrompt, task } from './trajectory.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = join(here, '..', '..');
const dist = (path) => join(repositoryRoot, 'dist', path);

const { run } = await import(dist('agent/run.js'));
const { agent } = await import(dist('agent/agent.js'));
const { tool } = await import(dist('tools/define-tool.js'));
const { createScriptedModel } = await import(dist('models/scripted/scripted-model.js'));
const { createFileTools } = await import(dist('toolchain/files/workspace-files.js'));
const { createDataTools } = await import(dist('toolchain/data/data-tools.js'));
const { createGenaiPricesSource } = await import(dist('cost/genai-prices-source.js'));
const { costOfUsage } = await import(dist('cost/cost.js'));
const context = await import(dist('context/index.js'));

const started = performance.now();
const scratch = mkdtempSync(join(os.tmpdir(), 'hataraku-bench-context-'));
const tokenModel = 'openai:gpt-4.1-mini';
const scenarios = [
  { provider: 'openai', model: 'gpt-4.1-mini', summarizer: 'gpt-4.1-nano' },
  { provider: 'anthropic', model: 'claude-sonnet-4-5', summarizer: 'claude-haiku-4-5' },
];
const prices = createGenaiPricesSource();

// 1. The naive loop's requests, from the real loop.
const { steps, answer } = buildTrajectory();
const realTools = [...createFileTools(), ...createDataTools()];
const resultByCall = new Map(steps.map((step) => [step.call.id, step.result]));
const toolNames = ['files.read', 'files.search', 'files.stat', 'data.query', 'data.describe'];
const tools = toolNames.map((name) => {
  const real = realTools.find((candidate) => candidate.name === name);
  if (real === undefined) throw new Error(`no real tool named ${name}`);
  return tool({
    name,
    description: real.description,
    input: real.inputSchema,
    effect: 'none',
    execute: (_input, toolContext) => resultByCall.get(toolContext.toolCallId),
  });
});
const scriptedModel = createScriptedModel({
  script: {
    turns: [
      ...steps.map((step) => ({
        text: step.text,
        toolCalls: [{ id: step.call.id, name: step.call.name, arguments: step.call.arguments }],
      })),
      { text: answer },
    ],
  },
  modelId: 'context-bench',
});
const loopWorkspace = join(scratch, 'loop-workspace');
const loopResult = await run(
  agent({ name: 'auditor', instructions: systemPrompt, model: scriptedModel, tools, limits: { maxSteps: 60 } }),
  task,
  {
    journalPath: join(scratch, 'journal.db'),
    workspace: loopWorkspace,
    maxToolResultCharacters: 100_000,
    runId: 'run_context_bench',
  },
);
if (loopResult.status !== 'completed' || loopResult.output !== answer)
  throw new Error(
    `the scripted run did not complete with the scripted answer: ${loopResult.status} ${loopResult.stopReason}`,
  );
const naiveRequests = scriptedModel.requests;
if (naiveRequests.length !== 50) throw new Error(`expected 50 model calls, got ${naiveRequests.length}`);

// 2. Strategies.
/** A deterministic extractive stand-in for a cheap summarizing model (see RESULTS.md). */
function extractiveSummarizer() {
  return {
    specificationVersion: 'v1',
    provider: 'bench',
    modelId: 'extractive-summarizer',
    async *stream(request) {
      const input = request.messages.find((message) => message.role === 'user').content;
      const lines = [];
      const previous = /^Summary of the steps before these:\n([\s\S]*?)\n\nThe steps since then:\n/.exec(input);
      if (previous) lines.push(previous[1]);
      const body = previous ? input.slice(previous[0].length) : input;
      for (const block of body.split(/\n(?=ASSISTANT |RESULT OF )/)) {
        if (block.startsWith('ASSISTANT CALLED ')) lines.push(`- called ${block.slice('ASSISTANT CALLED '.length)}`);
        else if (block.startsWith('RESULT OF ')) {
          const firstLine = block.split('\n')[0].slice(0, 160);
          lines.push(`  result: ${firstLine.slice(firstLine.indexOf(':') + 2)}`);
          for (const path of new Set(block.match(/\.hataraku-results\/tool-results\/\S+?\.txt/g) ?? []))
            lines.push(`  full result stored at ${path}`);
        }
      }
      const text = lines.join('\n');
      yield { type: 'stream-start', warnings: [] };
      yield { type: 'text-delta', delta: text };
      yield {
        type: 'usage',
        usage: {
          inputTokens: context.countRequestTokens(request, 'openai:gpt-4.1-nano'),
          outputTokens: context.countTextTokens(text, 'o200k_base'),
        },
      };
      yield { type: 'finish', finishReason: 'stop' };
    },
  };
}

/** The loop's default: results cut at 50,000 characters, as run() does without a strategy. */
const loopDefaultCap = {
  name: 'loop-default-cap',
  cut: new WeakMap(),
  async prepare(input) {
    const messages = input.messages.map((message) => {
      if (message.role !== 'tool' || message.content.length <= 50_000) return message;
      let cut = this.cut.get(message);
      if (cut === undefined) {
        cut = {
          ...message,
          content: `${message.content.slice(0, 50_000)}\n[truncated: showing 50000 of ${message.content.length} characters]`,
        };
        this.cut.set(message, cut);
      }
      return cut;
    });
    return { messages, notes: [] };
  },
};

const offload = () => context.offloadLargeToolResults({ maxCharacters: 8_000, previewCharacters: 1_500 });
const summarize = (thresholdTokens) =>
  context.summarizeHistory({
    model: extractiveSummarizer(),
    thresholdTokens,
    keepLastMessages: 6,
    maxSummaryTokens: 4_096,
  });
const mask = (batchCharacters) => context.maskUsedToolResults({ keepLast: 3, batchCharacters });

const strategies = [
  { id: 'naive', label: 'naive: resend everything', make: () => context.sendEverything },
  { id: 'naive-loop-cap', label: 'naive with the loop’s default 50,000-character cap', make: () => loopDefaultCap },
  { id: 'offload', label: 'offload results > 8,000 chars (1,500-char preview)', make: offload },
  { id: 'mask-eager', label: 'mask used results, keep last 3, every call', make: () => mask(0) },
  { id: 'mask-batched', label: 'mask used results, keep last 3, batches of 150,000 chars', make: () => mask(150_000) },
  { id: 'summarize', label: 'summarize past 60,000 tokens, keep last 6 messages', make: () => summarize(60_000) },
  {
    id: 'offload+mask',
    label: 'offload + mask (batches of 20,000 chars)',
    make: () => context.composeStrategies(offload(), mask(20_000)),
  },
  {
    id: 'offload+summarize',
    label: 'offload + summarize past 20,000 tokens',
    make: () => context.composeStrategies(offload(), summarize(20_000)),
  },
  {
    id: 'offload+summarize+mask',
    label: 'offload + summarize past 20,000 tokens + mask (batches of 20,000 chars)',
    make: () => context.composeStrategies(offload(), summarize(20_000), mask(20_000)),
  },
];
const sweeps = [
  ...[0, 10_000, 50_000, 150_000, 400_000].map((batch) => ({
    id: `sweep-mask-${batch}`,
    sweep: 'mask',
    batch,
    make: () => mask(batch),
  })),
  ...[0, 5_000, 20_000, 60_000].map((batch) => ({
    id: `sweep-offload+mask-${batch}`,
    sweep: 'offload+mask',
    batch,
    make: () => context.composeStrategies(offload(), mask(batch)),
  })),
];

// 3. Counting and billing.
const keys = new WeakMap();
function keyOf(message) {
  let key = keys.get(message);
  if (key === undefined) {
    key = JSON.stringify(message);
    keys.set(message, key);
  }
  return key;
}
const renderings = new WeakMap();
function tokensOf(message) {
  let tokens = renderings.get(message);
  if (tokens === undefined) {
    const text =
      message.role === 'assistant'
        ? message.content.map((part) => (part.type === 'text' ? part.text : `${part.name}${part.arguments}`)).join('')
        : message.content;
    tokens = context.encodeText(`${message.role}${text}`, 'o200k_base');
    renderings.set(message, tokens);
  }
  return tokens;
}

function describeRequest(messages, requestTools) {
  const [system, ...rest] = messages;
  const definitionTokens = context.countToolDefinitionTokens(requestTools, 'o200k_base');
  const segments = [
    {
      key: `${JSON.stringify(requestTools)}\u0000${system.content}`,
      tokens: definitionTokens - 4 + context.countMessageTokens(system, 'o200k_base'),
      blocks: 1,
      message: system,
    },
    ...rest.map((message) => ({
      key: keyOf(message),
      tokens: context.countMessageTokens(message, 'o200k_base'),
      blocks:
        message.role === 'assistant'
          ? Math.max(1, message.content.filter((part) => part.type !== 'text' || part.text !== '').length)
          : 1,
      message,
    })),
  ];
  return { messages, segments, totalTokens: context.countRequestTokens({ messages, tools: requestTools }, tokenModel) };
}

function commonPrefixTokens(previous, current) {
  let shared = 0;
  for (let index = 0; index < Math.min(previous.segments.length, current.segments.length); index++) {
    const a = previous.segments[index];
    const b = current.segments[index];
    if (a.key === b.key) {
      shared += b.tokens;
      continue;
    }
    if (index === 0) return 0;
    const tokensA = tokensOf(a.message);
    const tokensB = tokensOf(b.message);
    let common = 0;
    while (common < tokensA.length && common < tokensB.length && tokensA[common] === tokensB[common]) common++;
    // The message framing (3 tokens) comes before the role and text.
    return shared + 3 + common;
  }
  return shared;
}

function cacheBreaks(requests) {
  let breaks = 0;
  for (let index = 1; index < requests.length; index++) {
    const previous = requests[index - 1].segments;
    const current = requests[index].segments;
    if (!previous.every((segment, position) => current[position]?.key === segment.key)) breaks++;
  }
  return breaks;
}

function price(provider, model, usage) {
  const found = prices.lookup(provider, model, { inputTokens: usage.inputTokens });
  const cost = costOfUsage(found, { outputTokens: 0, ...usage });
  if (cost.usd === undefined) throw new Error(`no price for ${provider}:${model}: ${cost.unknownReason}`);
  return cost.usd;
}

// 4. Reachability of the facts the final answer quotes.
function factReachability(finalMessages, workspace) {
  const parts = [];
  for (const message of finalMessages) {
    if (message.role === 'assistant')
      for (const part of message.content)
        parts.push(part.type === 'text' ? part.text : `${part.name} ${part.arguments}`);
    else parts.push(message.content);
  }
  const text = parts.join('\n');
  const handles = [...new Set(text.match(/\.hataraku-results\/tool-results\/\S+?\.txt/g) ?? [])];
  const handleTexts = handles.map((path) => {
    try {
      return readFileSync(join(workspace, path), 'utf8');
    } catch {
      return '';
    }
  });
  const outcome = { inContext: [], viaHandle: [], viaRerun: [], lost: [] };
  for (const fact of facts) {
    const step = steps.find((candidate) => candidate.fact === fact.id);
    if (text.includes(fact.value)) outcome.inContext.push(fact.id);
    else if (handleTexts.some((handleText) => handleText.includes(fact.value))) outcome.viaHandle.push(fact.id);
    else if (text.includes(JSON.stringify(step.call.arguments))) outcome.viaRerun.push(fact.id);
    else outcome.lost.push(fact.id);
  }
  return outcome;
}

async function evaluate(entry) {
  const workspace = mkdtempSync(join(scratch, `${entry.id.replace(/[^a-z0-9+-]/gi, '_')}-`));
  const strategy = entry.make();
  const sent = [];
  const summarizerCalls = [];
  for (const [index, request] of naiveRequests.entries()) {
    const output = await strategy.prepare({
      messages: request.messages,
      tools: request.tools ?? [],
      modelName: tokenModel,
      workspace,
      runId: 'run_context_bench',
      stepIndex: index * 2,
    });
    summarizerCalls.push(...(output.modelCalls ?? []));
    sent.push(describeRequest(output.messages, request.tools ?? []));
  }
  // Determinism: a fresh instance given the last history rebuilds the same last request.
  const replayed = await entry.make().prepare({
    messages: naiveRequests.at(-1).messages,
    tools: naiveRequests.at(-1).tools ?? [],
    modelName: tokenModel,
    workspace,
    runId: 'run_context_bench',
    stepIndex: 98,
  });
  const deterministic = JSON.stringify(replayed.messages) === JSON.stringify(sent.at(-1).messages);
  const summarizerTokens = summarizerCalls.reduce(
    (total, call) => ({
      inputTokens: total.inputTokens + call.response.usage.inputTokens,
      outputTokens: total.outputTokens + call.response.usage.outputTokens,
    }),
    { inputTokens: 0, outputTokens: 0 },
  );
  const providers = {};
  for (const scenario of scenarios) {
    const billed =
      scenario.provider === 'openai' ? openAiInputBilling(sent, commonPrefixTokens) : anthropicInputBilling(sent);
    const sum = (field) => billed.reduce((total, usage) => total + usage[field], 0);
    const inputUsd = billed.reduce((total, usage) => total + price(scenario.provider, scenario.model, usage), 0);
    const uncachedUsd = billed.reduce(
      (total, usage) => total + price(scenario.provider, scenario.model, { inputTokens: usage.inputTokens }),
      0,
    );
    const summarizerUsd =
      summarizerCalls.length === 0
        ? 0
        : summarizerCalls.reduce(
            (total, call) =>
              total +
              costOfUsage(
                prices.lookup(scenario.provider, scenario.summarizer, { inputTokens: call.response.usage.inputTokens }),
                call.response.usage,
              ).usd,
            0,
          );
    providers[scenario.provider] = {
      model: scenario.model,
      inputTokens: sum('inputTokens'),
      cachedInputTokens: sum('cachedInputTokens'),
      cacheWriteTokens: sum('cacheWriteTokens'),
      inputUsd,
      uncachedInputUsd: uncachedUsd,
      summarizerModel: scenario.summarizer,
      summarizerUsd,
      totalInputUsd: inputUsd + summarizerUsd,
    };
  }
  return {
    id: entry.id,
    label: entry.label,
    requests: sent.length,
    inputTokens: sent.reduce((total, request) => total + request.totalTokens, 0),
    largestRequestTokens: Math.max(...sent.map((request) => request.totalTokens)),
    lastRequestTokens: sent.at(-1).totalTokens,
    callsOver200kTokens: sent.filter((request) => request.totalTokens > 200_000).length,
    firstCallOver200kTokens: (() => {
      const index = sent.findIndex((request) => request.totalTokens > 200_000);
      return index === -1 ? undefined : index + 1;
    })(),
    cacheBreaks: cacheBreaks(sent),
    summarizerCalls: summarizerCalls.length,
    summarizerTokens,
    deterministic,
    providers,
    facts: factReachability(sent.at(-1).messages, workspace),
  };
}

const results = [];
for (const entry of strategies) results.push(await evaluate(entry));
const sweepResults = [];
for (const entry of sweeps)
  sweepResults.push({ sweep: entry.sweep, batch: entry.batch, ...(await evaluate({ ...entry, label: entry.id })) });

const naive = results.find((result) => result.id === 'naive');
for (const result of [...results, ...sweepResults]) {
  for (const provider of Object.keys(result.providers)) {
    const figures = result.providers[provider];
    figures.savingVsNaive = 1 - figures.totalInputUsd / naive.providers[provider].totalInputUsd;
  }
}
const elapsedSeconds = (performance.now() - started) / 1000;
rmSync(scratch, { recursive: true, force: true });

// 5. Report.
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.platform()} ${os.release()}`,
  node: process.version,
};
const versions = {
  hataraku: JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')).version,
  'gpt-tokenizer': JSON.parse(readFileSync(join(repositoryRoot, 'node_modules/gpt-tokenizer/package.json'), 'utf8'))
    .version,
  '@pydantic/genai-prices': JSON.parse(
    readFileSync(join(repositoryRoot, 'node_modules/@pydantic/genai-prices/package.json'), 'utf8'),
  ).version,
};
const rates = Object.fromEntries(
  scenarios.flatMap((scenario) => [
    [`${scenario.provider}:${scenario.model}`, prices.lookup(scenario.provider, scenario.model)],
    [`${scenario.provider}:${scenario.summarizer}`, prices.lookup(scenario.provider, scenario.summarizer)],
  ]),
);
const toolResultSizes = steps.map((step) => step.result.length);
const trajectory = {
  modelCalls: naiveRequests.length,
  toolCalls: steps.length,
  toolResultCharacters: toolResultSizes.reduce((a, b) => a + b, 0),
  largeResults: toolResultSizes.filter((size) => size >= 20_000).length,
  mediumResults: toolResultSizes.filter((size) => size >= 4_000 && size < 20_000).length,
  smallResults: toolResultSizes.filter((size) => size < 4_000).length,
  largestResultCharacters: Math.max(...toolResultSizes),
  facts: facts.length,
  finalAnswerUnchanged: loopResult.output === answer,
};
const report = {
  date: new Date().toISOString(),
  machine,
  versions,
  elapsedSeconds,
  trajectory,
  rates,
  strategies: results,
  maskSweep: sweepResults,
};

const percent = (value) => `${(value * 100).toFixed(1)} %`;
const usd = (value) => `$${value.toFixed(4)}`;
const thousands = (value) => value.toLocaleString('en-US');
const factCell = (outcome) =>
  `${outcome.inContext.length} / ${outcome.viaHandle.length} / ${outcome.viaRerun.length} / ${outcome.lost.length}`;
const best = results.filter((result) => result.facts.lost.length === 0 && result.id !== 'naive');
const bestOpenAi = best.reduce((a, b) => (b.providers.openai.savingVsNaive > a.providers.openai.savingVsNaive ? b : a));
const bestAnthropic = best.reduce((a, b) =>
  b.providers.anthropic.savingVsNaive > a.providers.anthropic.savingVsNaive ? b : a,
);

const lines = [
  '# Context benchmark: results',
  '',
  `Run ${report.date.slice(0, 10)} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), ${machine.platform}, Node ${machine.node}; hataraku ${versions.hataraku}, gpt-tokenizer ${versions['gpt-tokenizer']}, @pydantic/genai-prices ${versions['@pydantic/genai-prices']}. Took ${elapsedSeconds.toFixed(1)} s. Method: see \`README.md\` beside this file.`,
  '',
  `Trajectory: ${trajectory.modelCalls} model calls, ${trajectory.toolCalls} tool results (${trajectory.largeResults} of 20–80 KB, ${trajectory.mediumResults} of 4–16 KB, ${trajectory.smallResults} small; ${thousands(trajectory.toolResultCharacters)} characters in all), run through the real \`run()\` loop with a scripted model; ${trajectory.facts} facts quoted by the final answer.`,
  '',
  '## Target: at least 50 % lower billed input cost than the naive loop, final answer unchanged',
  '',
  `- OpenAI ${scenarios[0].model}: best strategy that keeps every fact reachable is **${bestOpenAi.id}**, ${percent(bestOpenAi.providers.openai.savingVsNaive)} lower (${usd(bestOpenAi.providers.openai.totalInputUsd)} vs ${usd(naive.providers.openai.totalInputUsd)}). ${bestOpenAi.providers.openai.savingVsNaive >= 0.5 ? 'Target met.' : 'Target not met.'}`,
  `- Anthropic ${scenarios[1].model}: best such strategy is **${bestAnthropic.id}**, ${percent(bestAnthropic.providers.anthropic.savingVsNaive)} lower (${usd(bestAnthropic.providers.anthropic.totalInputUsd)} vs ${usd(naive.providers.anthropic.totalInputUsd)}). ${bestAnthropic.providers.anthropic.savingVsNaive >= 0.5 ? 'Target met.' : 'Target not met.'}`,
  '- Final answer: unchanged for every strategy, **by construction** (the model is scripted, so it answers the same whatever it is sent). What a real model could still answer is shown by the fact check: facts in the context / readable through a file handle in the context / only by re-running a tool call still named in the context / lost.',
  '',
  '## Strategies',
  '',
  'Input cost is the 50 calls’ prompts with the provider’s prompt cache, plus the summarizer’s calls where there are any. “Cache breaks”: calls whose request does not extend the previous one.',
  '',
  '| strategy | prompt tokens (50 calls) | largest call | cache breaks | OpenAI cached | OpenAI input USD | saving | Anthropic read / write | Anthropic input USD | saving | summarizer calls | facts ctx / handle / re-run / lost | deterministic |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ...results.map((result) => {
    const openai = result.providers.openai;
    const anthropic = result.providers.anthropic;
    return `| ${result.label} | ${thousands(result.inputTokens)} | ${thousands(result.largestRequestTokens)} | ${result.cacheBreaks} | ${percent(openai.cachedInputTokens / openai.inputTokens)} | ${usd(openai.totalInputUsd)} | ${result.id === 'naive' ? '—' : percent(openai.savingVsNaive)} | ${thousands(anthropic.cachedInputTokens)} / ${thousands(anthropic.cacheWriteTokens)} | ${usd(anthropic.totalInputUsd)} | ${result.id === 'naive' ? '—' : percent(anthropic.savingVsNaive)} | ${result.summarizerCalls} | ${factCell(result.facts)} | ${result.deterministic ? 'yes' : 'NO'} |`;
  }),
  '',
  `The naive loop's request passes 200,000 tokens at call ${naive.firstCallOver200kTokens ?? '—'} (${naive.callsOver200kTokens} of 50 calls are over it; the last is ${thousands(naive.lastRequestTokens)} tokens): past Claude Sonnet 4.5's standard context window, so on Anthropic it needs the 1M-token beta, priced here at the catalog's long-context rates. Strategies with calls over it: ${results
    .filter((result) => result.callsOver200kTokens > 0)
    .map((result) => result.id)
    .join(', ')}.`,
  '',
  `Without any prompt caching the naive loop would cost ${usd(naive.providers.openai.uncachedInputUsd)} (OpenAI) and ${usd(naive.providers.anthropic.uncachedInputUsd)} (Anthropic): caching alone already takes ${percent(1 - naive.providers.openai.inputUsd / naive.providers.openai.uncachedInputUsd)} and ${percent(1 - naive.providers.anthropic.inputUsd / naive.providers.anthropic.uncachedInputUsd)} off, because the naive history only grows. That is the baseline the strategies must beat, and why a strategy that rewrites old messages at every call can cost more than it saves.`,
  '',
  '## Masking: batch size against cache breaks',
  '',
  'Masking rewrites old messages; each rewrite ends the cached prefix. The mask boundary only moves when the used, unmasked results add up to the batch size.',
  '',
  '| strategy | batch (chars) | prompt tokens | cache breaks | OpenAI input USD | saving | Anthropic input USD | saving |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...sweepResults.map(
    (result) =>
      `| ${result.sweep} | ${thousands(result.batch)} | ${thousands(result.inputTokens)} | ${result.cacheBreaks} | ${usd(result.providers.openai.totalInputUsd)} | ${percent(result.providers.openai.savingVsNaive)} | ${usd(result.providers.anthropic.totalInputUsd)} | ${percent(result.providers.anthropic.savingVsNaive)} |`,
  ),
  '',
  '## Prices used (USD per million tokens, genai-prices catalog)',
  '',
  ...Object.entries(rates).map(
    ([name, rate]) =>
      `- ${name}: input ${rate.inputPerMillion}, cached input ${rate.cachedInputPerMillion ?? '—'}, cache write ${rate.cacheWritePerMillion ?? '—'}, output ${rate.outputPerMillion}`,
  ),
  '',
  '## Caveats',
  '',
  '- Tokens are counted with o200k_base: exact for gpt-4.1-mini, an approximation for Claude (whose tokenizer is not public; it usually gives somewhat more tokens). The savings are ratios over the same counts, so they carry over better than the absolute figures.',
  '- Cache behaviour is modelled from the providers’ documented rules (`provider-caches.mjs`), not measured on live APIs. OpenAI’s cache is compared with the previous request only; Anthropic entries are assumed not to expire between steps.',
  '- The summarizer is a deterministic extractive stand-in (it keeps each tool call, the first line of each result and every file handle), not a model; a real cheap model would write a different summary and may keep more facts. Its token counts are billed at the cheap model’s rates.',
  '- Output tokens are the same for every strategy (scripted turns) and are left out of the comparison.',
  '',
];

if (process.env.BENCH_NO_WRITE !== '1') {
  writeFileSync(join(here, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(here, 'RESULTS.md'), lines.join('\n'));
}
console.log(lines.join('\n'));
