/**
 * Step-overhead benchmark: what each agent runtime itself costs per loop turn, with the model's
 * latency taken out (scripted models answer at once).
 *
 * Contenders, all in this one process, on the same script (`script.mjs`): Hataraku `run()` with
 * its SQLite journal in a real file under the default durability `process` (WAL, every step
 * committed with synchronous=NORMAL, no fsync), the same under `power` (group commit: fsynced
 * before effects and with the final result), Hataraku with an
 * in-memory journal (to separate the journal's cost from the loop's), the Vercel AI SDK's
 * `generateText` tool loop, and the OpenAI Agents SDK's `run`.
 *
 * A step is one loop turn: one model call plus the tool call it asks for. A run of `turns` tool
 * turns has `turns + 1` steps (the last model call gives the final answer and calls no tool).
 * Per-step overhead = wall time of the whole run / steps. Runs are interleaved (round-robin,
 * with the starting contender rotating each round) after warm-up runs of every contender.
 *
 * Run: `npm run bench:step-overhead` (builds dist/ first). Environment overrides for quick
 * checks: BENCH_TURNS (20), BENCH_WARMUP_RUNS (20), BENCH_RUNS (200), BENCH_COMMITS (300),
 * BENCH_REPEATS (3: the whole measurement again, each with fresh journals; the tables pool the
 * samples and the spread of the repeats' ratios is reported beside them), BENCH_NO_WRITE=1 to
 * leave results.json and RESULTS.md untouched.
 */
import { mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureCommitCost } from './commit-cost.mjs';
import { agentsSdkContender, aiSdkContender, hatarakuContender, journalFileIn } from './contenders.mjs';
import { summarize } from './statistics.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = join(here, '..', '..');

const settings = {
  turns: positiveInteger('BENCH_TURNS', 20),
  warmupRuns: positiveInteger('BENCH_WARMUP_RUNS', 20),
  measuredRuns: positiveInteger('BENCH_RUNS', 200),
  commits: positiveInteger('BENCH_COMMITS', 300),
  repeats: positiveInteger('BENCH_REPEATS', 3),
};
const steps = settings.turns + 1;

function positiveInteger(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${text}`);
  return value;
}

function versionIn(manifestPath) {
  return JSON.parse(readFileSync(manifestPath, 'utf8')).version;
}

function packageVersion(name) {
  return versionIn(join(repositoryRoot, 'node_modules', name, 'package.json'));
}

/** Linux filesystem magic numbers of the file systems a temp dir is likely to sit on. */
const filesystemNames = new Map([
  [0xef53, 'ext2/3/4'],
  [0x01021994, 'tmpfs'],
  [0x794c7630, 'overlayfs'],
  [0x9123683e, 'btrfs'],
  [0x58465342, 'xfs'],
  [0x2fc12fc1, 'zfs'],
]);

function filesystemOf(directory) {
  try {
    const type = statfsSync(directory).type;
    return filesystemNames.get(type) ?? `type 0x${type.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

function machine(directory) {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    logicalCores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()} (${process.platform}/${process.arch})`,
    tempDirectory: directory,
    tempFilesystem: filesystemOf(directory),
    note:
      process.env.BENCH_MACHINE_NOTE ??
      'The machine was not otherwise idle; figures from a shared machine vary from run to run.',
  };
}

async function measure(contenders) {
  const samples = new Map(contenders.map(({ id }) => [id, []]));
  const rounds = settings.warmupRuns + settings.measuredRuns;
  for (let round = 0; round < rounds; round++) {
    for (let offset = 0; offset < contenders.length; offset++) {
      const contender = contenders[(round + offset) % contenders.length];
      const elapsed = await contender.runOnce();
      if (round >= settings.warmupRuns) samples.get(contender.id).push(Number(elapsed) / 1000 / steps);
    }
  }
  return samples;
}

const round1 = (value) => Math.round(value * 10) / 10;
const round2 = (value) => Math.round(value * 100) / 100;

function summaryRow(contender, samples) {
  const perStep = summarize(samples);
  return {
    id: contender.id,
    label: contender.label,
    perStepMicroseconds: {
      median: round1(perStep.median),
      p90: round1(perStep.p90),
      mean: round1(perStep.mean),
      min: round1(perStep.min),
    },
    perRunMilliseconds: { median: round2((perStep.median * steps) / 1000) },
  };
}

/**
 * A Markdown table laid out the way Biome formats Markdown (columns padded to their widest cell,
 * numbers right-aligned), so that a fresh RESULTS.md passes `biome check` as written.
 */
function markdownTable(headers, rows) {
  const cells = [headers, ...rows].map((row) => row.map(String));
  const rightAligned = headers.map((_, column) => column > 0);
  const widths = headers.map((_, column) => Math.max(3, ...cells.map((row) => row[column].length)));
  const line = (row) =>
    `| ${row.map((cell, column) => (rightAligned[column] ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join(' | ')} |`;
  const separator = widths.map((width, column) =>
    rightAligned[column] ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width),
  );
  return [line(cells[0]), `| ${separator.join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}

function renderMarkdown(results) {
  const { machine: host, versions, method, contenders: rows, ratios, journal, repeats, spread } = results;
  const repeatTable = markdownTable(
    ['Repeat', 'file process / AI SDK', 'file power / AI SDK', 'memory / AI SDK'],
    repeats.map((entry) => [
      entry.repeat,
      `${entry.fileOverAiSdk}×`,
      `${entry.filePowerOverAiSdk}×`,
      `${entry.memoryOverAiSdk}×`,
    ]),
  );
  const contenderTable = markdownTable(
    ['Contender', 'median µs/step', 'p90 µs/step', 'mean µs/step', 'min µs/step', 'median ms/run'],
    rows.map((row) => [
      row.label,
      row.perStepMicroseconds.median,
      row.perStepMicroseconds.p90,
      row.perStepMicroseconds.mean,
      row.perStepMicroseconds.min,
      row.perRunMilliseconds.median,
    ]),
  );
  const ratioTable = markdownTable(
    ['Ratio (medians per step)', 'value'],
    ratios.map((ratio) => [ratio.label, `${ratio.value}×`]),
  );
  const commitTable = markdownTable(
    ['synchronous (WAL)', 'median µs/commit', 'p90 µs/commit'],
    Object.entries(journal.commitCostMicroseconds).map(([mode, cost]) => [mode, cost.median, cost.p90]),
  );
  return `# Step overhead: results

Generated by \`npm run bench:step-overhead\` (\`bench/step-overhead/run.mjs\`) on ${results.date}.

## Machine

- CPU: ${host.cpuModel}, ${host.logicalCores} logical cores, ${host.memoryGiB} GiB memory
- Node ${host.node}, ${host.os}
- Journal file on ${host.tempFilesystem} (temp dir under \`${dirname(host.tempDirectory)}\`)
- ${host.note}
- Versions: hataraku ${versions.hataraku} (dist/), ai ${versions.ai}, @openai/agents-core ${versions.agentsCore}, better-sqlite3 ${versions.betterSqlite3}, zod ${versions.zod}

## Method

${method.map((line) => `- ${line}`).join('\n')}

## Per-step overhead

${contenderTable}

${ratioTable}

Spread over the ${repeats.length} repeats (each its own medians): file journal (process) / AI SDK ${spread.fileOverAiSdk.min}–${spread.fileOverAiSdk.max}×, file journal (power) / AI SDK ${spread.filePowerOverAiSdk.min}–${spread.filePowerOverAiSdk.max}×, in-memory / AI SDK ${spread.memoryOverAiSdk.min}–${spread.memoryOverAiSdk.max}×.

${repeatTable}

## Journal cost

- Hataraku file journal (process) minus in-memory journal: **${journal.fileMinusMemoryMicrosecondsPerStep} µs per step** (medians); power minus process: **${journal.powerMinusProcessMicrosecondsPerStep} µs per step**.
- Commits per step: ${journal.commitsPerStep} (each model call and each tool call is one \`commitStep\`, written with synchronous=NORMAL: it survives the process being killed; plus the run's \`createRun\` and \`finishRun\`, spread over the steps). fsyncs per run: ${journal.fsyncsPerRun.process} under \`process\`, ${journal.fsyncsPerRun.power} under \`power\` (the final result; this script's tool has effect \`none\`, so no barrier is needed before it). WAL checkpoints (which fsync under synchronous=NORMAL) run every 10,000 pages.
- One commit of a step-sized row in a WAL database on the same file system (${settings.commits} commits each):

${commitTable}

- fsync cost of one commit (FULL − OFF, medians): **${journal.fsyncMicrosecondsPerCommit} µs**; under \`power\`, with one fsync per run, about **${journal.fsyncMicrosecondsPerStep} µs per step** is the disk making the run durable.
`;
}

const contenders = [
  { id: 'hataraku-file', label: 'Hataraku, SQLite file journal, durability process (default)' },
  { id: 'hataraku-file-power', label: 'Hataraku, SQLite file journal, durability power (group commit)' },
  { id: 'hataraku-memory', label: 'Hataraku, in-memory SQLite journal' },
  { id: 'ai-sdk', label: `Vercel AI SDK ${packageVersion('ai')} generateText` },
  { id: 'openai-agents', label: `OpenAI Agents SDK ${packageVersion('@openai/agents-core')} run` },
];
const hatarakuIds = ['hataraku-file', 'hataraku-file-power', 'hataraku-memory'];
const peerIds = ['ai-sdk', 'openai-agents'];

/** One whole measurement, with fresh journals in `directory`: per-step samples per contender. */
async function measureOnce(directory, repeat) {
  const builders = {
    'hataraku-file': () =>
      hatarakuContender({ turns: settings.turns, journalPath: journalFileIn(directory, `process-${repeat}`) }),
    'hataraku-file-power': () =>
      hatarakuContender({
        turns: settings.turns,
        journalPath: journalFileIn(directory, `power-${repeat}`),
        durability: 'power',
      }),
    'hataraku-memory': () => hatarakuContender({ turns: settings.turns, journalPath: ':memory:' }),
    'ai-sdk': () => aiSdkContender({ turns: settings.turns }),
    'openai-agents': () => agentsSdkContender({ turns: settings.turns }),
  };
  const running = contenders.map((contender) => ({ ...contender, ...builders[contender.id]() }));
  const samples = await measure(running);
  for (const contender of running) contender.close();
  return samples;
}

async function main() {
  const directory = mkdtempSync(join(os.tmpdir(), 'hataraku-bench-step-overhead-'));
  try {
    const started = process.hrtime.bigint();
    const pooled = new Map(contenders.map(({ id }) => [id, []]));
    const repeats = [];
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      const samples = await measureOnce(directory, repeat);
      for (const [id, values] of samples) pooled.get(id).push(...values);
      const medianOf = (id) => summarize(samples.get(id)).median;
      repeats.push({
        repeat: repeat + 1,
        medianMicrosecondsPerStep: Object.fromEntries(contenders.map(({ id }) => [id, round1(medianOf(id))])),
        fileOverAiSdk: round2(medianOf('hataraku-file') / medianOf('ai-sdk')),
        filePowerOverAiSdk: round2(medianOf('hataraku-file-power') / medianOf('ai-sdk')),
        memoryOverAiSdk: round2(medianOf('hataraku-memory') / medianOf('ai-sdk')),
      });
      console.log(`repeat ${repeat + 1}: ${JSON.stringify(repeats.at(-1))}`);
    }
    const commitCost = measureCommitCost({ directory, commits: settings.commits });
    const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;

    const rows = contenders.map((contender) => summaryRow(contender, pooled.get(contender.id)));
    const median = (id) => rows.find((row) => row.id === id).perStepMicroseconds.median;
    const ratios = [];
    for (const hataraku of hatarakuIds) {
      for (const peer of peerIds) {
        ratios.push({
          numerator: hataraku,
          denominator: peer,
          label: `${rows.find((row) => row.id === hataraku).label} / ${rows.find((row) => row.id === peer).label}`,
          value: round2(median(hataraku) / median(peer)),
        });
      }
    }
    const spread = (key) => ({
      min: Math.min(...repeats.map((entry) => entry[key])),
      max: Math.max(...repeats.map((entry) => entry[key])),
    });
    // Per run: one createRun, one commitStep per model call and per tool call, one finishRun.
    const commitsPerRun = 1 + steps + settings.turns + 1;
    const fsyncPerCommit = commitCost.FULL.median - commitCost.OFF.median;
    const results = {
      benchmark: 'step-overhead',
      date: new Date().toISOString(),
      machine: machine(directory),
      versions: {
        hataraku: versionIn(join(repositoryRoot, 'package.json')),
        ai: packageVersion('ai'),
        agentsCore: packageVersion('@openai/agents-core'),
        betterSqlite3: packageVersion('better-sqlite3'),
        zod: packageVersion('zod'),
      },
      settings: { ...settings, stepsPerRun: steps },
      method: [
        `Script: ${settings.turns} turns, each one \`add\` tool call (zod input {a, b}, returns a + b; arguments differ per turn), then one final text turn; fixed usage per turn; zero model latency. The same script object drives all contenders; the tool logic is the same function.`,
        `A step is one loop turn: one model call plus its tool call. A run has ${steps} steps (${settings.turns} tool turns + the final-answer turn). Per-step overhead = wall time of one whole run (process.hrtime.bigint around the framework's run call) / ${steps}.`,
        `${settings.warmupRuns} warm-up runs then ${settings.measuredRuns} measured runs per contender, all in one process, interleaved round-robin with the first contender rotating each round; the whole measurement is repeated ${settings.repeats} times with fresh journals. Median and p90 are over the ${settings.measuredRuns * settings.repeats} per-run values of all repeats; the repeats' own ratios are listed for their spread.`,
        'Hataraku: `run(agent, task, { engine })` with `createScriptedModel` (its real scripted model, which streams) and an engine opened once per repeat: `openSqliteEngine({ path, durability })` on a file in a fresh temp dir, with durability `process` (the default: WAL, every step committed with synchronous=NORMAL, no fsync) and `power` (group commit: the same commits, plus an fsync under synchronous=FULL before effectful tools and with the final result), or `:memory:`. A new scripted model and agent per run, made outside the timer.',
        'Vercel AI SDK: `generateText({ model, system, prompt, tools, stopWhen: stepCountIs(steps) })` with a hand-written LanguageModelV3 scripted model (doGenerate). No persistence.',
        'OpenAI Agents SDK: `new Runner({ tracingDisabled: true }).run(agent, task, { maxTurns: steps })` with a hand-written `Model` (getResponse). Tracing is off because agents-core alone exports traces to the console. No persistence.',
        'Every run is checked: completed, final answer text as scripted, the tool executed exactly once per tool turn.',
        `Commit cost: a separate micro-benchmark of one-row INSERT transactions (better-sqlite3, WAL) with synchronous FULL, NORMAL and OFF, ${settings.commits} commits each, on the same file system.`,
      ],
      contenders: rows,
      ratios,
      repeats,
      spread: {
        fileOverAiSdk: spread('fileOverAiSdk'),
        filePowerOverAiSdk: spread('filePowerOverAiSdk'),
        memoryOverAiSdk: spread('memoryOverAiSdk'),
      },
      journal: {
        fileMinusMemoryMicrosecondsPerStep: round1(median('hataraku-file') - median('hataraku-memory')),
        powerMinusProcessMicrosecondsPerStep: round1(median('hataraku-file-power') - median('hataraku-file')),
        commitsPerStep: round2(commitsPerRun / steps),
        commitCostMicroseconds: Object.fromEntries(
          Object.entries(commitCost).map(([mode, cost]) => [
            mode,
            { median: round1(cost.median), p90: round1(cost.p90) },
          ]),
        ),
        fsyncMicrosecondsPerCommit: round1(fsyncPerCommit),
        fsyncsPerRun: { process: 0, power: 1 },
        fsyncMicrosecondsPerStep: round1(fsyncPerCommit / steps),
      },
      totalSeconds: round1(totalSeconds),
    };

    console.log(`step overhead, µs per step (${steps} steps per run, ${settings.measuredRuns} measured runs each)\n`);
    console.table(
      Object.fromEntries(
        rows.map((row) => [
          row.label,
          {
            median: row.perStepMicroseconds.median,
            p90: row.perStepMicroseconds.p90,
            mean: row.perStepMicroseconds.mean,
          },
        ]),
      ),
    );
    for (const ratio of ratios) console.log(`${ratio.label}: ${ratio.value}×`);
    console.log(
      `\njournal: file − memory = ${results.journal.fileMinusMemoryMicrosecondsPerStep} µs/step; fsync ≈ ${results.journal.fsyncMicrosecondsPerCommit} µs, once per run = ${results.journal.fsyncMicrosecondsPerStep} µs/step`,
    );
    console.log(
      `commit cost (µs, median): ${Object.entries(results.journal.commitCostMicroseconds)
        .map(([mode, cost]) => `${mode} ${cost.median}`)
        .join(', ')}`,
    );
    console.log(`measured in ${results.totalSeconds} s`);

    if (process.env.BENCH_NO_WRITE !== '1') {
      writeFileSync(join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
      writeFileSync(join(here, 'RESULTS.md'), renderMarkdown(results));
      console.log(`wrote ${join('bench', 'step-overhead', 'results.json')} and RESULTS.md`);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
