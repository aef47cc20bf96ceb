/**
 * The sales-report example: an agent profiles a CSV of a year's sales, finds the top regions and
 * the monthly trend with `data.query`, draws the trend with `chart.render`, and writes
 * `report.md` with the chart embedded. Its files (the CSV, the demo model's script, a README)
 * are in `examples/sales-report/` at the package root.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChartToolsOptions, createChartTools } from '../toolchain/charts/chart-tools.js';
import { createDataTools, type DataToolsOptions } from '../toolchain/data/data-tools.js';
import { type FileToolOptions, workspaceFileTools } from '../toolchain/files/workspace-files.js';
import type { ExampleDefinition } from './example-definition.js';

/**
 * The example's folder: `../../examples/sales-report` from both `src/examples` (sources, tests)
 * and `dist/examples` (the built package, which ships `examples/` beside `dist/`).
 */
export const salesReportDirectory = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'examples',
  'sales-report',
);

export const salesReportTask =
  'Analyse the sales in sales.csv: find the top regions by revenue and the revenue trend by month, draw a chart of monthly revenue by region, and write a report to report.md with the chart embedded.';

export const salesReportInstructions = [
  'You are a data analyst working in a workspace directory; paths are relative to it.',
  'Look at a data file with data.describe before querying it, then answer questions with SQL through data.query. Every number you report must come from a query result: do not estimate or do arithmetic in your head; compute totals, shares and growth in SQL.',
  'To chart a query result, save it with data.query and an outputPath (a CSV), then draw it with chart.render using that file as data; save charts under charts/.',
  'Write the report in Markdown with files.write: a short summary, tables of the key numbers, and the chart embedded as an image, e.g. ![Monthly revenue by region](charts/monthly-revenue.png).',
  'When the report is written, reply with a short final answer: the main findings and where the report is.',
].join('\n');

/** Options for the tools of the example's agent. */
export interface SalesReportExampleOptions {
  data?: DataToolsOptions;
  charts?: ChartToolsOptions;
  files?: FileToolOptions;
}

/** The sales-report example: its task, agent instructions and tools, and where its files are. */
export function salesReportExample(options: SalesReportExampleOptions = {}): ExampleDefinition {
  return {
    name: 'sales-report',
    description:
      'Analyse a year of sales with SQL, chart the monthly trend by region, and write report.md with the chart.',
    task: salesReportTask,
    instructions: salesReportInstructions,
    tools: [
      ...createDataTools(options.data),
      ...createChartTools(options.charts),
      ...workspaceFileTools(options.files),
    ],
    limits: { maxSteps: 16 },
    workspaceSource: join(salesReportDirectory, 'workspace'),
    demoModelPath: join(salesReportDirectory, 'demo-model.json'),
    expectedOutputs: ['report.md', 'charts/monthly-revenue.png', 'charts/monthly-revenue.svg'],
  };
}
