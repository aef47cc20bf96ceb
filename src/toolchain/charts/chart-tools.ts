/**
 * `chart.render`: draw a Vega-Lite spec (data inline, or from a workspace file) as SVG and PNG
 * files in the workspace, recorded as artifacts of the run.
 *
 * The pipeline: parse the spec (`chart-spec.ts`), compile Vega-Lite to Vega in the rendering
 * worker (time limit and heap cap: a few kilobytes of `repeat` are thousands of views), put the workspace
 * files the spec names inline (`chart-data.ts`; nothing is fetched, nothing outside the
 * workspace is read), then render in a worker thread with a time and memory limit
 * (`chart-renderer.ts`): Vega draws the SVG, resvg the PNG.
 */
import { extname } from 'node:path';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import type { Tool, ToolContext } from '../../tools/tool.js';
import { createProtectedPaths, type ProtectedPaths } from '../files/protected-paths.js';
import {
  linkFreeSegments,
  type WorkspaceAccess,
  WorkspaceFileError,
  workspaceAccess,
  writeFileWithoutLinks,
} from '../files/workspace-access.js';
import { inlineWorkspaceData, tooManyRows } from './chart-data.js';
import {
  type ChartFontOptions,
  type ChartProcessSlots,
  ChartRenderer,
  createChartProcessSlots,
  type RenderResult,
} from './chart-renderer.js';
import {
  type ChartSpec,
  describeCompileFailure,
  findSpecProblems,
  isVegaSpec,
  parseSpecArgument,
} from './chart-spec.js';
import { ChartToolError } from './chart-tool-error.js';

/** Options of {@link createChartTools}. */
export interface ChartToolsOptions {
  /** Most rows in any one data set of a chart. Default 20,000. */
  maxDataRows?: number;
  /** Most bytes of workspace data one chart reads, all its data files together. Default 20 MB. */
  maxDataBytes?: number;
  /** Most pixels (width × height) of a PNG. Default 16,000,000 (4,000 × 4,000). */
  maxPixels?: number;
  /** Most bytes of an SVG; a chart with more marks is refused. Default 20 MB. */
  maxSvgBytes?: number;
  /** A render taking longer is stopped. Default 30,000 ms. */
  timeoutMs?: number;
  /** Heap limit of the rendering worker, in megabytes. Default 512. */
  maxMemoryMb?: number;
  /**
   * Most chart processes alive at once, across all runs using these tools (each run keeps its own
   * warm between its charts). Past it, an idle run's process is ended, or the render waits for
   * one. Default 4.
   */
  maxProcesses?: number;
  /** PNG pixels per SVG pixel when the call does not say. Default 2 (sharp on high-density screens). */
  defaultScale?: number;
  /**
   * Fonts for the text of PNGs. Default: the system's fonts (on Debian, the `fonts-dejavu-core`
   * package is enough); without any font, a PNG has no text. The SVG names `sans-serif` and is
   * drawn by whatever shows it.
   */
  fonts?: Partial<ChartFontOptions>;
  /** Workspace entries no chart may read or write. Default {@link createProtectedPaths}'s. */
  protectedPaths?: ProtectedPaths;
}

interface ResolvedOptions {
  protectedPaths: ProtectedPaths;
  maxDataRows: number;
  maxDataBytes: number;
  maxPixels: number;
  maxSvgBytes: number;
  defaultScale: number;
  font: ChartFontOptions;
  renderer: { timeoutMs: number; maxMemoryMb: number; processSlots: ChartProcessSlots };
}

const maxScale = 4;

/**
 * Create `chart.render`.
 *
 * @throws RangeError naming the option when a numeric option is not positive.
 */
export function createChartTools(options: ChartToolsOptions = {}): Tool[] {
  const resolved: ResolvedOptions = {
    protectedPaths: options.protectedPaths ?? createProtectedPaths(),
    maxDataRows: positiveInteger('maxDataRows', options.maxDataRows, 20_000),
    maxDataBytes: positiveInteger('maxDataBytes', options.maxDataBytes, 20 * 1024 * 1024),
    maxPixels: positiveInteger('maxPixels', options.maxPixels, 16_000_000),
    maxSvgBytes: positiveInteger('maxSvgBytes', options.maxSvgBytes, 20 * 1024 * 1024),
    defaultScale: positiveNumber('defaultScale', options.defaultScale, 2, maxScale),
    font: {
      loadSystemFonts: options.fonts?.loadSystemFonts ?? true,
      ...(options.fonts?.fontFiles === undefined ? {} : { fontFiles: [...options.fonts.fontFiles] }),
      ...(options.fonts?.defaultFontFamily === undefined ? {} : { defaultFontFamily: options.fonts.defaultFontFamily }),
    },
    renderer: {
      timeoutMs: positiveInteger('timeoutMs', options.timeoutMs, 30_000),
      maxMemoryMb: positiveInteger('maxMemoryMb', options.maxMemoryMb, 512),
      processSlots: createChartProcessSlots(positiveInteger('maxProcesses', options.maxProcesses, 4)),
    },
  };
  return [createRenderChartTool(resolved)];
}

const renderInput = z.object({
  spec: z
    .union([z.record(z.string(), z.unknown()), z.string()])
    .describe(
      'A Vega-Lite v5 spec as a JSON object. Data inline ("data": {"values": [...]}) or from a workspace file ("data": {"url": "sales.csv"}); or leave "data" out and pass dataFile.',
    ),
  dataFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'A workspace file (.csv, .tsv or .json) to use as the chart’s data, replacing the spec’s top-level "data", e.g. "out/monthly.csv".',
    ),
  outputPath: z
    .string()
    .min(1)
    .describe(
      'Where to save the chart, relative to the workspace, e.g. "charts/sales.svg". The SVG and the PNG get this name with .svg and .png; the directory is created.',
    ),
  format: z
    .enum(['svg', 'png', 'both'])
    .default('both')
    .describe('Which files to write: "svg", "png", or "both" (the default).'),
  scale: z
    .number()
    .positive()
    .max(maxScale)
    .optional()
    .describe('PNG pixels per chart pixel (default 2): a 400 × 300 chart at scale 2 is an 800 × 600 PNG.'),
});

function createRenderChartTool(options: ResolvedOptions): Tool {
  return tool({
    name: 'chart.render',
    description: [
      'Draw a chart from a Vega-Lite v5 spec and save it in the workspace as SVG and PNG (recorded as run artifacts), to embed in a report, e.g. ![Revenue by month](charts/revenue.png).',
      'Data comes inline ("data": {"values": [{"month": "2024-01", "revenue": 1200}]}) or from a workspace file: "data": {"url": "out/monthly.csv"}, or the dataFile argument. CSV, TSV and JSON are read; for Parquet or large files, first aggregate with data.query and its outputPath.',
      `Limits: ${options.maxDataRows} rows per data set, ${options.maxPixels} PNG pixels, ${options.renderer.timeoutMs / 1000} s per render; nothing is fetched from the network.`,
      'Dates: ISO dates in data are read as UTC; use "timeUnit": "utcyearmonth" (not "yearmonth") or "scale": {"type": "utc"} so months are not shifted by the time zone.',
      'Example: {"spec": {"data": {"url": "monthly.csv"}, "mark": "line", "encoding": {"x": {"field": "month", "type": "temporal", "timeUnit": "utcyearmonth"}, "y": {"field": "revenue", "type": "quantitative"}, "color": {"field": "region", "type": "nominal"}}, "title": "Revenue by month"}, "outputPath": "charts/revenue.svg"}.',
    ].join(' '),
    input: renderInput,
    // The same spec and data written to the same path leave the same files.
    effect: 'idempotent',
    execute: (input, context) => renderChart(input, context, options),
  });
}

async function renderChart(
  input: z.output<typeof renderInput>,
  context: ToolContext,
  options: ResolvedOptions,
): Promise<string> {
  const spec = parseSpecArgument(input.spec);
  const outputs = outputFiles(input.outputPath, input.format, context.workspace, options.protectedPaths);
  if (input.dataFile !== undefined) {
    if (isVegaSpec(spec)) {
      throw new ChartToolError(
        'invalid-spec',
        'dataFile works with Vega-Lite specs; in a Vega spec, name the file in the "url" of an entry of "data".',
      );
    }
    spec.data = { url: input.dataFile };
  }
  const topLevelValues = (spec.data as { values?: unknown } | undefined)?.values;
  if (Array.isArray(topLevelValues) && topLevelValues.length > options.maxDataRows) {
    throw tooManyRows(topLevelValues.length, options);
  }
  const renderer = await context.runResources.get(
    'chart.render:renderer',
    () => new ChartRenderer(options.renderer),
    (instance) => instance.dispose(),
  );
  const compiled = await compileInWorker(renderer, spec, context.abortSignal);
  const files = inlineWorkspaceData(compiled.vegaSpec, context.workspace, options);
  const scale = input.scale ?? options.defaultScale;
  const result = await renderer.render(
    {
      spec: compiled.vegaSpec,
      maxDataRows: options.maxDataRows,
      png: outputs.png !== undefined,
      scale,
      maxPixels: options.maxPixels,
      font: options.font,
    },
    context.abortSignal,
  );
  const svgBytes = Buffer.byteLength(result.svg);
  if (svgBytes > options.maxSvgBytes) {
    throw new ChartToolError(
      'limit-exceeded',
      `The SVG is ${svgBytes} bytes, over the ${options.maxSvgBytes}-byte limit: the chart has too many marks. Aggregate the data first, or show fewer points.`,
    );
  }
  const written: string[] = [];
  if (outputs.svg !== undefined) {
    writeOutput(outputs.svg, result.svg);
    context.recordArtifact({ path: outputs.svg.relative, mediaType: 'image/svg+xml', description: chartTitle(spec) });
    written.push(`${outputs.svg.relative} (SVG, ${result.width} × ${result.height}, ${kilobytes(svgBytes)})`);
  }
  if (outputs.png !== undefined && result.png !== undefined) {
    writeOutput(outputs.png, result.png);
    context.recordArtifact({ path: outputs.png.relative, mediaType: 'image/png', description: chartTitle(spec) });
    written.push(
      `${outputs.png.relative} (PNG, ${result.pngWidth} × ${result.pngHeight} pixels, ${kilobytes(result.png.byteLength)})`,
    );
  }
  return describeResult(written, result, compiled.warnings, files, outputs);
}

/** Most characters of the Vega spec a Vega-Lite spec compiles to (before workspace data is put inline). */
const maxCompiledSpecBytes = 32 * 1024 * 1024;

/**
 * Compile a Vega-Lite spec in the renderer's worker (a Vega spec passes as it is): a spec of a few
 * kilobytes can ask for thousands of views, which must meet the render's time limit and heap cap,
 * not stall the host.
 */
async function compileInWorker(
  renderer: ChartRenderer,
  spec: ChartSpec,
  signal: AbortSignal,
): Promise<{ vegaSpec: ChartSpec; warnings: string[] }> {
  if (isVegaSpec(spec)) return { vegaSpec: structuredClone(spec), warnings: [] };
  const problems = findSpecProblems(spec);
  try {
    const compiled = await renderer.compile({ spec, maxSpecBytes: maxCompiledSpecBytes }, signal);
    // Problems vega-lite got past (it drops what it does not understand) are reported as warnings.
    return { vegaSpec: compiled.vegaSpec, warnings: [...problems, ...compiled.warnings] };
  } catch (error) {
    if (error instanceof ChartToolError && error.reason === 'invalid-spec') {
      throw new ChartToolError('invalid-spec', describeCompileFailure(error.message, spec, problems), { cause: error });
    }
    throw error;
  }
}

interface OutputFile {
  access: WorkspaceAccess;
  relative: string;
}

/** The files to write: `outputPath` with its `.svg`/`.png` ending (or none) replaced per format. */
function outputFiles(
  outputPath: string,
  format: 'svg' | 'png' | 'both',
  workspace: string | undefined,
  protectedPaths: ProtectedPaths,
): { svg: OutputFile | undefined; png: OutputFile | undefined } {
  const extension = extname(outputPath).toLowerCase();
  if (extension !== '' && extension !== '.svg' && extension !== '.png') {
    throw new ChartToolError(
      'invalid-spec',
      `outputPath "${outputPath}" must end in .svg or .png (or have no extension), e.g. "charts/sales.svg".`,
    );
  }
  if (workspace === undefined) {
    throw new ChartToolError('outside-workspace', 'This run has no workspace directory, so no chart can be saved.');
  }
  const access = workspaceAccess(workspace, protectedPaths);
  const base = extension === '' ? outputPath : outputPath.slice(0, -extension.length);
  const file = (ending: string): OutputFile => {
    const relative = `${base}${ending}`;
    try {
      linkFreeSegments(access, relative);
    } catch (error) {
      throw outputError(error);
    }
    return { access, relative };
  };
  return {
    svg: format === 'png' ? undefined : file('.svg'),
    png: format === 'svg' ? undefined : file('.png'),
  };
}

/** A workspace path problem as the error the model reads. */
function outputError(error: unknown): unknown {
  if (!(error instanceof WorkspaceFileError)) return error;
  if (error.reason === 'not-a-regular-file') {
    return new ChartToolError(
      'outside-workspace',
      `"${error.path}" is a directory or not a regular file; choose a file name, e.g. "${error.path}/chart.svg".`,
      { cause: error },
    );
  }
  return new ChartToolError(
    'outside-workspace',
    `${error.message} Save charts inside the workspace, e.g. "charts/sales.svg".`,
    { cause: error },
  );
}

function describeResult(
  written: string[],
  result: RenderResult,
  compileWarnings: string[],
  files: string[],
  outputs: { svg: OutputFile | undefined; png: OutputFile | undefined },
): string {
  const lines = [`Wrote ${written.join(' and ')}.`];
  if (files.length > 0) lines.push(`Data read from ${files.join(', ')}.`);
  for (const source of result.sources) {
    const more = source.columnCount > source.columns.length ? `, … (${source.columnCount} in all)` : '';
    lines.push(
      `Data set ${source.name}: ${source.rows} rows; columns: ${source.columns.join(', ') || '(none)'}${more}.`,
    );
  }
  const warnings = [...compileWarnings, ...result.warnings];
  if (warnings.length > 0) {
    // Each cut short: a warning quotes field names, which may be as long as the spec or data makes them.
    const listed = [...new Set(warnings)].slice(0, 10).map((warning) => shortened(warning, 300));
    lines.push(`Warnings (the chart may not show what was meant): ${listed.join(' | ')}`);
    if (warnings.some((warning) => /infinite extent|no data|undefined/i.test(warning))) {
      lines.push(
        'A field the encoding names may be missing from the data: compare the field names with the columns above (names are case-sensitive).',
      );
    }
  }
  const embed = outputs.png ?? outputs.svg;
  if (embed !== undefined) lines.push(`Embed it in Markdown with ![chart title](${embed.relative}).`);
  return lines.join('\n');
}

/** Write through a descriptor opened without following links and verified inside the workspace. */
function writeOutput(file: OutputFile, content: string | Uint8Array): void {
  try {
    writeFileWithoutLinks(file.access, file.relative, content);
  } catch (error) {
    throw outputError(error);
  }
}

function chartTitle(spec: Record<string, unknown>): string {
  const title = spec.title;
  if (typeof title === 'string') return title;
  if (typeof title === 'object' && title !== null && typeof (title as { text?: unknown }).text === 'string') {
    return (title as { text: string }).text;
  }
  return 'chart.render output';
}

function shortened(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}

function kilobytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : `${(bytes / 1024).toFixed(1)} KB`;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`createChartTools(): \`${name}\` must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function positiveNumber(name: string, value: number | undefined, fallback: number, maximum: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0 || value > maximum) {
    throw new RangeError(
      `createChartTools(): \`${name}\` must be a number above 0 and at most ${maximum}, got ${String(value)}`,
    );
  }
  return value;
}
