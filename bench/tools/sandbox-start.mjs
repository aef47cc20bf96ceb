/**
 * Sandbox start-up benchmark: cold and warm start of each tier of `code.run`.
 *
 * - cold: create a sandbox and run a trivial program (worker start and engine load for the wasm
 *   tier; a new bubblewrap sandbox and interpreter for the process tier, where every run is cold).
 * - warm: run a trivial program on a sandbox that has already run one.
 *
 * Targets (issue 5): wasm JavaScript under 5 ms warm; process tier under 100 ms cold.
 * Run with `npm run build && node bench/tools/sandbox-start.mjs`; writes sandbox-results.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProcessSandbox, probeProcessTier } from '../../dist/toolchain/code/process-sandbox.js';
import { createWasmSandbox } from '../../dist/toolchain/code/wasm-sandbox.js';

const here = dirname(fileURLToPath(import.meta.url));
const workspace = mkdtempSync(join(tmpdir(), 'sandbox-bench-'));

function summarize(samples) {
  const sorted = [...samples].sort((left, right) => left - right);
  const at = (fraction) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
  return { runs: sorted.length, median: at(0.5), p95: at(0.95), min: sorted[0] };
}

async function timed(action) {
  const started = performance.now();
  const result = await action();
  const elapsed = performance.now() - started;
  if (result !== undefined && result.exitCode !== 0) throw new Error(`benchmark run failed: ${result.stderr}`);
  return elapsed;
}

async function coldAndWarm(label, language, create, coldRuns, warmRuns) {
  const code = language === 'python' ? 'x = 1' : 'var x = 1';
  const cold = [];
  for (let index = 0; index < coldRuns; index++) {
    const sandbox = create();
    cold.push(await timed(() => sandbox.run({ language, code })));
    await sandbox.dispose();
  }
  const sandbox = create();
  await sandbox.run({ language, code });
  const warm = [];
  for (let index = 0; index < warmRuns; index++) warm.push(await timed(() => sandbox.run({ language, code })));
  await sandbox.dispose();
  return { label, cold: summarize(cold), warm: summarize(warm) };
}

const rows = [];
rows.push(
  await coldAndWarm('wasm, JavaScript (QuickJS)', 'javascript', () => createWasmSandbox({ workspace }), 10, 300),
);
rows.push(await coldAndWarm('wasm, Python (Pyodide)', 'python', () => createWasmSandbox({ workspace }), 3, 50));
const probe = await probeProcessTier();
if (probe.available) {
  rows.push(
    await coldAndWarm(
      'process, Python (/usr/bin/python3 in bwrap)',
      'python',
      () => createProcessSandbox({ workspace }),
      20,
      20,
    ),
  );
  rows.push(
    await coldAndWarm(
      'process, JavaScript (node in bwrap)',
      'javascript',
      () => createProcessSandbox({ workspace }),
      20,
      20,
    ),
  );
} else {
  console.log(`process tier not available: ${probe.reason}`);
}

// Baselines: the same interpreters started without any sandbox, to separate the sandbox's
// overhead from the interpreter's own start-up.
function baseline(label, command, args) {
  const samples = [];
  for (let index = 0; index < 20; index++) {
    const started = performance.now();
    spawnSync(command, args, { stdio: 'ignore' });
    samples.push(performance.now() - started);
  }
  const summary = summarize(samples);
  return { label, cold: summary, warm: summary };
}
rows.push(baseline('baseline: /usr/bin/python3 -c pass, no sandbox', '/usr/bin/python3', ['-c', 'pass']));
rows.push(baseline('baseline: node -e 0, no sandbox', process.execPath, ['-e', '0']));
rmSync(workspace, { recursive: true, force: true });

const format = (value) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`;
const date = new Date().toISOString();
const load = `load average at the end: ${loadavg()
  .map((value) => value.toFixed(1))
  .join(', ')} (a loaded machine inflates the process-tier figures most)`;
const table = [
  '| Tier | Cold median | Cold p95 | Warm median | Warm p95 | Runs (cold/warm) |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (row) =>
      `| ${row.label} | ${format(row.cold.median)} | ${format(row.cold.p95)} | ${format(row.warm.median)} | ${format(row.warm.p95)} | ${row.cold.runs}/${row.warm.runs} |`,
  ),
].join('\n');
console.log(`${machine}\n${date}\n${load}\n\n${table}`);

const wasmJavaScript = rows[0];
const processPython = rows.find((row) => row.label.startsWith('process, Python'));
const verdicts = [
  `- wasm JavaScript warm: ${format(wasmJavaScript.warm.median)} median (target under 5 ms): ${wasmJavaScript.warm.median < 5 ? 'met' : 'missed'}.`,
  processPython === undefined
    ? '- process tier: not measured (bubblewrap not usable on this machine).'
    : `- process tier cold (Python): ${format(processPython.cold.median)} median (target under 100 ms): ${processPython.cold.median < 100 ? 'met' : 'missed'}.`,
];
writeFileSync(
  join(here, 'sandbox-results.md'),
  [
    '# Sandbox start-up',
    '',
    `Machine: ${machine}`,
    `Date: ${date}`,
    `Load: ${load}`,
    '',
    'Cold: create a sandbox and run a one-line program (for the wasm tier this starts a worker and loads the engine; in the process tier every run is a new bubblewrap sandbox and interpreter, so cold and warm are the same path). Warm: the same program on a sandbox that has already run once. Times include the workspace snapshot taken before and after each run to report changed files.',
    '',
    table,
    '',
    ...verdicts,
    '',
    'Reproduce: `npm run build && node bench/tools/sandbox-start.mjs`.',
    '',
  ].join('\n'),
);
