import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tool } from '../../tools/tool.js';
import { createToolContext, type StandaloneToolContext } from '../../tools/tool-context.js';
import { ChartToolError } from './chart-tool-error.js';
import { type ChartToolsOptions, createChartTools } from './chart-tools.js';

let parent: string;
let workspace: string;
let context: StandaloneToolContext;
let server: Server;
let serverUrl: string;
let serverRequests = 0;

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

const barSpec = {
  title: 'Revenue by region',
  data: { url: 'sales.csv' },
  mark: 'bar',
  encoding: {
    x: { field: 'region', type: 'nominal' },
    y: { field: 'revenue', type: 'quantitative', aggregate: 'sum' },
  },
};

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'hataraku-charts-'));
  workspace = join(parent, 'workspace');
  mkdirSync(join(workspace, 'data'), { recursive: true });
  // A quoted field with a comma: a naive split would make a fourth column.
  writeFileSync(
    join(workspace, 'sales.csv'),
    'month,region,revenue\n2024-01,North,100\n2024-02,North,150\n2024-01,"South, East",80\n2024-02,"South, East",120\n',
  );
  writeFileSync(
    join(workspace, 'data', 'points.json'),
    JSON.stringify([
      { a: 1, b: 2 },
      { a: 2, b: 4 },
    ]),
  );
  writeFileSync(join(workspace, 'data', 'scores.parquet'), 'PAR1');
  writeFileSync(join(parent, 'secret.csv'), 'secret\nhunter2\n');
  symlinkSync(join(parent, 'secret.csv'), join(workspace, 'leak.csv'));
  context = createToolContext({ workspace });
  server = createServer((_request, response) => {
    serverRequests++;
    response.end('a,b\n1,2\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await context.dispose();
  await new Promise((resolve) => server.close(resolve));
  rmSync(parent, { recursive: true, force: true });
});

function chartTool(options?: ChartToolsOptions): Tool {
  const [renderTool] = createChartTools(options);
  if (renderTool === undefined) throw new Error('no chart tool');
  return renderTool;
}

const defaultTool = chartTool();

/** Validate the arguments as the loop does, then run the tool. */
async function render(args: Record<string, unknown>, tool = defaultTool, on = context): Promise<string> {
  const validated = tool.validate(args);
  if (!validated.success) throw new Error(`invalid arguments: ${JSON.stringify(validated.issues)}`);
  return String(await tool.execute(validated.data, on));
}

async function renderError(
  args: Record<string, unknown>,
  tool = defaultTool,
  on: StandaloneToolContext = context,
): Promise<ChartToolError> {
  const error = await render(args, tool, on).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ChartToolError);
  return error as ChartToolError;
}

describe('chart.render', () => {
  it('draws a Vega-Lite spec over a workspace CSV as SVG and PNG, recorded as artifacts', async () => {
    const before = context.artifacts.length;
    const output = await render({ spec: barSpec, outputPath: 'charts/revenue.svg' });

    const svg = readFileSync(join(workspace, 'charts', 'revenue.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Revenue by region');
    // The quoted field stayed one value: its label is drawn, and there are two bars.
    expect(svg).toContain('South, East');
    expect(svg.match(/role-mark/g)?.length).toBeGreaterThan(0);
    expect(svg.match(/<path[^>]*aria-roledescription="bar"/g)?.length).toBe(2);

    const png = readFileSync(join(workspace, 'charts', 'revenue.png'));
    expect(png.subarray(0, 8).equals(pngSignature)).toBe(true);
    const svgWidth = Number(/width="([\d.]+)"/.exec(svg)?.[1]);
    const svgHeight = Number(/height="([\d.]+)"/.exec(svg)?.[1]);
    // Default scale 2.
    expect(pngSize(png)).toEqual({ width: Math.round(svgWidth * 2), height: Math.round(svgHeight * 2) });
    expect(svgWidth).toBeGreaterThan(50);

    expect(context.artifacts.slice(before)).toEqual([
      { path: 'charts/revenue.svg', mediaType: 'image/svg+xml', description: 'Revenue by region' },
      { path: 'charts/revenue.png', mediaType: 'image/png', description: 'Revenue by region' },
    ]);
    expect(output).toContain('Wrote charts/revenue.svg (SVG');
    expect(output).toContain('charts/revenue.png (PNG');
    expect(output).toContain('Data read from sales.csv');
    expect(output).toContain('4 rows; columns: month, region, revenue');
    expect(output).toContain('![chart title](charts/revenue.png)');
  });

  it('takes the data from dataFile, writes only the format asked for, and accepts a spec sent as JSON text', async () => {
    const spec = JSON.stringify({
      mark: 'point',
      encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } },
    });
    const output = await render({
      spec,
      dataFile: 'data/points.json',
      outputPath: 'points.png',
      format: 'png',
      scale: 1,
    });
    expect(existsSync(join(workspace, 'points.png'))).toBe(true);
    expect(existsSync(join(workspace, 'points.svg'))).toBe(false);
    expect(output).toContain('2 rows; columns: a, b');

    await render({
      spec: { ...barSpec, data: { values: [{ region: 'A', revenue: 1 }] } },
      outputPath: 'inline',
      format: 'svg',
    });
    expect(readFileSync(join(workspace, 'inline.svg'), 'utf8')).toContain('aria-roledescription="bar"');
    expect(existsSync(join(workspace, 'inline.png'))).toBe(false);
  });

  it('draws the text of the PNG with the system fonts', async () => {
    const spec = {
      data: { values: [{ label: 'Quarterly revenue grew strongly' }] },
      mark: { type: 'text', fontSize: 40 },
      encoding: { text: { field: 'label', type: 'nominal' } },
      width: 600,
      height: 100,
    };
    await render({ spec, outputPath: 'with-fonts', format: 'png' });
    const withoutFonts = chartTool({ fonts: { loadSystemFonts: false } });
    await render({ spec, outputPath: 'without-fonts', format: 'png' }, withoutFonts);
    const drawn = readFileSync(join(workspace, 'with-fonts.png'));
    const blank = readFileSync(join(workspace, 'without-fonts.png'));
    // Without a font the canvas stays white and compresses to almost nothing; glyphs do not.
    expect(drawn.byteLength).toBeGreaterThan(blank.byteLength * 2);
  });

  it('renders a Vega spec as it is, when its $schema says Vega', async () => {
    const vegaSpec = {
      $schema: 'https://vega.github.io/schema/vega/v5.json',
      width: 100,
      height: 50,
      marks: [
        { type: 'text', encode: { enter: { x: { value: 10 }, y: { value: 20 }, text: { value: 'plain vega' } } } },
      ],
    };
    await render({ spec: vegaSpec, outputPath: 'vega.svg', format: 'svg' });
    expect(readFileSync(join(workspace, 'vega.svg'), 'utf8')).toContain('plain vega');
  });

  describe('tells the model what is wrong with a spec', () => {
    it('names an unknown mark and the marks there are', async () => {
      const error = await renderError({ spec: { ...barSpec, mark: 'lin' }, outputPath: 'x.svg' });
      expect(error.reason).toBe('invalid-spec');
      expect(error.message).toContain('At mark: "lin" is not a mark');
      expect(error.message).toContain('line');
    });

    it('names the channel with a wrong field type', async () => {
      const spec = { ...barSpec, encoding: { x: { field: 'region', type: 'quant' } } };
      const error = await renderError({ spec, outputPath: 'x.svg' });
      expect(error.message).toContain('At encoding.x.type: "quant" is not a field type');
    });

    it('says a view needs a mark', async () => {
      const error = await renderError({
        spec: { data: barSpec.data, encoding: barSpec.encoding },
        outputPath: 'x.svg',
      });
      expect(error.reason).toBe('invalid-spec');
      expect(error.message).toContain('"mark"');
    });

    it('points at the expressions when one does not parse', async () => {
      const spec = { ...barSpec, transform: [{ calculate: 'datum.revenue *', as: 'double' }] };
      const error = await renderError({ spec, outputPath: 'x.svg' });
      expect(error.message).toContain('transform[0].calculate: "datum.revenue *"');
    });

    it('warns, with the columns, when an encoded field is not in the data', async () => {
      const spec = { ...barSpec, encoding: { ...barSpec.encoding, y: { field: 'Revenue', type: 'quantitative' } } };
      const output = await render({ spec, outputPath: 'missing-field.svg', format: 'svg' });
      expect(output).toContain('Warnings');
      expect(output).toContain('columns: month, region, revenue');
    });

    it('refuses an outputPath of another type, or outside the workspace', async () => {
      expect((await renderError({ spec: barSpec, outputPath: 'chart.jpg' })).message).toContain('.svg or .png');
      expect((await renderError({ spec: barSpec, outputPath: '../chart.svg' })).reason).toBe('outside-workspace');
    });
  });

  describe('protected entries and links on the way out', () => {
    it('refuses protected data files and protected output paths', async () => {
      writeFileSync(join(workspace, '.env.csv'), 'key,value\nOPENAI_API_KEY,sk-secret\n');
      const data = await renderError({ spec: { ...barSpec, data: { url: '.env.csv' } }, outputPath: 'x.svg' });
      expect(data.reason).toBe('outside-workspace');
      expect(data.message).toMatch(/protected/);
      for (const outputPath of ['.git/hooks/chart.svg', '.hataraku/chart.svg']) {
        const output = await renderError({ spec: barSpec, outputPath });
        expect(output.reason, outputPath).toBe('outside-workspace');
        expect(output.message, outputPath).toMatch(/protected/);
      }
      expect(existsSync(join(workspace, '.git'))).toBe(false);
      expect(existsSync(join(workspace, '.hataraku'))).toBe(false);
    });

    it('never writes through a link: not a directory link, not a file link, and creates nothing outside', async () => {
      const elsewhere = mkdtempSync(join(parent, 'elsewhere-'));
      writeFileSync(join(elsewhere, 'victim.svg'), 'untouched');
      symlinkSync(elsewhere, join(workspace, 'linked-dir'));
      symlinkSync(join(elsewhere, 'victim.svg'), join(workspace, 'victim.svg'));
      const throughDirectory = await renderError({ spec: barSpec, outputPath: 'linked-dir/new/chart.svg' });
      const throughFile = await renderError({ spec: barSpec, outputPath: 'victim.svg', format: 'svg' });
      expect(throughDirectory.reason).toBe('outside-workspace');
      expect(throughFile.reason).toBe('outside-workspace');
      expect(readFileSync(join(elsewhere, 'victim.svg'), 'utf8')).toBe('untouched');
      expect(existsSync(join(elsewhere, 'new'))).toBe(false);
    });
  });

  describe('expressions are interpreted, never compiled to code', () => {
    it.each([
      ['a constructor chain', "datum.region.constructor.constructor('return process')()"],
      ['a bracketed constructor chain', "datum['region']['constructor']['constructor']('return process.env')()"],
      ['an indirect eval', "(0, eval)('process')"],
    ])('refuses %s and leaves no trace of the host in the chart', async (_label, expression) => {
      const spec = {
        ...barSpec,
        transform: [{ calculate: expression, as: 'leak' }],
        encoding: { ...barSpec.encoding, tooltip: { field: 'leak' } },
      };
      const outcome = await render({ spec, outputPath: 'expression.svg', format: 'svg' }).then(
        (text) => text,
        (error: unknown) =>
          error instanceof ChartToolError ? `refused: ${error.reason}` : `crashed: ${String(error)}`,
      );
      expect(outcome).not.toMatch(/crashed/);
      const svg = existsSync(join(workspace, 'expression.svg'))
        ? readFileSync(join(workspace, 'expression.svg'), 'utf8')
        : '';
      expect(svg).not.toMatch(/PATH|HOME|\[object process\]|node:/);
      rmSync(join(workspace, 'expression.svg'), { force: true });
    });
  });

  describe('reads only workspace files', () => {
    it.each([
      ['a parent-directory path', '../secret.csv', 'outside-workspace'],
      ['an absolute path', '/etc/passwd', 'outside-workspace'],
      ['a symbolic link out of the workspace', 'leak.csv', 'outside-workspace'],
      ['a file that does not exist', 'nope.csv', 'data-unavailable'],
      ['a Parquet file', 'data/scores.parquet', 'data-unavailable'],
    ])('refuses %s', async (_label, url, reason) => {
      const error = await renderError({ spec: { ...barSpec, data: { url } }, outputPath: 'x.svg' });
      expect(error.reason).toBe(reason);
    });

    it('fetches nothing from the network, whatever part of the spec names a URL', async () => {
      const before = serverRequests;
      const viaData = await renderError({
        spec: { ...barSpec, data: { url: `${serverUrl}/sales.csv` } },
        outputPath: 'x.svg',
      });
      expect(viaData.reason).toBe('data-unavailable');
      expect(viaData.message).toContain('does not fetch URLs');
      const viaVega = await renderError({
        spec: {
          $schema: 'https://vega.github.io/schema/vega/v5.json',
          data: [{ name: 'remote', url: `${serverUrl}/x.csv`, format: { type: 'csv' } }],
        },
        outputPath: 'x.svg',
      });
      expect(viaVega.reason).toBe('data-unavailable');
      // An image mark asks Vega's loader for its URL while drawing; the loader refuses it.
      await render({
        spec: {
          data: { values: [{ picture: `${serverUrl}/logo.png` }] },
          mark: { type: 'image', width: 20, height: 20 },
          encoding: { url: { field: 'picture', type: 'nominal' } },
        },
        outputPath: 'image',
      }).catch(() => undefined);
      expect(serverRequests).toBe(before);
    });

    it('draws a chart whose marks have links, with the links left empty', async () => {
      const output = await render({
        spec: {
          data: { values: [{ region: 'North', revenue: 3, page: 'file:///etc/passwd' }] },
          mark: 'bar',
          encoding: {
            x: { field: 'region', type: 'nominal' },
            y: { field: 'revenue', type: 'quantitative' },
            href: { field: 'page', type: 'nominal' },
          },
        },
        outputPath: 'linked',
      });
      expect(output).toContain('Wrote linked.svg');
      const svg = readFileSync(join(workspace, 'linked.svg'), 'utf8');
      expect(svg).not.toMatch(/href="file:/);
      expect(existsSync(join(workspace, 'linked.png'))).toBe(true);
    });
  });

  describe('limits', () => {
    it('refuses more data rows than allowed, inline or from a file', async () => {
      const small = chartTool({ maxDataRows: 3 });
      const values = Array.from({ length: 4 }, (_, index) => ({ region: `r${index}`, revenue: index }));
      const inline = await renderError({ spec: { ...barSpec, data: { values } }, outputPath: 'x.svg' }, small);
      expect(inline.reason).toBe('limit-exceeded');
      expect(inline.message).toContain('4 rows, over the limit of 3');
      const fromFile = await renderError({ spec: barSpec, outputPath: 'x.svg' }, small);
      expect(fromFile.reason).toBe('limit-exceeded');
      expect(fromFile.message).toContain('aggregate first');
    });

    it('reads at most the byte limit of data in all, however many entries name a file', async () => {
      // Each entry was read anew, up to the limit: one 19 MB file in 30 entries held 1.2 GB in
      // the host, and a few hundred entries would have exhausted it.
      const size = Buffer.byteLength(readFileSync(join(workspace, 'sales.csv')));
      const data = Array.from({ length: 4 }, (_, index) => ({ name: `copy${index}`, url: 'sales.csv' }));
      const spec = { $schema: 'https://vega.github.io/schema/vega/v5.json', data, marks: [] };
      const error = await renderError({ spec, outputPath: 'x.svg' }, chartTool({ maxDataBytes: size * 3 }));
      expect(error.reason).toBe('limit-exceeded');
      expect(error.message).toMatch(/^The data files of this chart come to more than \d+ bytes \(at "sales\.csv"\)/);
      const three = await render(
        { spec: { ...spec, data: data.slice(0, 3) }, outputPath: 'three.svg', format: 'svg' },
        chartTool({ maxDataBytes: size * 3 }),
      );
      expect(three).toContain('Data read from sales.csv, sales.csv, sales.csv.');
    });

    it('lists at most 50 columns, with short names, whatever the data file holds', async () => {
      // A header of 5,000 columns, one of them named with 100 KB: all of it used to be listed in
      // the tool result.
      const names = Array.from({ length: 5_000 }, (_, index) => (index === 1 ? 'y'.repeat(100_000) : `c${index}`));
      writeFileSync(join(workspace, 'wide.csv'), `${names.join(',')}\n${names.map((_, index) => index).join(',')}\n`);
      const output = await render({
        spec: { data: { url: 'wide.csv' }, mark: 'point', encoding: { x: { field: 'c0', type: 'quantitative' } } },
        outputPath: 'wide.svg',
        format: 'svg',
      });
      expect(output).toMatch(/columns: c0, y{80}…, c2, .*, c49, … \(5000 in all\)\./);
      expect(output.length).toBeLessThan(2_000);
      // A warning quoting a field name of 100 KB (not in the data) is cut short too.
      const missing = await render({
        spec: {
          data: { url: 'wide.csv' },
          mark: 'point',
          encoding: { x: { field: 'z'.repeat(100_000), type: 'quantitative' } },
        },
        outputPath: 'wide.svg',
        format: 'svg',
      });
      expect(missing).toContain('Warnings (the chart may not show what was meant)');
      expect(missing.length).toBeLessThan(6_000);
    });

    it('refuses a data file over the byte limit', async () => {
      const error = await renderError({ spec: barSpec, outputPath: 'x.svg' }, chartTool({ maxDataBytes: 10 }));
      expect(error.reason).toBe('limit-exceeded');
    });

    it('refuses a PNG with more pixels than allowed, and says how to shrink it', async () => {
      const error = await renderError(
        { spec: { ...barSpec, width: 2000, height: 2000 }, outputPath: 'big' },
        chartTool({ maxPixels: 1_000_000 }),
      );
      expect(error.reason).toBe('limit-exceeded');
      expect(error.message).toContain('"width" and "height"');
      expect(existsSync(join(workspace, 'big.svg'))).toBe(false);
    });

    it('stops a render that runs too long, and the next render works', async () => {
      const tool = chartTool({ timeoutMs: 1_000 });
      const own = createToolContext({ workspace });
      try {
        const endless = {
          data: { sequence: { start: 0, stop: 200_000_000, as: 'n' } },
          transform: [{ calculate: 'datum.n * 2', as: 'double' }],
          mark: 'point',
          encoding: { x: { field: 'n', type: 'quantitative' }, y: { field: 'double', type: 'quantitative' } },
        };
        const started = Date.now();
        const error = await render({ spec: endless, outputPath: 'endless.svg' }, tool, own).catch(
          (thrown: unknown) => thrown,
        );
        expect(error).toBeInstanceOf(ChartToolError);
        expect((error as ChartToolError).reason).toBe('interrupted');
        expect((error as ChartToolError).message).toContain('longer than 1 s');
        expect(Date.now() - started).toBeLessThan(10_000);
        const output = await render({ spec: barSpec, outputPath: 'after-timeout.svg', format: 'svg' }, tool, own);
        expect(output).toContain('Wrote after-timeout.svg');
      } finally {
        await own.dispose();
      }
    });
  });

  it('compiles a spec that asks for thousands of views in the worker, within its time limit', async () => {
    // 100 × 100 repeated views from a spec of a few kilobytes: compiled on the host's thread, this
    // stalled it for seconds (80 × 80: 7.6 s, 585 MB) with no limit at all.
    const tool = chartTool({ timeoutMs: 1_000 });
    const own = createToolContext({ workspace });
    try {
      const fields = Array.from({ length: 100 }, (_, index) => `f${index}`);
      const spec = {
        data: { values: [{ f0: 1 }] },
        repeat: { row: fields, column: fields },
        spec: {
          mark: 'point',
          encoding: {
            x: { field: { repeat: 'row' }, type: 'quantitative' },
            y: { field: { repeat: 'column' }, type: 'quantitative' },
          },
        },
      };
      expect(JSON.stringify(spec).length).toBeLessThan(4_000);
      const error = await renderError({ spec, outputPath: 'views.svg' }, tool, own);
      expect(error.reason).toBe('interrupted');
      expect(error.message).toMatch(/^Compiling the spec (took longer than 1 s|ran out of memory)/);
      const output = await render({ spec: barSpec, outputPath: 'after-views.svg', format: 'svg' }, tool, own);
      expect(output).toContain('Wrote after-views.svg');
    } finally {
      await own.dispose();
    }
  });

  it('stops a render whose typed arrays outgrow the memory cap, and the next render works', async () => {
    // A kde2d grid of 12,000 × 12,000 cells is two 576 MB Float32Arrays, which a worker thread's
    // heap cap does not count: in one, this render grew the host by 1.1 GB under a 64 MB cap and
    // was drawn.
    const tool = chartTool({ maxMemoryMb: 64 });
    const own = createToolContext({ workspace });
    try {
      const spec = {
        $schema: 'https://vega.github.io/schema/vega/v5.json',
        width: 100,
        height: 100,
        data: [
          { name: 'points', values: [{ x: 1, y: 2 }] },
          {
            name: 'density',
            source: 'points',
            transform: [
              { type: 'kde2d', size: [12_000, 12_000], cellSize: 1, bandwidth: [2, 2], x: 'x', y: 'y', as: 'grid' },
            ],
          },
        ],
        marks: [{ type: 'symbol', from: { data: 'density' } }],
      };
      const error = await renderError({ spec, outputPath: 'grid.svg', format: 'svg' }, tool, own);
      expect(error.reason).toBe('interrupted');
      expect(error.message).toMatch(/^Rendering ran out of memory \(64 MB\)/);
      expect(existsSync(join(workspace, 'grid.svg'))).toBe(false);
      const output = await render({ spec: barSpec, outputPath: 'after-grid.svg', format: 'svg' }, tool, own);
      expect(output).toContain('Wrote after-grid.svg');
    } finally {
      await own.dispose();
    }
  });

  it('checks its options', () => {
    expect(() => createChartTools({ maxDataRows: 0 })).toThrow(RangeError);
    expect(() => createChartTools({ defaultScale: 10 })).toThrow(/defaultScale/);
  });
});
