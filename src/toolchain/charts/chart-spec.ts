/**
 * From the spec a model sends to the Vega spec that is rendered: parse it (an object, or JSON
 * text), compile Vega-Lite with `vega-lite` (a spec whose `$schema` names Vega passes through),
 * and turn a compile failure into a message that says which part of the spec is wrong.
 *
 * `chart.render` compiles in its render worker (`chart-renderer.ts`), where a spec that asks for
 * thousands of views meets a time limit; {@link compileChartSpec} compiles in this thread, for
 * specs the program itself wrote (the chart eval).
 *
 * Vega-Lite is loaded on first use: importing it costs about half a second, which a program that
 * never draws a chart should not pay.
 */
import { ChartToolError } from './chart-tool-error.js';

/** A Vega or Vega-Lite spec as plain JSON data. */
export type ChartSpec = Record<string, unknown>;

/** The Vega spec to render, with what Vega-Lite warned about while compiling it. */
export interface CompiledChart {
  vegaSpec: ChartSpec;
  /** Vega-Lite's warnings: a dropped channel, an unknown aggregate; the chart may not be what was meant. */
  warnings: string[];
  language: 'vega-lite' | 'vega';
}

const markTypes = [
  'arc',
  'area',
  'bar',
  'boxplot',
  'circle',
  'errorband',
  'errorbar',
  'geoshape',
  'image',
  'line',
  'point',
  'rect',
  'rule',
  'square',
  'text',
  'tick',
  'trail',
];
const fieldTypes = ['quantitative', 'temporal', 'ordinal', 'nominal', 'geojson'];
const aggregateOperations = [
  'count',
  'valid',
  'values',
  'missing',
  'distinct',
  'sum',
  'product',
  'mean',
  'average',
  'variance',
  'variancep',
  'stdev',
  'stdevp',
  'stderr',
  'median',
  'q1',
  'q3',
  'ci0',
  'ci1',
  'min',
  'max',
  'argmin',
  'argmax',
  'exponential',
  'exponentialb',
];
/** The logger interface vega-lite's `compile` takes (vega-util's). */
interface CompileLogger {
  level(): CompileLogger;
  warn(...parts: unknown[]): CompileLogger;
  error(...parts: unknown[]): CompileLogger;
  info(...parts: unknown[]): CompileLogger;
  debug(...parts: unknown[]): CompileLogger;
}

/** Keys under which a Vega-Lite view holds its child views. */
const childViewKeys = ['layer', 'hconcat', 'vconcat', 'concat'];

/** The spec argument as an object: models sometimes send it as JSON text. */
export function parseSpecArgument(spec: unknown): ChartSpec {
  let value = spec;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new ChartToolError(
        'invalid-spec',
        `spec is text that is not valid JSON (${(error as Error).message}). Send the Vega-Lite spec as a JSON object, e.g. {"mark": "bar", "encoding": {...}}.`,
      );
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ChartToolError(
      'invalid-spec',
      'spec must be a Vega-Lite spec object, e.g. {"data": {"values": [{"a": "x", "b": 3}]}, "mark": "bar", "encoding": {"x": {"field": "a", "type": "nominal"}, "y": {"field": "b", "type": "quantitative"}}}.',
    );
  }
  return structuredClone(value) as ChartSpec;
}

/** Whether the spec declares itself a Vega spec (not Vega-Lite) through its `$schema`. */
export function isVegaSpec(spec: ChartSpec): boolean {
  return typeof spec.$schema === 'string' && /\/schema\/vega\/v\d/.test(spec.$schema);
}

/** Compile a Vega-Lite spec to Vega; a Vega spec is returned as it is. */
export async function compileChartSpec(spec: ChartSpec): Promise<CompiledChart> {
  if (isVegaSpec(spec)) return { vegaSpec: structuredClone(spec), warnings: [], language: 'vega' };
  const problems = findSpecProblems(spec);
  const { compile } = await import('vega-lite');
  const warnings: string[] = [];
  const collect = (...parts: unknown[]): CompileLogger => {
    warnings.push(parts.map(String).join(' '));
    return logger;
  };
  const logger: CompileLogger = {
    level: () => logger,
    warn: collect,
    error: collect,
    info: () => logger,
    debug: () => logger,
  };
  let compiled: ChartSpec;
  try {
    // The spec is JSON from a model; vega-lite checks its shape itself and throws on what it cannot use.
    compiled = compile(structuredClone(spec) as never, { logger: logger as never }).spec as unknown as ChartSpec;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ChartToolError('invalid-spec', describeCompileFailure(message, spec, problems), { cause: error });
  }
  // Problems vega-lite got past (it drops what it does not understand) are reported as warnings.
  return { vegaSpec: compiled, warnings: [...problems, ...warnings], language: 'vega-lite' };
}

/**
 * What the model reads when Vega-Lite cannot compile its spec: vega-lite's message, then the
 * parts of the spec that are likely at fault.
 */
export function describeCompileFailure(
  message: string,
  spec: ChartSpec,
  problems: string[] = findSpecProblems(spec),
): string {
  const lines = [`The Vega-Lite spec does not compile: ${shorten(message, 400)}`];
  if (problems.length > 0) lines.push(`Problems found in the spec: ${problems.slice(0, 8).join(' ')}`);
  else {
    const expressions = expressionPaths(spec);
    if (expressions.length > 0) {
      lines.push(
        `If the message is about an expression, check these (Vega expression syntax, fields as datum.name or datum['a field']): ${expressions.slice(0, 8).join('; ')}.`,
      );
    }
  }
  lines.push(
    'Fix the spec and call chart.render again. Every view needs a "mark" (or "layer"/"concat"/"facet"/"repeat"), and each encoding channel a "field" with a "type" (quantitative, temporal, ordinal or nominal).',
  );
  return lines.join('\n');
}

/**
 * Mistakes a model commonly makes in a Vega-Lite spec, each with where it is and what to use:
 * an unknown mark, field type or aggregate. Vega-Lite either throws without naming the part of
 * the spec at fault, or drops the part silently; this names it.
 */
export function findSpecProblems(spec: ChartSpec): string[] {
  const problems: string[] = [];
  visitViews(spec, '', (view, path) => {
    const mark = view.mark;
    const markType = typeof mark === 'object' && mark !== null ? (mark as ChartSpec).type : mark;
    const markPath = typeof mark === 'object' && mark !== null ? `${path}mark.type` : `${path}mark`;
    if (mark !== undefined && (typeof markType !== 'string' || !markTypes.includes(markType))) {
      problems.push(`At ${markPath}: ${JSON.stringify(markType)} is not a mark; use one of ${markTypes.join(', ')}.`);
    }
    const encoding = view.encoding;
    if (typeof encoding !== 'object' || encoding === null) return;
    for (const [channel, definition] of Object.entries(encoding)) {
      const definitions = Array.isArray(definition) ? definition : [definition];
      definitions.forEach((item, index) => {
        if (typeof item !== 'object' || item === null) return;
        const where = `${path}encoding.${channel}${Array.isArray(definition) ? `[${index}]` : ''}`;
        const { type, aggregate } = item as ChartSpec;
        if (type !== undefined && (typeof type !== 'string' || !fieldTypes.includes(type))) {
          problems.push(
            `At ${where}.type: ${JSON.stringify(type)} is not a field type; use quantitative (numbers), temporal (dates), ordinal (ordered categories) or nominal (categories).`,
          );
        }
        if (typeof aggregate === 'string' && !aggregateOperations.includes(aggregate)) {
          problems.push(
            `At ${where}.aggregate: ${JSON.stringify(aggregate)} is not an aggregate; use one of ${aggregateOperations.join(', ')}.`,
          );
        }
      });
    }
  });
  return problems;
}

/** Call `visit` on the view and each view nested in it, with its path (`layer[0].`). */
function visitViews(view: ChartSpec, path: string, visit: (view: ChartSpec, path: string) => void): void {
  visit(view, path);
  for (const key of childViewKeys) {
    const children = view[key];
    if (!Array.isArray(children)) continue;
    children.forEach((child, index) => {
      if (typeof child === 'object' && child !== null)
        visitViews(child as ChartSpec, `${path}${key}[${index}].`, visit);
    });
  }
  const inner = view.spec;
  if (typeof inner === 'object' && inner !== null && !Array.isArray(inner))
    visitViews(inner as ChartSpec, `${path}spec.`, visit);
}

/** `transform[0].calculate: "datum.a +"` for each expression in the spec's transforms. */
function expressionPaths(spec: ChartSpec): string[] {
  const found: string[] = [];
  visitViews(spec, '', (view, path) => {
    const transforms = view.transform;
    if (!Array.isArray(transforms)) return;
    transforms.forEach((transform, index) => {
      if (typeof transform !== 'object' || transform === null) return;
      for (const key of ['calculate', 'filter']) {
        const expression = (transform as ChartSpec)[key];
        if (typeof expression === 'string') {
          found.push(`${path}transform[${index}].${key}: ${JSON.stringify(shorten(expression, 120))}`);
        }
      }
    });
  });
  return found;
}

function shorten(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}
