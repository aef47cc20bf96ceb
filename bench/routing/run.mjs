/**
 * Routing benchmark: a replay of RouteLLM's GSM8K responses (1,319 prompts, each answered by
 * Mixtral-8x7B-Instruct and GPT-4-1106-preview, with correctness labels). Every response is
 * priced from its token count at catalog prices; always-weak, always-strong, random mixes, a
 * rule-based cascade, a learned cascade and a prompt-only learned router are scored on a fixed
 * held-out split, with their cost–accuracy curves and the saving against always-strong at 95 %
 * of its accuracy.
 *
 * Run: `npm run bench:routing` (builds dist/ first, whose price source it uses). Environment:
 * BENCH_ROUTING_CSV (default ../shared/corpora/routellm/gsm8k_responses.csv), BENCH_NO_WRITE=1
 * to leave results.json and RESULTS.md untouched.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  costAtAccuracy,
  operatingPointForAccuracy,
  outcome,
  outcomeAtOperatingPoint,
  pointsNear,
  sweep,
} from './curves.mjs';
import { answerFeatureNames, answerFeatures, failedChecks, promptFeatureNames, promptFeatures } from './features.mjs';
import { fewShotPrefixTokens } from './few-shot-prefix.mjs';
import {
  alternativeWeakPrices,
  callCost,
  chatFramingTokens,
  digitSplitExtraTokens,
  pricedModels,
  priceFor,
} from './pricing.mjs';
import { loadReplay, seededRandom, splitTrainTest } from './replay-data.mjs';
import { checkWeights, oracleCascade, routers } from './routers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = join(here, '..', '..');
const started = performance.now();

const settings = {
  csvPath:
    process.env.BENCH_ROUTING_CSV ?? join(repositoryRoot, '..', 'shared', 'corpora', 'routellm', 'gsm8k_responses.csv'),
  splitSeed: 20240701,
  trainFraction: 0.5,
  randomMixSeeds: 200,
  randomMixFractions: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
  robustnessSplits: 20,
  qualityShare: 0.95,
  anchorSaving: 0.35,
  targetSaving: 0.5,
};

if (!existsSync(settings.csvPath)) {
  console.error(`routing benchmark: ${settings.csvPath} not found (set BENCH_ROUTING_CSV)`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Data, priced and featurised once.

const items = loadReplay(settings.csvPath).map((item) => ({
  ...item,
  checks: failedChecks(item.weak.response),
  promptFeatures: promptFeatures(item.question),
  answerFeatures: answerFeatures(item.question, item.weak.response),
}));
const datasetCheck = {
  rows: items.length,
  weakAccuracy: mean(items, (item) => (item.weak.correct ? 1 : 0)),
  strongAccuracy: mean(items, (item) => (item.strong.correct ? 1 : 0)),
  eitherAccuracy: mean(items, (item) => (item.weak.correct || item.strong.correct ? 1 : 0)),
};
// The corpus README states 1,319 rows, 63.8 % / 85.7 % / 92.9 %: a wrong parse would show here.
if (
  datasetCheck.rows !== 1319 ||
  Math.abs(datasetCheck.weakAccuracy - 0.638) > 0.001 ||
  Math.abs(datasetCheck.strongAccuracy - 0.857) > 0.001
) {
  throw new Error(`the CSV did not parse as expected: ${JSON.stringify(datasetCheck)}`);
}

function mean(list, select) {
  return list.reduce((sum, entry) => sum + select(entry), 0) / list.length;
}

// ---------------------------------------------------------------------------------------------
// Evaluation of one split.

function baselines(split) {
  const all = (toStrong) =>
    outcome(
      split,
      split.map(() => toStrong),
      'route',
    );
  return { alwaysWeak: all(false), alwaysStrong: all(true) };
}

function randomMixes(split, seedBase) {
  return settings.randomMixFractions.map((fraction) => {
    const runs = [];
    for (let seed = 0; seed < settings.randomMixSeeds; seed += 1) {
      const random = seededRandom(seedBase + seed);
      runs.push(
        outcome(
          split,
          split.map(() => random() < fraction),
          'route',
        ),
      );
    }
    return {
      strongShare: fraction,
      escalatedFraction: mean(runs, (run) => run.escalatedFraction),
      accuracy: mean(runs, (run) => run.accuracy),
      costPerPrompt: mean(runs, (run) => run.costPerPrompt),
      costPerCorrect: mean(runs, (run) => run.costPerCorrect),
    };
  });
}

function savingAt(point, strongCost) {
  return point === undefined ? undefined : 1 - point.costPerPrompt / strongCost;
}

function evaluateSplit(seed, { detailed }) {
  const { train, test } = splitTrainTest(items, seed, settings.trainFraction);
  const testBaselines = baselines(test);
  const trainBaselines = baselines(train);
  const targetAccuracy = settings.qualityShare * testBaselines.alwaysStrong.accuracy;
  const trainTargetAccuracy = settings.qualityShare * trainBaselines.alwaysStrong.accuracy;
  const strongCost = testBaselines.alwaysStrong.costPerPrompt;
  const mixes = randomMixes(test, seed * 1000);
  const mixAtTarget = costAtAccuracy(mixes, targetAccuracy);
  const results = routers.map((router) => {
    const fitted = router.fit(train, seed + 1);
    const testScores = test.map(fitted.score);
    const points = sweep(test, testScores, router.kind);
    const atTarget = costAtAccuracy(points, targetAccuracy);
    // A deployment fixes its threshold on data it holds labels for: the train split.
    const trainPoints = sweep(train, fitted.trainScores, router.kind);
    const operatingPoint = operatingPointForAccuracy(trainPoints, trainTargetAccuracy);
    const deployed =
      operatingPoint === undefined
        ? undefined
        : { operatingPoint, ...outcomeAtOperatingPoint(test, testScores, router.kind, operatingPoint) };
    return {
      name: router.name,
      kind: router.kind,
      learned: router.learned,
      uses: router.uses,
      points: detailed ? points : undefined,
      atTarget,
      savingAtTarget: savingAt(atTarget, strongCost),
      deployed: deployed === undefined ? undefined : { ...deployed, saving: 1 - deployed.costPerPrompt / strongCost },
      testScores: detailed ? testScores : undefined,
    };
  });
  const oraclePoints = sweep(test, test.map(oracleCascade.score), oracleCascade.kind);
  const oracleAtTarget = costAtAccuracy(oraclePoints, targetAccuracy);
  return {
    seed,
    train,
    test,
    trainSize: train.length,
    testSize: test.length,
    targetAccuracy,
    baselines: testBaselines,
    trainBaselines,
    randomMixes: mixes,
    randomAtTarget: mixAtTarget,
    randomSavingAtTarget: savingAt(mixAtTarget, strongCost),
    routers: results,
    oracle: {
      name: oracleCascade.name,
      points: oraclePoints,
      atTarget: oracleAtTarget,
      savingAtTarget: savingAt(oracleAtTarget, strongCost),
    },
  };
}

const main = evaluateSplit(settings.splitSeed, { detailed: true });

// Robustness: the same pipeline on other seeded splits (the main split's seed is not special).
const robustness = [];
for (let offset = 1; offset <= settings.robustnessSplits; offset += 1) {
  const result = evaluateSplit(settings.splitSeed + offset, { detailed: false });
  robustness.push({
    seed: result.seed,
    random: result.randomSavingAtTarget,
    routers: result.routers.map((router) => ({
      name: router.name,
      saving: router.savingAtTarget,
      deployedSaving: router.deployed?.saving,
      deployedAccuracyShare:
        router.deployed === undefined
          ? undefined
          : router.deployed.accuracy / (result.targetAccuracy / settings.qualityShare),
    })),
  });
}

// ---------------------------------------------------------------------------------------------
// Sensitivity of the headline to the weak model's price and token count.

function withWeakCost(split, costOf) {
  return split.map((item) => ({ ...item, weak: { ...item.weak, costUsd: costOf(item) } }));
}

function savingsUnder(split, weakCostOf) {
  const repriced = withWeakCost(split, weakCostOf);
  const strongCost = baselines(repriced).alwaysStrong.costPerPrompt;
  return Object.fromEntries(
    main.routers.map((router) => {
      const point = costAtAccuracy(sweep(repriced, router.testScores, router.kind), main.targetAccuracy);
      return [router.name, savingAt(point, strongCost)];
    }),
  );
}

const digitExtra = main.test.map((item) => {
  const counted = item.weak.inputTokens - fewShotPrefixTokens - chatFramingTokens + item.weak.outputTokens;
  return { counted, extra: digitSplitExtraTokens(item.question) + digitSplitExtraTokens(item.weak.response) };
});
const digitUndercount =
  digitExtra.reduce((sum, entry) => sum + entry.extra, 0) / digitExtra.reduce((sum, entry) => sum + entry.counted, 0);

const sensitivity = [
  {
    label: `as priced (${pricedModels.weak.provider}:${pricedModels.weak.modelId}, cl100k_base counts)`,
    savings: savingsUnder(main.test, (item) => item.weak.costUsd),
  },
  ...alternativeWeakPrices.map((model) => {
    const price = priceFor(model, 1200);
    return {
      label: `Mixtral priced at ${model.label} (${model.provider}:${model.modelId}, $${price.inputPerMillion}/$${price.outputPerMillion} per M)`,
      savings: savingsUnder(main.test, (item) => callCost(model, item.weak.inputTokens, item.weak.outputTokens)),
    };
  }),
  {
    label: `Mixtral tokens +${(digitUndercount * 100).toFixed(1)} % (digit splitting, measured on question + answer)`,
    savings: savingsUnder(main.test, (item) => item.weak.costUsd * (1 + digitUndercount)),
  },
  { label: 'Mixtral tokens ×1.5 (stress bound)', savings: savingsUnder(main.test, (item) => item.weak.costUsd * 1.5) },
  { label: 'Mixtral tokens ×2 (stress bound)', savings: savingsUnder(main.test, (item) => item.weak.costUsd * 2) },
];

// ---------------------------------------------------------------------------------------------
// Report.

const elapsedSeconds = (performance.now() - started) / 1000;
const weakPrice = priceFor(pricedModels.weak, 1200);
const strongPrice = priceFor(pricedModels.strong, 1200);
const fullBaselines = baselines(items);

const usd = (value) => (value === undefined ? '—' : `$${value.toFixed(6)}`);
const percent = (value, digits = 1) => (value === undefined ? '—' : `${(value * 100).toFixed(digits)} %`);

function table(headers, rows, alignRight = headers.map((_, index) => index > 0)) {
  const cells = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, column) => Math.max(3, ...cells.map((row) => row[column].length)));
  const line = (row) =>
    `| ${row.map((cell, column) => (alignRight[column] ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join(' | ')} |`;
  const rule = `| ${widths.map((width, column) => (alignRight[column] ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width))).join(' | ')} |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}

const curveHeaders = ['escalated', 'accuracy', 'cost / prompt', 'cost / correct', 'saving vs strong'];
const strongCostMain = main.baselines.alwaysStrong.costPerPrompt;
const curveRow = (point) => [
  percent(point.escalatedFraction),
  percent(point.accuracy),
  usd(point.costPerPrompt),
  usd(point.costPerCorrect),
  percent(1 - point.costPerPrompt / strongCostMain),
];
const sweepFractions = Array.from({ length: 21 }, (_, index) => index / 20);

function summaryStats(values) {
  const known = values.filter((value) => value !== undefined);
  if (known.length === 0) return { mean: undefined, min: undefined, max: undefined, reached: 0 };
  return {
    mean: known.reduce((sum, value) => sum + value, 0) / known.length,
    min: Math.min(...known),
    max: Math.max(...known),
    reached: known.length,
  };
}

const headlineRows = [
  [
    'always-strong (GPT-4-1106-preview)',
    'baseline',
    percent(main.baselines.alwaysStrong.accuracy),
    usd(main.baselines.alwaysStrong.costPerPrompt),
    usd(main.baselines.alwaysStrong.costPerCorrect),
    '0.0 %',
  ],
  [
    'always-weak (Mixtral-8x7B-Instruct)',
    'baseline',
    percent(main.baselines.alwaysWeak.accuracy),
    usd(main.baselines.alwaysWeak.costPerPrompt),
    usd(main.baselines.alwaysWeak.costPerCorrect),
    `— (accuracy below target)`,
  ],
  [
    'random mix (interpolated)',
    'route',
    percent(main.randomAtTarget?.accuracy),
    usd(main.randomAtTarget?.costPerPrompt),
    usd(main.randomAtTarget?.costPerCorrect),
    percent(main.randomSavingAtTarget),
  ],
  ...main.routers.map((router) => [
    router.name,
    router.kind,
    percent(router.atTarget?.accuracy),
    usd(router.atTarget?.costPerPrompt),
    usd(router.atTarget?.costPerCorrect),
    percent(router.savingAtTarget),
  ]),
  [
    main.oracle.name,
    'cascade',
    percent(main.oracle.atTarget?.accuracy),
    usd(main.oracle.atTarget?.costPerPrompt),
    usd(main.oracle.atTarget?.costPerCorrect),
    percent(main.oracle.savingAtTarget),
  ],
];

const deployedRows = main.routers.map((router) => [
  router.name,
  router.deployed === undefined ? '—' : describeOperatingPoint(router.deployed.operatingPoint),
  percent(router.deployed?.escalatedFraction),
  percent(router.deployed?.accuracy),
  percent(router.deployed === undefined ? undefined : router.deployed.accuracy / main.baselines.alwaysStrong.accuracy),
  usd(router.deployed?.costPerPrompt),
  usd(router.deployed?.costPerCorrect),
  percent(router.deployed?.saving),
]);

function describeOperatingPoint({ strict, lenient, lenientShare }) {
  const show = (threshold) => (Number.isFinite(threshold) ? String(Number(threshold.toFixed(3))) : '∞');
  if (strict === lenient) return `≥ ${show(strict)}`;
  return `≥ ${show(strict)}, or ≥ ${show(lenient)} with p = ${lenientShare.toFixed(2)}`;
}

const robustnessRows = [
  [
    'random mix',
    ...(() => {
      const stats = summaryStats(robustness.map((entry) => entry.random));
      return [percent(stats.mean), percent(stats.min), percent(stats.max), `${stats.reached}/${robustness.length}`];
    })(),
    '—',
    '—',
  ],
  ...routers.map((router, index) => {
    const stats = summaryStats(robustness.map((entry) => entry.routers[index].saving));
    const deployed = summaryStats(robustness.map((entry) => entry.routers[index].deployedSaving));
    const share = summaryStats(robustness.map((entry) => entry.routers[index].deployedAccuracyShare));
    return [
      router.name,
      percent(stats.mean),
      percent(stats.min),
      percent(stats.max),
      `${stats.reached}/${robustness.length}`,
      percent(deployed.mean),
      `${percent(share.mean)} (${percent(share.min)}–${percent(share.max)})`,
    ];
  }),
];

const best = main.routers.reduce((winner, router) =>
  (router.savingAtTarget ?? -1) > (winner.savingAtTarget ?? -1) ? router : winner,
);
const checkCounts = Object.keys(checkWeights).map((name) => {
  const failing = main.test.filter((item) => item.checks[name]);
  return [
    name,
    String(checkWeights[name]),
    String(failing.length),
    String(failing.filter((item) => !item.weak.correct).length),
    String(failing.filter((item) => item.weak.correct).length),
  ];
});

const generatedAt = new Date().toISOString();
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const markdown = `# Routing: results

Generated by \`npm run bench:routing\` (\`bench/routing/run.mjs\`) on ${generatedAt}, in ${elapsedSeconds.toFixed(1)} s.

## Machine

- CPU: ${cpu}, ${os.cpus().length} logical cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB memory
- Node ${process.version}, ${os.type()} ${os.release()} (${process.platform}/${process.arch})
- gpt-tokenizer ${packageVersion('gpt-tokenizer')}, @pydantic/genai-prices ${packageVersion('@pydantic/genai-prices')}

## Headline

Held-out test split (${main.testSize} of ${items.length} prompts; seed ${settings.splitSeed}). Target: ${percent(settings.qualityShare, 0)} of always-strong's test accuracy = **${percent(main.targetAccuracy, 2)}**. Saving = 1 − cost per prompt / always-strong's cost per prompt, at the point where each curve reaches the target (linear interpolation between the two thresholds around the crossing).

${table(['policy', 'kind', 'accuracy', 'cost / prompt', 'cost / correct', 'saving at 95 % quality'], headlineRows, [false, false, true, true, true, true])}

- Best router: **${best.name}: ${percent(best.savingAtTarget)} saving** at 95 % of GPT-4's accuracy, against RouteLLM's published ${percent(settings.anchorSaving, 0)} (anchor) and the ${percent(settings.targetSaving, 0)} target: **${(best.savingAtTarget ?? 0) >= settings.targetSaving ? 'target met' : 'target not met'}**.
- With the threshold fixed on the train split instead (no test labels used to place it):

${table(['router', 'escalate when score', 'escalated', 'accuracy', 'of strong acc.', 'cost / prompt', 'cost / correct', 'saving'], deployedRows, [false, true, true, true, true, true, true, true])}

- Over ${settings.robustnessSplits} other seeded 50/50 splits (seeds ${settings.splitSeed + 1}–${settings.splitSeed + settings.robustnessSplits}), saving at 95 % quality:

${table(['policy', 'mean', 'min', 'max', 'reached', 'train-fixed threshold: mean saving', 'its accuracy / strong (mean, min–max)'], robustnessRows, [false, true, true, true, true, true, true])}

### Reading these figures

- The 95 % point on each test curve is located with the test labels, as RouteLLM's curves are. The train-fixed rows are what a deployment gets without them: the operating point is set exactly at the target on train, with no safety margin, so on test it lands a little under 95 % of GPT-4's accuracy (on this split ${percent(main.routers[1].deployed === undefined ? undefined : main.routers[1].deployed.accuracy / main.baselines.alwaysStrong.accuracy)} for the learned verifier, whose test half is harder for GPT-4 than its train half: ${percent(main.baselines.alwaysStrong.accuracy)} against ${percent(main.trainBaselines.alwaysStrong.accuracy)}); a deployment that must hold 95 % would aim a little higher and save a little less.
- The headline's margin over the 50 % target is thin on this split; the 20-split spread and the sensitivity table below show how much it moves with the split, with Mixtral's price and with its token count.
- The rule checks and their weights were designed looking at Mixtral's answers in the train split only.
- The correctness labels are RouteLLM's (last integer in the response equals the reference); they are taken as given.

The RouteLLM anchor is not the same measure: RouteLLM counts the share of calls sent to GPT-4 with a router that sees only the prompt; here the saving is in dollars, and the cascades pay for a Mixtral call on every prompt.

## Method

- **Data**: \`${relative(repositoryRoot, settings.csvPath)}\` (lm-sys/RouteLLM, routellm/evals/gsm8k, Apache-2.0): ${items.length} GSM8K test prompts; for Mixtral-8x7B-Instruct-v0.1 and GPT-4-1106-preview the response text and a correctness label (RouteLLM's grader: the last integer in the response equals the reference answer). Parsed with the RFC 4180 parser in \`csv.mjs\`; checked on load against the corpus README (${items.length} rows, weak ${percent(datasetCheck.weakAccuracy)}, strong ${percent(datasetCheck.strongAccuracy)}, either ${percent(datasetCheck.eitherAccuracy)}).
- **What was sent**: RouteLLM's generating script (routellm/evals/gsm8k/generate_responses.py) sent one chat user message: an 8-shot prefix (the first 8 GSM8K train examples with worked answers) + \`Question: <question>\\nAnswer:\`, temperature 0, max_tokens 1024, stop ["Question"]. The CSV keeps only the question, so the prefix is a measured constant: ${fewShotPrefixTokens} cl100k_base tokens (\`few-shot-prefix.mjs\`; \`node bench/routing/count-few-shot-prefix.mjs <train.jsonl>\` recomputes it from GSM8K's train.jsonl and checks that counts add up across the boundary).
- **Token counts**: cl100k_base via gpt-tokenizer, GPT-4-1106-preview's real tokenizer. Input = ${fewShotPrefixTokens} (prefix) + tokens of \`Question: …\\nAnswer:\` + ${chatFramingTokens} (OpenAI's chat framing of one user message, from \`encodeChat\`); output = tokens of the response text (the stop sequence, which OpenAI does not return, is not counted). Mean per prompt: input ${mean(items, (item) => item.strong.inputTokens).toFixed(0)}, output ${mean(items, (item) => item.strong.outputTokens).toFixed(0)} (GPT-4) and ${mean(items, (item) => item.weak.outputTokens).toFixed(0)} (Mixtral).
- **Mixtral's tokens are an approximation**: its tokenizer (SentencePiece, 32,000-entry vocabulary) is not available offline, so Mixtral's text is counted with cl100k_base too. A vocabulary a third the size splits text into more pieces, so the counts most likely **undercount** Mixtral's billed tokens. One part of that gap is measurable here: if numbers are split into single digits (as Llama-family SentencePiece tokenizers do), the questions and Mixtral's answers in the test split carry ${percent(digitUndercount)} more tokens than cl100k_base counts (it groups up to 3 digits). The sensitivity table below shows that even doubling every Mixtral count moves the headline by a few points only, because Mixtral's calls are ${percent(main.baselines.alwaysWeak.costPerPrompt / strongCostMain)} of GPT-4's cost.
- **Prices** (project's \`createGenaiPricesSource\` + \`costOfUsage\` from dist/, over @pydantic/genai-prices ${packageVersion('@pydantic/genai-prices')}): GPT-4-1106-preview at OpenAI, $${strongPrice.inputPerMillion} input / $${strongPrice.outputPerMillion} output per million tokens (${strongPrice.source}); Mixtral-8x7B-Instruct at Mistral's API (\`open-mixtral-8x7b\`, the model maker's list price), $${weakPrice.inputPerMillion} / $${weakPrice.outputPerMillion} per million (${weakPrice.source}). Cost of a call = input tokens × input price + output tokens × output price. Mean cost per prompt over all ${items.length}: GPT-4 ${usd(fullBaselines.alwaysStrong.costPerPrompt)}, Mixtral ${usd(fullBaselines.alwaysWeak.costPerPrompt)}.
- **Split**: a seeded shuffle (mulberry32, seed ${settings.splitSeed}) into ${main.trainSize} train / ${main.testSize} test prompts. Learned routers are fitted on train only; every figure above is on test. Always-strong on train: ${percent(main.trainBaselines.alwaysStrong.accuracy)}; on test: ${percent(main.baselines.alwaysStrong.accuracy)}.
- **What routers see**: the question, and for a cascade the weak model's answer text. The correctness labels are used only to fit the learned models on train and to score outcomes; never when a router decides.
- **Costs of a policy**: a plain router pays the model it picks; a cascade pays Mixtral on every prompt plus GPT-4 on the escalated ones, and its answer is GPT-4's when escalated, Mixtral's otherwise.
- **Random mix**: each test prompt goes to GPT-4 with probability p, mean over ${settings.randomMixSeeds} seeds per p.
- **Curves**: a router gives each prompt a score; escalating all prompts with score ≥ t, for every distinct t, gives the curve. The 95 % point is interpolated between the two points around the first crossing. The train-fixed operating point is placed the same way on the train split, with no test labels: the two thresholds around the first point that reaches 95 % of always-strong's train accuracy, and the probability of using the lenient one that makes the train accuracy exactly the target (scores on train are out-of-fold, 5 folds, for learned routers); it is then applied unchanged to the test split, and its test figures are expectations over that random choice.

### The routers

1. **Cascade, rule-based verifier** (no learning). Checks on Mixtral's answer, each with a hand-set weight; the score is the sum of the weights of the failed checks: ${Object.entries(
  checkWeights,
)
  .map(([name, weight]) => `${name} ${weight}`)
  .join(
    ', ',
  )}. \`wrongArithmetic\` re-computes every arithmetic claim in the text, GSM8K calculator annotations \`<<a*b=c>>\` and plain \`a op b = c\` chains, with a small safe evaluator (numbers, + − × ÷, parentheses, %, powers; no \`eval\`), accepting a claim rounded to the decimals it shows; \`nonIntegerAnswer\` uses the fact that GSM8K answers are whole numbers; \`noFinalMarker\` is a missing \`#### N\` line (the few-shot format; missing usually means a truncated or rambling answer); \`hedging\` looks for words such as however, approximately, assume, round, cannot; \`answerNotLastResult\` is a final answer that differs from the last computed value. On the test split:

${table(['check', 'weight', 'fails', 'of which weak wrong', 'of which weak right'], checkCounts, [false, true, true, true, true])}

2. **Cascade, learned verifier**: L2-regularised logistic regression (plain JS, \`logistic-regression.mjs\`) predicting "Mixtral's answer is correct" from ${promptFeatureNames.length} question features and ${answerFeatureNames.length} answer features (the rule checks among them); escalate when P(correct) is low. Fitted on the train split.
3. **Router, prompt only**: the same logistic regression on the ${promptFeatureNames.length} question features alone (length, how many numbers, %, fractions, decimals, money, rate words, sentences, magnitude); it routes before any call, so it pays only for the model it picks.
4. **Oracle cascade** (reference only): escalates exactly the prompts Mixtral got wrong, reading the labels: the best any cascade on these two models can do.

## Cost–accuracy curves (test split)

Each row is a threshold; rows are the points nearest to each 5 % step of the escalated share (all points are in results.json).

${[...main.routers, { ...main.oracle, kind: 'cascade' }]
  .map(
    (router) =>
      `### ${router.name} (${router.kind})\n\n${table(
        curveHeaders,
        pointsNear(router.points, sweepFractions).map(curveRow),
        curveHeaders.map(() => true),
      )}\n`,
  )
  .join('\n')}
### random mix (route a share p to GPT-4 at random; mean of ${settings.randomMixSeeds} seeds)

${table(
  ['p', ...curveHeaders],
  main.randomMixes.map((point) => [point.strongShare.toFixed(1), ...curveRow(point)]),
)}

### Baselines on the full data (all ${items.length} prompts, for comparison)

${table(
  ['policy', 'accuracy', 'cost / prompt', 'cost / correct'],
  [
    [
      'always-strong',
      percent(fullBaselines.alwaysStrong.accuracy),
      usd(fullBaselines.alwaysStrong.costPerPrompt),
      usd(fullBaselines.alwaysStrong.costPerCorrect),
    ],
    [
      'always-weak',
      percent(fullBaselines.alwaysWeak.accuracy),
      usd(fullBaselines.alwaysWeak.costPerPrompt),
      usd(fullBaselines.alwaysWeak.costPerCorrect),
    ],
  ],
  [false, true, true, true],
)}

## Sensitivity of the saving at 95 % quality (test split, same router scores)

${table(
  ['weak-model pricing', ...main.routers.map((router) => router.name)],
  sensitivity.map((entry) => [entry.label, ...main.routers.map((router) => percent(entry.savings[router.name]))]),
  [false, ...main.routers.map(() => true)],
)}
`;

function packageVersion(name) {
  return JSON.parse(readFileSync(join(repositoryRoot, 'node_modules', name, 'package.json'), 'utf8')).version;
}

const strip = (point) =>
  point === undefined
    ? null
    : {
        ...(point.threshold === undefined
          ? {}
          : { threshold: Number.isFinite(point.threshold) ? point.threshold : null }),
        escalatedFraction: point.escalatedFraction,
        accuracy: point.accuracy,
        costPerPrompt: point.costPerPrompt,
        costPerCorrect: point.costPerCorrect,
      };

const json = {
  benchmark: 'routing',
  generatedAt,
  elapsedSeconds,
  machine: { cpu, cores: os.cpus().length, node: process.version, platform: `${process.platform}/${process.arch}` },
  data: { path: relative(repositoryRoot, settings.csvPath), ...datasetCheck },
  tokens: {
    tokenizer:
      'cl100k_base (gpt-tokenizer) for both models; exact for GPT-4-1106-preview, an approximation for Mixtral',
    fewShotPrefixTokens,
    chatFramingTokens,
    mixtralDigitSplitUndercount: digitUndercount,
  },
  prices: {
    strong: { ...pricedModels.strong, ...weakless(strongPrice) },
    weak: { ...pricedModels.weak, ...weakless(weakPrice) },
  },
  settings,
  split: { seed: settings.splitSeed, train: main.trainSize, test: main.testSize, targetAccuracy: main.targetAccuracy },
  baselines: { test: main.baselines, train: main.trainBaselines, full: fullBaselines },
  randomMixes: main.randomMixes,
  randomAtTarget: strip(main.randomAtTarget),
  randomSavingAtTarget: main.randomSavingAtTarget,
  routers: main.routers.map((router) => ({
    name: router.name,
    kind: router.kind,
    learned: router.learned,
    uses: router.uses,
    atTarget: strip(router.atTarget),
    savingAtTarget: router.savingAtTarget,
    trainFixedThreshold: router.deployed ?? null,
    curve: router.points.map(strip),
  })),
  oracle: {
    name: main.oracle.name,
    atTarget: strip(main.oracle.atTarget),
    savingAtTarget: main.oracle.savingAtTarget,
    curve: main.oracle.points.map(strip),
  },
  robustness,
  sensitivity,
  anchor: {
    routeLlmSavingAt95: settings.anchorSaving,
    target: settings.targetSaving,
    bestRouter: best.name,
    bestSaving: best.savingAtTarget,
    targetMet: (best.savingAtTarget ?? 0) >= settings.targetSaving,
  },
};

function weakless(price) {
  return { inputPerMillion: price.inputPerMillion, outputPerMillion: price.outputPerMillion, source: price.source };
}

console.log(markdown);
if (process.env.BENCH_NO_WRITE !== '1') {
  // Seven significant digits are plenty for rates and dollars and keep the file small.
  const rounded = (_, value) =>
    typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(7)) : value;
  writeFileSync(join(here, 'results.json'), `${JSON.stringify(json, rounded, 1)}\n`);
  writeFileSync(join(here, 'RESULTS.md'), markdown);
  console.log(
    `wrote ${relative(repositoryRoot, join(here, 'results.json'))} and ${relative(repositoryRoot, join(here, 'RESULTS.md'))}`,
  );
}
