/**
 * data.query benchmark: the same aggregate over a generated 1,000,000-row CSV, run through the
 * `data.query` tool and directly on DuckDB (`@duckdb/node-api`) with the same settings (in-memory
 * database, 2 threads, 1 GB memory limit). The overhead is what the tool adds: its workspace
 * scan, path rewriting, statement checks, per-call connection, streaming read and CSV rendering.
 * Target: 20 % or less.
 *
 * The CSV is deterministic (a seeded generator) and written to a temporary directory. Both
 * contenders are warmed up, then run interleaved, alternating which goes first; the figures are
 * the median and the minimum of the measured runs. The tool's first call, which opens its
 * database, is timed separately.
 *
 * Run: `npm run build && node bench/tools/data-query.mjs`. Environment overrides for quick
 * checks: BENCH_ROWS (1000000), BENCH_RUNS (9), BENCH_WARMUP_RUNS (2), BENCH_NO_WRITE=1 to leave
 * data-query-results.md untouched.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { createDataTools } from '../../dist/toolchain/data/data-tools.js';
import { createToolContext } from '../../dist/tools/tool-context.js';

const here = dirname(fileURLToPath(import.meta.url));

const settings = {
  rows: positiveInteger('BENCH_ROWS', 1_000_000),
  measuredRuns: positiveInteger('BENCH_RUNS', 9),
  warmupRuns: positiveInteger('BENCH_WARMUP_RUNS', 2),
};

const query =
  "SELECT region, date_trunc('month', day) AS month, sum(amount) AS total, count(*) AS orders FROM 'sales.csv' GROUP BY ALL ORDER BY region, month";

function positiveInteger(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${text}`);
  return value;
}

/** A seeded generator (mulberry32), so every run writes the same file. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Write `rows` sales rows (id, region, day, product, quantity, amount) in blocks. */
function writeSalesCsv(path, rows) {
  const random = seededRandom(20240601);
  const regions = ['North', 'South', 'East', 'West', 'Central', 'Coast', 'Mountain', 'Islands'];
  const products = ['widget', 'gadget', 'gizmo', 'doohickey', 'sprocket'];
  const start = Date.UTC(2024, 0, 1);
  const file = openSync(path, 'w');
  writeSync(file, 'id,region,day,product,quantity,amount\n');
  let block = [];
  for (let id = 1; id <= rows; id++) {
    const region = regions[Math.floor(random() * regions.length)];
    const day = new Date(start + Math.floor(random() * 366) * 86_400_000).toISOString().slice(0, 10);
    const product = products[Math.floor(random() * products.length)];
    const quantity = 1 + Math.floor(random() * 20);
    const amount = (quantity * (5 + random() * 95)).toFixed(2);
    block.push(`${id},${region},${day},${product},${quantity},${amount}`);
    if (block.length === 10_000) {
      writeSync(file, `${block.join('\n')}\n`);
      block = [];
    }
  }
  if (block.length > 0) writeSync(file, `${block.join('\n')}\n`);
  closeSync(file);
}

function median(values) {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main() {
  const workspace = mkdtempSync(join(os.tmpdir(), 'hataraku-bench-data-query-'));
  const csvPath = join(workspace, 'sales.csv');
  try {
    const generationStart = performance.now();
    writeSalesCsv(csvPath, settings.rows);
    const generationMs = performance.now() - generationStart;
    const fileBytes = statSync(csvPath).size;
    console.log(
      `generated ${settings.rows} rows (${(fileBytes / 1e6).toFixed(1)} MB) in ${generationMs.toFixed(0)} ms`,
    );

    // Directly on DuckDB, configured as the tool's database is.
    const instance = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1GB' });
    const connection = await instance.connect();
    const directSql = query.replace("'sales.csv'", `'${csvPath.replaceAll("'", "''")}'`);
    let directRows = 0;
    const runDirect = async () => {
      const reader = await connection.runAndReadAll(directSql);
      directRows = reader.getRowObjectsJS().length;
    };

    const [dataQuery] = createDataTools();
    const context = createToolContext({ workspace });
    const arguments_ = dataQuery.validate({ sql: query });
    if (!arguments_.success) throw new Error(JSON.stringify(arguments_.issues));
    let toolText = '';
    const runTool = async () => {
      toolText = await dataQuery.execute(arguments_.data, context);
    };

    const coldStart = performance.now();
    await runTool();
    const toolColdMs = performance.now() - coldStart;

    for (let run = 0; run < settings.warmupRuns; run++) {
      await runDirect();
      await runTool();
    }
    const times = { direct: [], tool: [] };
    for (let run = 0; run < settings.measuredRuns; run++) {
      const order = run % 2 === 0 ? ['direct', 'tool'] : ['tool', 'direct'];
      for (const contender of order) {
        const started = performance.now();
        await (contender === 'direct' ? runDirect() : runTool());
        times[contender].push(performance.now() - started);
      }
    }
    connection.closeSync();
    instance.closeSync();
    await context.dispose();

    const toolRows = Number(/^(\d+) rows/.exec(toolText)?.[1]);
    if (toolRows !== directRows) throw new Error(`row counts differ: tool ${toolRows}, direct ${directRows}`);

    const directMedian = median(times.direct);
    const toolMedian = median(times.tool);
    const overhead = toolMedian / directMedian - 1;
    const summary = {
      directMedian,
      directMin: Math.min(...times.direct),
      toolMedian,
      toolMin: Math.min(...times.tool),
      overhead,
      overheadOfMinimum: Math.min(...times.tool) / Math.min(...times.direct) - 1,
      toolColdMs,
    };
    console.log(`direct DuckDB: median ${directMedian.toFixed(1)} ms, min ${summary.directMin.toFixed(1)} ms`);
    console.log(`data.query:    median ${toolMedian.toFixed(1)} ms, min ${summary.toolMin.toFixed(1)} ms`);
    console.log(
      `overhead: ${(overhead * 100).toFixed(1)} % (target: 20 % or less); first call (opens the database): ${toolColdMs.toFixed(1)} ms`,
    );
    console.log(`result: ${toolRows} rows`);

    if (process.env.BENCH_NO_WRITE !== '1') {
      writeResults({ summary, times, fileBytes, generationMs, toolRows });
      console.log(`wrote ${join(here, 'data-query-results.md')}`);
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

function writeResults({ summary, times, fileBytes, generationMs, toolRows }) {
  const cpus = os.cpus();
  const format = (values) => values.map((value) => value.toFixed(1)).join(', ');
  const text = `# data.query benchmark

The same aggregate over a generated CSV, through the \`data.query\` tool and directly on DuckDB.
Produced by \`node bench/tools/data-query.mjs\` (after \`npm run build\`); do not edit by hand.

- Date: ${new Date().toISOString()}
- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB memory, ${os.platform()} ${os.release()}
- Node ${process.version}, DuckDB via @duckdb/node-api (both contenders: in-memory database, 2 threads, memory_limit 1GB)
- Data: ${settings.rows} rows, ${(fileBytes / 1e6).toFixed(1)} MB CSV (id, region, day, product, quantity, amount), seeded generator, written in ${generationMs.toFixed(0)} ms
- Query (${toolRows} result rows): \`${query}\`
- Method: ${settings.warmupRuns} warm-up runs of each, then ${settings.measuredRuns} measured runs of each, interleaved with alternating order. Direct DuckDB reads the whole result into JS objects (\`runAndReadAll\` + \`getRowObjectsJS\`); the tool returns its CSV text.

${markdownTable([
  ['', 'median (ms)', 'min (ms)'],
  ['DuckDB directly', summary.directMedian.toFixed(1), summary.directMin.toFixed(1)],
  ['data.query', summary.toolMedian.toFixed(1), summary.toolMin.toFixed(1)],
])}

**Overhead: ${(summary.overhead * 100).toFixed(1)} %** of the median (target: 20 % or less); ${(summary.overheadOfMinimum * 100).toFixed(1)} % of the minimum.

The tool's first call in a run, which also opens and locks down its database, took ${summary.toolColdMs.toFixed(1)} ms.

Measured runs (ms): direct ${format(times.direct)}; data.query ${format(times.tool)}.
`;
  writeFileSync(join(here, 'data-query-results.md'), text);
}

/** A Markdown table with padded columns, as the repository's formatter writes them. */
function markdownTable(rows) {
  const widths = rows[0].map((_, column) => Math.max(3, ...rows.map((row) => row[column].length)));
  const line = (cells) => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  const [header, ...body] = rows;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}

await main();
