/**
 * Data for a chart comes from the spec itself (`values`) or from workspace files (`url`). Vega
 * would fetch a `url` with its own loader, which can reach the network and the whole disk; so
 * before rendering, every data `url` of the compiled Vega spec is read from the workspace
 * through a descriptor opened without following links and verified to be inside the workspace
 * and not protected (`workspace-access.ts`), with a size cap, and put in the spec as inline text that
 * Vega parses with the entry's `format` (CSV with quoting, TSV, JSON, TopoJSON). The renderer
 * then runs with a loader that refuses everything.
 */
import { extname } from 'node:path';
import { createProtectedPaths, type ProtectedPaths } from '../files/protected-paths.js';
import {
  linkFreeSegments,
  readFileWithoutLinks,
  type WorkspaceAccess,
  WorkspaceFileError,
  workspaceAccess,
} from '../files/workspace-access.js';
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
  /** Most bytes of workspace data one chart reads, all its files together. */
  maxDataBytes: number;
  maxDataRows: number;
  /** Entries no chart may read. Default {@link createProtectedPaths}'s. */
  protectedPaths?: ProtectedPaths;
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
  // One budget for all the files of a chart: each entry is read anew, so a spec naming one 19 MB
  // file in 30 entries held 1.2 GB in the host (a few hundred entries, a few kilobytes of spec,
  // would exhaust it).
  let remaining = limits.maxDataBytes;
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
    const access = dataFileAccess(url, workspace, limits.protectedPaths);
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
    const text = readDataFile(access, url, remaining, limits.maxDataBytes);
    remaining -= Buffer.byteLength(text);
    entry.values = text;
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

/** The workspace a data file is read from, after refusing URLs and bad or protected paths. */
function dataFileAccess(
  url: string,
  workspace: string | undefined,
  protectedPaths: ProtectedPaths | undefined,
): WorkspaceAccess {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) {
    throw new ChartToolError(
      'data-unavailable',
      `chart.render does not fetch URLs ("${shorten(url)}"); it reads workspace files only. Download the data into the workspace first (for example with http.request and files.write), or put the rows in "data": {"values": [...]}.`,
    );
  }
  if (workspace === undefined) {
    throw new ChartToolError('outside-workspace', 'This run has no workspace directory, so no data file can be read.');
  }
  const access = workspaceAccess(workspace, protectedPaths ?? createProtectedPaths());
  try {
    linkFreeSegments(access, url);
  } catch (error) {
    throw dataFileError(url, error);
  }
  return access;
}

/** The text of a data file, read through a verified descriptor, at most `remaining` bytes. */
function readDataFile(access: WorkspaceAccess, url: string, remaining: number, maxDataBytes: number): string {
  try {
    return readFileWithoutLinks(access, url, remaining).toString('utf8');
  } catch (error) {
    if (error instanceof WorkspaceFileError && error.reason === 'too-large' && remaining < maxDataBytes) {
      throw new ChartToolError(
        'limit-exceeded',
        `The data files of this chart come to more than ${maxDataBytes} bytes (at "${url}"); one chart reads at most that much in all. Name each file once and reuse it with "source", or aggregate first with data.query.`,
        { cause: error },
      );
    }
    throw dataFileError(url, error);
  }
}

function dataFileError(url: string, error: unknown): unknown {
  if (!(error instanceof WorkspaceFileError)) return error;
  switch (error.reason) {
    case 'missing':
    case 'not-a-regular-file':
      return new ChartToolError(
        'data-unavailable',
        `There is no file "${url}" in the workspace. Use files.list to see the files, or data.query with outputPath to create one.`,
        { cause: error },
      );
    case 'too-large':
      return new ChartToolError(
        'limit-exceeded',
        `${error.message} Aggregate it first: data.query with GROUP BY and outputPath "chart-data.csv", then chart that file.`,
        { cause: error },
      );
    default:
      return new ChartToolError(
        'outside-workspace',
        `${error.message} Chart data files are named by their path relative to the workspace, e.g. "sales.csv".`,
        { cause: error },
      );
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
