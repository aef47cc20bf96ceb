/// <reference lib="dom" />
/** A stacked daily spend chart drawn as SVG, with a legend and hover titles. */
import { el } from './elements.js';
import { money } from './formatting.js';

export const palette = ['#0b57d0', '#b3261e', '#0a6b2b', '#7a4d00', '#6b2fa8', '#006a6a', '#444444', '#c2185b'];
export const svgNamespace = 'http://www.w3.org/2000/svg';
export function svg(
  tag: string,
  attributes: Record<string, string | number>,
  ...children: Array<Node | string>
): SVGElement {
  const node = document.createElementNS(svgNamespace, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

export interface Series {
  by: string;
  days: string[];
  series: Array<{ key: string; costUsd: number[]; totalUsd: number }>;
}

/** Stacked daily bars, with a legend and a text table for screen readers. */
export function stackedChart(title: string, data: Series): HTMLElement {
  const width = 640;
  const height = 220;
  // Room for the widest axis label ("$0.00001") at the chart's font size.
  const left = 76;
  const bottom = 28;
  const top = 10;
  const groups = data.series.slice(0, palette.length);
  const totals = data.days.map((_, day) => groups.reduce((sum, group) => sum + (group.costUsd[day] ?? 0), 0));
  const maximum = Math.max(...totals, 1e-9);
  const slot = (width - left - 8) / data.days.length;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width: '100%',
    'font-size': '13',
    role: 'img',
    'aria-label': `${title}: daily spend over ${data.days.length} days, split by ${data.by}`,
  });
  const scale = (value: number) => ((height - top - bottom) * value) / maximum;
  for (const fraction of [0, 0.5, 1]) {
    const y = height - bottom - scale(maximum * fraction);
    chart.append(
      svg('line', { x1: left, x2: width - 4, y1: y, y2: y, stroke: '#ccc' }),
      svg('text', { x: left - 4, y: y + 4, 'text-anchor': 'end' }, money(maximum * fraction)),
    );
  }
  data.days.forEach((day, index) => {
    let y = height - bottom;
    groups.forEach((group, groupIndex) => {
      const value = group.costUsd[index] ?? 0;
      if (value <= 0) return;
      const barHeight = Math.max(1, scale(value));
      y -= barHeight;
      chart.append(
        svg(
          'rect',
          {
            x: left + index * slot + 2,
            y,
            width: Math.max(2, slot - 4),
            height: barHeight,
            fill: palette[groupIndex] ?? '#444',
          },
          svg('title', {}, `${day} ${group.key}: ${money(value)}`),
        ),
      );
    });
    if (index % Math.ceil(data.days.length / 7) === 0) {
      chart.append(
        svg('text', { x: left + index * slot + slot / 2, y: height - 8, 'text-anchor': 'middle' }, day.slice(5)),
      );
    }
  });
  const legend = el(
    'ul',
    { class: 'legend' },
    ...groups.map((group, index) =>
      el(
        'li',
        {},
        svg(
          'svg',
          { width: 12, height: 12, 'aria-hidden': 'true' },
          svg('rect', { width: 12, height: 12, fill: palette[index] ?? '#444' }),
        ),
        ` ${group.key}: ${money(group.totalUsd)}`,
      ),
    ),
  );
  return el(
    'figure',
    { class: 'card', 'data-chart': data.by },
    el('figcaption', {}, title),
    groups.length === 0 ? el('p', { class: 'meta' }, 'No spend in this period.') : chart,
    legend,
  );
}
