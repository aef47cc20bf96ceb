/**
 * The program of the chart-rendering process, kept as plain JavaScript text and run in a bounded
 * child process (`../documents/bounded-process.ts`, which gives it `parentPort` and
 * `workerData`), so that the same code runs from the TypeScript sources (tests) and from the
 * compiled `dist/` without a build step of its own.
 *
 * Rendering runs apart because a spec is a program: a `sequence` transform or a dense layout can
 * run for as long as it likes, and a `kde2d` grid can ask for gigabytes of typed arrays; a child
 * process can be killed from outside at the time limit or past its memory cap, and its memory is
 * its own. The worker counts the rows of inline data, runs the
 * Vega dataflow with a loader that refuses every request (the host has already put workspace
 * data inline), writes the SVG, and turns it into a PNG with resvg when asked.
 *
 * Vega-Lite specs are compiled here too (a `compile` request, before the host puts workspace
 * data inline): a few kilobytes of `repeat` ask for thousands of views, and compiling them on the
 * host's thread stalled it for seconds while its heap grew by hundreds of megabytes. Here the
 * compile meets the same time limit and heap cap as a render.
 *
 * A spec's expressions are run by vega-interpreter, never compiled: Vega's default compiles
 * them to JavaScript with the Function constructor, and a flaw in its allow-list would then be
 * code running as Hataraku. Once Vega is loaded, the Function constructors and
 * eval of this realm throw, so nothing here can turn text into code; the worker's environment
 * is empty.
 */
export const chartRenderWorkerSource = String.raw`
const vega = require(workerData.vegaPath);
const vegaLite = require(workerData.vegaLitePath);
const { expressionInterpreter } = require(workerData.interpreterPath);
const { Resvg } = require(workerData.resvgPath);

const refusedCodeGeneration = function refused() { throw new Error('code generation is not available while rendering charts'); };
for (const sample of [function () {}, async function () {}, function* () {}, async function* () {}]) {
  Object.defineProperty(Object.getPrototypeOf(sample), 'constructor', { value: refusedCodeGeneration, writable: false, configurable: false });
}
globalThis.eval = refusedCodeGeneration;

class RenderError extends Error {
  constructor(reason, message) { super(message); this.reason = reason; }
}

function refuse(uri) {
  return Promise.reject(new RenderError('data-unavailable',
    'the spec asks Vega to load "' + String(uri).slice(0, 100) + '"; chart.render loads nothing itself: name workspace files in data.url, or put the rows in data.values.'));
}
// A mark's hyperlink (the href channel) is asked for with context 'href'; Vega's SVG writer
// cannot take a refusal there (an unhandled TypeError that ended the renderer), so a link is
// given an empty target: a static chart file follows none.
function sanitize(uri, options) {
  if (options && options.context === 'href') return Promise.resolve({ href: '' });
  return refuse(uri);
}
const refusingLoader = {
  options: {},
  fileAccess: false,
  sanitize,
  load: refuse,
  file: refuse,
  http: refuse,
};

function* dataEntries(spec) {
  if (Array.isArray(spec.data)) for (const entry of spec.data) if (entry && typeof entry === 'object') yield entry;
  if (Array.isArray(spec.marks)) for (const mark of spec.marks) if (mark && mark.type === 'group') yield* dataEntries(mark);
}

const maxListedColumns = 50;
function shortText(text) { return text.length <= 80 ? text : text.slice(0, 80) + '…'; }

/** Row count and columns of each inline data set, checked against the row limit. */
function inspectData(spec, maxDataRows) {
  const sources = [];
  for (const entry of dataEntries(spec)) {
    if (entry.values === undefined) continue;
    let rows = entry.values;
    if (typeof rows === 'string') {
      try {
        rows = vega.read(rows, { ...(entry.format || {}), parse: undefined });
      } catch (error) {
        throw new RenderError('data-unavailable', 'the data "' + (entry.name || 'data') + '" could not be parsed as ' + ((entry.format && entry.format.type) || 'json') + ': ' + error.message);
      }
    }
    if (!Array.isArray(rows)) continue;
    if (rows.length > maxDataRows) {
      throw new RenderError('limit-exceeded', 'The chart data has ' + rows.length + ' rows, over the limit of ' + maxDataRows + '. A chart rarely needs more: aggregate first (data.query with GROUP BY, e.g. per month and region) and chart the result, or filter the rows.');
    }
    const first = rows[0];
    const columns = first && typeof first === 'object' ? Object.keys(first) : [];
    // What is listed goes into the tool result: a header of a million columns, or one column
    // name of megabytes, would flood the model's context.
    sources.push({
      name: shortText(String(entry.name || 'data')),
      rows: rows.length,
      columns: columns.slice(0, maxListedColumns).map(shortText),
      columnCount: columns.length,
    });
  }
  return sources;
}

async function render(request) {
  const warnings = [];
  const logger = {
    level() { return logger; },
    error(...parts) { warnings.push(parts.map(String).join(' ')); return logger; },
    warn(...parts) { warnings.push(parts.map(String).join(' ')); return logger; },
    info() { return logger; },
    debug() { return logger; },
  };
  const sources = inspectData(request.spec, request.maxDataRows);
  let view;
  try {
    view = new vega.View(vega.parse(request.spec, null, { ast: true }), {
      renderer: 'none', loader: refusingLoader, logger, logLevel: vega.Warn, expr: expressionInterpreter,
    });
    await view.runAsync();
  } catch (error) {
    if (error instanceof RenderError) throw error;
    throw new RenderError('render-failed', 'Vega could not run the spec: ' + error.message);
  }
  const svg = await view.toSVG();
  view.finalize();
  const size = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  const width = size ? Number(size[1]) : 0;
  const height = size ? Number(size[2]) : 0;
  const result = { svg, width, height, warnings, sources, png: undefined, pngWidth: 0, pngHeight: 0 };
  if (!request.png) return result;
  const pngWidth = Math.round(width * request.scale);
  const pngHeight = Math.round(height * request.scale);
  if (pngWidth * pngHeight > request.maxPixels) {
    throw new RenderError('limit-exceeded', 'The PNG would be ' + pngWidth + ' x ' + pngHeight + ' pixels (' + width + ' x ' + height + ' at scale ' + request.scale + '), over the limit of ' + request.maxPixels + ' pixels. Make "width" and "height" in the spec smaller, lower the scale, or ask for format "svg".');
  }
  const resvg = new Resvg(svg, { fitTo: { mode: 'zoom', value: request.scale }, font: request.font, logLevel: 'off' });
  const image = resvg.render();
  const png = image.asPng();
  result.png = new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  result.pngWidth = image.width;
  result.pngHeight = image.height;
  return result;
}

/** Compile a Vega-Lite spec to Vega, with vega-lite's warnings; a compiled spec over the limit is refused. */
function compile(request) {
  const warnings = [];
  const collect = (...parts) => { warnings.push(parts.map(String).join(' ')); return logger; };
  const logger = { level() { return logger; }, warn: collect, error: collect, info() { return logger; }, debug() { return logger; } };
  let vegaSpec;
  try {
    vegaSpec = vegaLite.compile(request.spec, { logger }).spec;
  } catch (error) {
    throw new RenderError('invalid-spec', String((error && error.message) || error));
  }
  const bytes = JSON.stringify(vegaSpec).length;
  if (bytes > request.maxSpecBytes) {
    throw new RenderError('limit-exceeded', 'The spec compiles to ' + bytes + ' bytes of Vega, over the limit of ' + request.maxSpecBytes + ': it asks for too many views (repeat, concat, layer). Draw fewer views per chart.');
  }
  return { vegaSpec, warnings };
}

parentPort.on('message', async (request) => {
  try {
    const result = request.kind === 'compile' ? compile(request) : await render(request);
    parentPort.postMessage({ id: request.id, ok: true, result });
  } catch (error) {
    parentPort.postMessage({
      id: request.id,
      ok: false,
      reason: error instanceof RenderError ? error.reason : 'render-failed',
      message: error instanceof RenderError ? error.message : 'Vega could not render the spec: ' + (error && error.message ? error.message : String(error)),
    });
  }
});
parentPort.postMessage({ ready: true });
`;
