/**
 * Data for a chart comes from the spec itself (`values`) or from workspace files (`url`). Vega
 * would fetch a `url` with its own loader, which can reach the network and the whole disk; so
 * before rendering, every data `url` of the compiled Vega spec is resolved inside the workspace
 * (through `resolveInWorkspace`), read with a size cap, and put in the spec as inline text that
 * Vega parses with the entry's `format` (CSV with quoting, TSV, JSON, TopoJSON). The renderer
 * then runs with a loader that refuses everything.
 */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { resolveInWorkspace, WorkspacePathError } from '../files/workspace-path.js';
import type { ChartSpec } from './chart-spec.js';
import { ChartToolError } from './chart-tool-error.js';

/** File extensions Vega parses, and the format type each gets when the spec does not say. */
const formatByExtension: Record<string, string> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.json': 'json',
  '.geojson': 'json',
  '.topojson': 'topojson',
  '.txt': 'csv',
};

/** Extensions of data files that the data tools read but Vega does not. */
const convertibleExtensions = new Set(['.parquet', '.ndjson', '.jsonl', '.xlsx', '.xls', '.arrow', '.feather']);

export interface InlineDataLimits {
  maxDataBytes: number;
  maxDataRows: number;
}

/**
 * Replace each data `url` of a Vega spec (top level and group marks, at any depth) by the text
 * of the workspace file it names; check inline arrays against the row limit. Returns the files
 * read, relative to the workspace. Rows of inline text are counted by the renderer, which parses it.
 */
export function inlineWorkspaceData(
  vegaSpec: ChartSpec,
  workspace: string | undefined,
  limits: InlineDataLimits,
): string[] {
  const files: string[] = [];
  for (const entry of dataEntries(vegaSpec)) {
    const name = typeof entry.name === 'string' ? entry.name : 'data';
    if (Array.isArray(entry.values) && entry.values.length > limits.maxDataRows)
      throw tooManyRows(entry.values.length, limits);
    if (entry.url === undefined) continue;
    const url = entry.url;
    if (typeof url !== 'string') {
      throw new ChartToolError(
        'data-unavailable',
        `The data "${name}" takes its url from a signal; chart.render reads only files named by a plain path, e.g. {"url": "sales.csv"}.`,
      );
    }
    const target = workspaceFile(url, workspace);
    const extension = extname(url).toLowerCase();
    if (convertibleExtensions.has(extension)) {
      throw new ChartToolError(
        'data-unavailable',
        `chart.render cannot read ${extension} files ("${url}"). Convert it first: data.query with outputPath "${url.slice(0, -extension.length)}.csv" (aggregated to the rows the chart needs), then use that CSV.`,
      );
    }
    const format = typeof entry.format === 'object' && entry.format !== null ? { ...(entry.format as ChartSpec) } : {};
    if (format.type === undefined) {
      const inferred = formatByExtension[extension];
      if (inferred === undefined) {
        throw new ChartToolError(
          'data-unavailable',
          `chart.render does not know how to read "${url}"; use a .csv, .tsv or .json file, or state the format in the spec, e.g. "data": {"url": "${url}", "format": {"type": "dsv", "delimiter": ";"}}.`,
        );
      }
      format.type = inferred;
    }
    let size: number;
    try {
      const stats = statSync(target);
      if (!stats.isFile()) throw new Error('not a file');
      size = stats.size;
    } catch {
      throw new ChartToolError(
        'data-unavailable',
        `There is no file "${url}" in the workspace. Use files.list to see the files, or data.query with outputPath to create one.`,
      );
    }
    if (size > limits.maxDataBytes) {
      throw new ChartToolError(
        'limit-exceeded',
        `"${url}" is ${size} bytes, over the ${limits.maxDataBytes}-byte limit for chart data. Aggregate it first: data.query with GROUP BY and outputPath "chart-data.csv", then chart that file.`,
      );
    }
    entry.values = readFileSync(target, 'utf8');
    entry.format = format;
    delete entry.url;
    files.push(url);
  }
  return files;
}

export function tooManyRows(rows: number, limits: { maxDataRows: number }): ChartToolError {
  return new ChartToolError(
    'limit-exceeded',
    `The chart data has ${rows} rows, over the limit of ${limits.maxDataRows}. A chart rarely needs more: aggregate first (data.query with GROUP BY, e.g. per month and region) and chart the result, or filter and sample the rows.`,
  );
}

/** The path of a data file inside the workspace, or an error saying why it cannot be used. */
function workspaceFile(url: string, workspace: string | undefined): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) {
    throw new ChartToolError(
      'data-unavailable',
      `chart.render does not fetch URLs ("${shorten(url)}"); it reads workspace files only. Download the data into the workspace first (for example with http.request and files.write), or put the rows in "data": {"values": [...]}.`,
    );
  }
  try {
    return resolveInWorkspace(workspace, url);
  } catch (error) {
    if (error instanceof WorkspacePathError) {
      throw new ChartToolError(
        'outside-workspace',
        `${error.message} Chart data files are named by their path relative to the workspace, e.g. "sales.csv".`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Every data entry of a Vega spec: the top-level `data` and that of group marks, at any depth. */
function* dataEntries(spec: ChartSpec): Generator<ChartSpec> {
  if (Array.isArray(spec.data)) {
    for (const entry of spec.data) if (typeof entry === 'object' && entry !== null) yield entry as ChartSpec;
  }
  if (Array.isArray(spec.marks)) {
    for (const mark of spec.marks) {
      if (typeof mark === 'object' && mark !== null && (mark as ChartSpec).type === 'group')
        yield* dataEntries(mark as ChartSpec);
    }
  }
}

function shorten(text: string): string {
  return text.length <= 100 ? text : `${text.slice(0, 100)}…`;
}
