/**
 * The eval's chart: success rate against cost per solved task, one point per model or route,
 * with the Pareto front (no other point is both at least as successful and at most as dear)
 * marked and joined. Drawn with the toolchain's chart renderer (Vega-Lite, in a worker) as SVG
 * and PNG.
 */
import { writeFileSync } from 'node:fs';
import { ChartRenderer } from '../toolchain/charts/chart-renderer.js';
import { compileChartSpec } from '../toolchain/charts/chart-spec.js';
import type { EvalReport } from './eval-report.js';

export interface ChartPoint {
  model: string;
  successRate: number;
  costPerSolvedUsd: number;
  onParetoFront: boolean;
}

/** The chart's points: models that solved at least one task (cost per solved task is undefined otherwise). */
export function chartPoints(report: EvalReport): ChartPoint[] {
  const points = report.overall
    .filter((summary) => summary.costPerSolvedUsd !== null)
    .map((summary) => ({
      model: summary.model,
      successRate: summary.successRate,
      costPerSolvedUsd: summary.costPerSolvedUsd ?? 0,
    }));
  return points.map((point) => ({
    ...point,
    onParetoFront: !points.some(
      (other) =>
        other !== point &&
        other.successRate >= point.successRate &&
        other.costPerSolvedUsd <= point.costPerSolvedUsd &&
        (other.successRate > point.successRate || other.costPerSolvedUsd < point.costPerSolvedUsd),
    ),
  }));
}

/** The Vega-Lite spec of the chart. */
export function chartSpec(report: EvalReport): Record<string, unknown> {
  const values = chartPoints(report).map((point) => ({
    ...point,
    front: point.onParetoFront ? 'Pareto front' : 'dominated',
  }));
  const x = { field: 'costPerSolvedUsd', type: 'quantitative', title: 'cost per solved task (USD)' };
  const y = {
    field: 'successRate',
    type: 'quantitative',
    title: 'success rate',
    axis: { format: '.0%' },
    scale: { domain: [0, 1] },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${report.suite}: success vs cost per solved task`,
    width: 480,
    height: 320,
    data: { values },
    layer: [
      {
        transform: [{ filter: "datum.front === 'Pareto front'" }],
        mark: { type: 'line', strokeDash: [4, 3], color: '#888' },
        encoding: { x: { ...x }, y: { ...y }, order: { field: 'costPerSolvedUsd' } },
      },
      {
        mark: { type: 'point', filled: true, size: 90 },
        encoding: {
          x,
          y,
          color: {
            field: 'front',
            type: 'nominal',
            title: null,
            scale: { domain: ['Pareto front', 'dominated'], range: ['#d62728', '#7f7f7f'] },
          },
        },
      },
      {
        mark: { type: 'text', dx: 8, dy: -8, align: 'left' },
        encoding: { x, y, text: { field: 'model' } },
      },
    ],
  };
}

/** Draw the chart to `<basePath>.svg` and `<basePath>.png`; returns the two paths. */
export async function renderEvalChart(report: EvalReport, basePath: string): Promise<{ svg: string; png: string }> {
  const compiled = await compileChartSpec(chartSpec(report));
  const renderer = new ChartRenderer({ timeoutMs: 60_000, maxMemoryMb: 512 });
  try {
    const result = await renderer.render(
      {
        spec: compiled.vegaSpec,
        maxDataRows: 10_000,
        png: true,
        scale: 2,
        maxPixels: 20_000_000,
        font: { loadSystemFonts: true },
      },
      new AbortController().signal,
    );
    const paths = { svg: `${basePath}.svg`, png: `${basePath}.png` };
    writeFileSync(paths.svg, result.svg);
    if (result.png !== undefined) writeFileSync(paths.png, result.png);
    return paths;
  } finally {
    await renderer.dispose();
  }
}
