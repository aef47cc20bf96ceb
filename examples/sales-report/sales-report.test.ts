import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agent } from '../../src/agent/agent.js';
import { type RunResult, run } from '../../src/agent/run.js';
import type { Engine, StepRecord } from '../../src/engine/engine.js';
import { openSqliteEngine } from '../../src/engine/sqlite/sqlite-engine.js';
import { salesReportExample } from '../../src/examples/sales-report.js';
import { createScriptedModel, loadScript } from '../../src/models/scripted/scripted-model.js';
import { createDataTools } from '../../src/toolchain/data/data-tools.js';
import { createToolContext } from '../../src/tools/tool-context.js';

const example = salesReportExample();
let parent: string;
let workspace: string;
let engine: Engine;
let result: RunResult;
let steps: StepRecord[];
let report: string;

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'hataraku-sales-report-'));
  workspace = join(parent, 'workspace');
  cpSync(example.workspaceSource, workspace, { recursive: true });
  engine = openSqliteEngine({ path: join(parent, 'journal.db') });
  const worker = agent({
    name: example.name,
    instructions: example.instructions,
    model: createScriptedModel({ script: example.demoModelPath }),
    tools: example.tools,
    limits: example.limits,
  });
  result = await run(worker, example.task, { engine, workspace });
  steps = await engine.listSteps(result.runId);
  report = readFileSync(join(workspace, 'report.md'), 'utf8');
}, 60_000);

afterAll(async () => {
  await engine.close();
  rmSync(parent, { recursive: true, force: true });
});

/** The `data.query` calls of the demo script that show rows (not those saving to a file). */
function scriptedQueries(): string[] {
  const script = loadScript(example.demoModelPath);
  return script.turns.flatMap((turn) =>
    turn.toolCalls
      .filter(
        (call) => call.name === 'data.query' && typeof call.arguments === 'object' && !('outputPath' in call.arguments),
      )
      .map((call) => String((call.arguments as { sql: unknown }).sql)),
  );
}

/** The rows of a `data.query` result: a count line, then CSV (none of this example's values holds a comma). */
function resultRows(text: string): Array<Record<string, string>> {
  const [, header, ...lines] = text.trimEnd().split('\n');
  const columns = (header ?? '').split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, index) => [columns[index] ?? '', value])));
}

/** How the report writes a query's value: money with cents, percentages with %, counts grouped. */
function asWritten(column: string, value: string): string {
  const number = Number(value);
  if (column.includes('revenue')) {
    return number.toLocaleString('en-US', { style: 'currency', currency: 'USD' });
  }
  if (column.endsWith('_pct')) return `${value}%`;
  return number.toLocaleString('en-US');
}

describe('the sales-report example with the scripted demo model', () => {
  it('completes through the real loop, every tool call succeeding', () => {
    expect(result).toMatchObject({ status: 'completed', stopReason: 'final-answer' });
    expect(String(result.output)).toContain('report.md');
    const toolSteps = steps.filter((step) => step.name.startsWith('tool:'));
    expect(toolSteps.map((step) => step.name)).toEqual([
      'tool:data.describe',
      'tool:data.query',
      'tool:data.query',
      'tool:data.query',
      'tool:data.query',
      'tool:data.query',
      'tool:chart.render',
      'tool:files.write',
    ]);
    for (const step of toolSteps) expect(JSON.stringify(step.output)).not.toMatch(/Error from|"isError":true/);
  });

  it('writes report.md and the chart, and leaves the example folder untouched', () => {
    for (const output of example.expectedOutputs) expect(existsSync(join(workspace, output)), output).toBe(true);
    expect(existsSync(join(example.workspaceSource, 'report.md'))).toBe(false);
    expect(existsSync(join(example.workspaceSource, 'charts'))).toBe(false);
  });

  it('embeds the chart in the report, and the chart is a real drawing of the four regions', () => {
    const embedded = [...report.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((match) => match[1]);
    expect(embedded).toEqual(['charts/monthly-revenue.png']);
    const png = readFileSync(join(workspace, 'charts', 'monthly-revenue.png'));
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.readUInt32BE(16)).toBeGreaterThan(800);
    expect(png.readUInt32BE(20)).toBeGreaterThan(400);
    const svg = readFileSync(join(workspace, 'charts', 'monthly-revenue.svg'), 'utf8');
    expect(svg).toContain('Monthly revenue by region, 2025');
    for (const region of ['North America', 'Europe', 'Asia Pacific', 'Latin America']) expect(svg).toContain(region);
    // One line per region, with a point per month.
    expect(svg.match(/aria-roledescription="line mark"/g)?.length).toBe(4);
    expect(svg.match(/aria-roledescription="point"/g)?.length).toBe(48);
  });

  it('records the chart and the saved query result as artifacts of the run', async () => {
    const artifacts = await engine.listArtifacts(result.runId);
    expect(artifacts.map((artifact) => [artifact.path, artifact.mediaType])).toEqual(
      expect.arrayContaining([
        ['charts/monthly-revenue.svg', 'image/svg+xml'],
        ['charts/monthly-revenue.png', 'image/png'],
        ['out/monthly-revenue-by-region.csv', 'text/csv'],
      ]),
    );
  });

  it('reports the numbers that data.query returns on the committed data', async () => {
    const queries = scriptedQueries();
    expect(queries.length).toBe(4);
    const [queryTool] = createDataTools();
    if (queryTool === undefined) throw new Error('no data.query tool');
    const context = createToolContext({ workspace });
    const reportLines = report.split('\n');
    let checked = 0;
    try {
      for (const sql of queries) {
        const validated = queryTool.validate({ sql });
        if (!validated.success) throw new Error(`invalid query: ${sql}`);
        const rows = resultRows(String(await queryTool.execute(validated.data, context)));
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) {
          const entries = Object.entries(row);
          const label =
            entries.find(([, value]) => Number.isNaN(Number(value)) && !/^\d{4}-\d{2}$/.test(value))?.[1] ??
            entries.find(([, value]) => /^\d{4}-\d{2}$/.test(value))?.[1];
          const numbers = entries.filter(([, value]) => value !== label);
          // A row with a label is a table row: some line of the report holds its label and all its numbers.
          const candidates =
            label === undefined ? [report] : reportLines.filter((line) => line.startsWith(`| ${label} |`));
          expect(candidates.length, `a report line for ${label}`).toBeGreaterThan(0);
          const written = numbers.map(([column, value]) => asWritten(column, value));
          expect(
            candidates.some((line) => written.every((text) => line.includes(text))),
            `${label ?? 'totals'}: ${written.join(', ')}`,
          ).toBe(true);
          checked += numbers.length;
        }
      }
    } finally {
      await context.dispose();
    }
    // 4 regions × 3, 12 months × 2, 4 totals, 4 regions × 3.
    expect(checked).toBe(52);
    // The final answer quotes the same figures.
    expect(String(result.output)).toContain('$1,777,959.25');
    expect(String(result.output)).toContain('$589,679.95');
  });

  it('ships data that its generator reproduces, small enough to commit', () => {
    const regenerated = join(parent, 'regenerated.csv');
    execFileSync(process.execPath, [join(example.workspaceSource, '..', 'generate-sales.mjs'), regenerated]);
    const committed = join(example.workspaceSource, 'sales.csv');
    expect(readFileSync(regenerated).equals(readFileSync(committed))).toBe(true);
    expect(statSync(committed).size).toBeLessThan(150 * 1024);
  });
});
