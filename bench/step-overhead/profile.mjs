/**
 * Where Hataraku's per-step overhead goes: runs the step-overhead script through Hataraku only
 * and reports (1) every journal call, counted and timed, through a journal that wraps the real
 * SQLite journal, and (2) a CPU profile of the measured runs (V8's sampling profiler through
 * `node:inspector`), as self time per function and total time under chosen functions.
 *
 * Run: `npm run build && node bench/step-overhead/profile.mjs` (file journal), or with
 * `BENCH_JOURNAL=memory`, or `BENCH_DURABILITY=power` (default `process`). BENCH_TURNS (20), BENCH_WARMUP_RUNS (20), BENCH_RUNS (200) as in
 * `run.mjs`. The raw profile is written to the temp dir (open it in Chrome DevTools).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { openSqliteEngine } from '../../dist/engine/index.js';
import { agent, run, tool } from '../../dist/index.js';
import { createScriptedModel } from '../../dist/testing/index.js';
import { addNumbers, buildScript } from './script.mjs';
import { summarize } from './statistics.mjs';

const turns = Number(process.env.BENCH_TURNS ?? 20);
const warmupRuns = Number(process.env.BENCH_WARMUP_RUNS ?? 20);
const measuredRuns = Number(process.env.BENCH_RUNS ?? 200);
const journalKind = process.env.BENCH_JOURNAL === 'memory' ? 'memory' : 'file';
const steps = turns + 1;
const repositoryRoot = join(import.meta.dirname, '..', '..');

/** A Journal that forwards to `journal` and adds up the calls and time spent in each method. */
function timedJournal(journal) {
  const timings = new Map();
  const timed = {};
  for (const method of Object.keys(journal)) {
    timed[method] = (...parameters) => {
      const started = process.hrtime.bigint();
      try {
        return journal[method](...parameters);
      } finally {
        const entry = timings.get(method) ?? { calls: 0, nanoseconds: 0n };
        entry.calls++;
        entry.nanoseconds += process.hrtime.bigint() - started;
        timings.set(method, entry);
      }
    };
  }
  return { journal: timed, timings };
}

/** Self time per function, and total (inclusive) time of functions whose names match `wanted`. */
function analyse(profile, wanted) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const sampleCounts = new Map();
  for (const id of profile.samples) sampleCounts.set(id, (sampleCounts.get(id) ?? 0) + 1);
  const totalSamples = profile.samples.length;
  const name = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${relative(repositoryRoot, url.replace('file://', ''))}:${lineNumber + 1}` : '';
    return `${functionName || '(anonymous)'} ${where}`.trim();
  };
  const self = new Map();
  const inclusive = new Map();
  for (const [id, count] of sampleCounts) {
    const node = nodes.get(id);
    self.set(name(node), (self.get(name(node)) ?? 0) + count);
    const seen = new Set();
    for (let current = id; current !== undefined; current = parents.get(current)) {
      const frame = nodes.get(current);
      const label = wanted.find((pattern) => pattern.test(name(frame)));
      if (label && !seen.has(String(label))) {
        seen.add(String(label));
        inclusive.set(String(label), (inclusive.get(String(label)) ?? 0) + count);
      }
    }
  }
  const share = (count) => Math.round((count / totalSamples) * 1000) / 10;
  return {
    totalSamples,
    self: [...self.entries()]
      .sort((left, right) => right[1] - left[1])
      .slice(0, 30)
      .map(([frame, count]) => ({ frame, percent: share(count) })),
    inclusive: [...inclusive.entries()]
      .sort((left, right) => right[1] - left[1])
      .map(([pattern, count]) => ({ pattern, percent: share(count) })),
  };
}

/** Functions whose total time is worth knowing; the patterns match "functionName path:line". */
const watched = [
  /^commitStep /,
  /^totals /,
  /^getStep /,
  /^listSteps /,
  /^createRun /,
  /^finishRun /,
  /^getRun /,
  /^digestOf /,
  /^estimateRequestTokens /,
  /^collectResponse /,
  /^runToolTurn /,
  /^prepareToolCall /,
  /^extractTextToolCalls /,
  /^usageFor /,
  /^stream .*scripted-model/,
  /^\(garbage collector\)/,
  /^\(program\)/,
];

async function main() {
  const directory = mkdtempSync(join(os.tmpdir(), 'hataraku-bench-profile-'));
  const base = openSqliteEngine({
    path: journalKind === 'memory' ? ':memory:' : join(directory, 'journal.db'),
    durability: process.env.BENCH_DURABILITY === 'power' ? 'power' : 'process',
  });
  const { journal, timings } = timedJournal(base);
  const script = buildScript(turns);
  const addTool = tool({
    name: 'add',
    description: 'Add two numbers and return the sum.',
    input: z.object({ a: z.number(), b: z.number() }),
    execute: addNumbers,
  });
  const once = async () => {
    const model = createScriptedModel({ script, modelId: 'bench' });
    const worker = agent({
      name: 'bench',
      instructions: 'You add numbers with the add tool, then say you are done.',
      model,
      tools: [addTool],
      limits: { maxSteps: steps },
    });
    const started = process.hrtime.bigint();
    const result = await run(worker, 'Add the scripted pairs of numbers.', { engine: journal });
    if (result.status !== 'completed') throw new Error(`run ended ${result.status} (${result.stopReason})`);
    return Number(process.hrtime.bigint() - started) / 1000 / steps;
  };

  try {
    for (let index = 0; index < warmupRuns; index++) await once();
    timings.clear();
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 50 });
    await session.post('Profiler.start');
    const perStep = [];
    for (let index = 0; index < measuredRuns; index++) perStep.push(await once());
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const profilePath = join(os.tmpdir(), `hataraku-step-overhead-${journalKind}.cpuprofile`);
    writeFileSync(profilePath, JSON.stringify(profile));

    const stepSummary = summarize(perStep);
    console.log(
      `Hataraku, ${journalKind} journal, profiled: median ${stepSummary.median.toFixed(1)} µs/step, p90 ${stepSummary.p90.toFixed(1)} (${measuredRuns} runs × ${steps} steps; the profiler adds overhead)\n`,
    );
    console.log('journal calls per step (all runs averaged):');
    const totalSteps = measuredRuns * steps;
    console.table(
      Object.fromEntries(
        [...timings.entries()]
          .sort((left, right) => Number(right[1].nanoseconds - left[1].nanoseconds))
          .map(([method, entry]) => [
            method,
            {
              callsPerStep: Math.round((entry.calls / totalSteps) * 100) / 100,
              microsecondsPerCall: Math.round(Number(entry.nanoseconds) / 1000 / entry.calls),
              microsecondsPerStep: Math.round(Number(entry.nanoseconds) / 1000 / totalSteps),
            },
          ]),
      ),
    );
    const analysis = analyse(profile, watched);
    console.log(`CPU profile: ${analysis.totalSamples} samples, written to ${profilePath}`);
    console.log('total time under (percent of samples):');
    console.table(analysis.inclusive);
    console.log('top self time:');
    console.table(analysis.self);
  } finally {
    base.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
