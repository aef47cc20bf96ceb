/// <reference lib="dom" />
/** The costs view: cost per completed run, budgets, daily spend charts and the costliest runs. */
import { api } from './api-client.js';
import { errorMessage } from './components.js';
import { el } from './elements.js';
import { money } from './formatting.js';
import { setView } from './page.js';
import { createResponseOrder } from './response-order.js';
import { type Series, stackedChart } from './stacked-chart.js';

export function showCosts(signal: AbortSignal) {
  const order = createResponseOrder(signal);
  const summary = el('div');
  const charts = el('div', { class: 'grid' });
  const top = el('div');
  setView('Costs', summary, el('h2', {}, 'Spend per day, last 14 days'), charts, el('h2', {}, 'Costliest runs'), top);
  const load = async () => {
    const ticket = order.ask();
    try {
      const [costs, ...series] = await Promise.all([
        api<{
          budgets: Array<{ period: string; limitUsd: number; spentUsd: number }>;
          totalUsd: number;
          completedRuns: number;
          costPerCompletedRunUsd: number | null;
          topRuns: Array<{
            runId: string;
            agent: string | null;
            status: string | null;
            input: string | null;
            costUsd: number;
          }>;
        }>('/costs/summary', { signal }),
        ...['model', 'agent', 'tenant'].map((by) => api<Series>(`/costs/series?by=${by}&days=14`, { signal })),
      ]);
      if (!order.take(ticket)) return;
      summary.replaceChildren(
        el(
          'div',
          { class: 'grid' },
          el(
            'div',
            { class: 'card' },
            el('h3', {}, 'Cost per completed run'),
            el(
              'p',
              { class: 'stat', 'data-stat': 'cost-per-completed-run' },
              costs.costPerCompletedRunUsd === null ? '—' : money(costs.costPerCompletedRunUsd),
            ),
            el('p', { class: 'meta' }, `${costs.completedRuns} completed runs · ${money(costs.totalUsd)} spent in all`),
          ),
          el(
            'div',
            { class: 'card' },
            el('h3', {}, 'Budgets'),
            ...(costs.budgets.length === 0
              ? [el('p', { class: 'meta' }, 'This key has no budget (set one with hataraku keys create --budget-day).')]
              : costs.budgets.map((budget) => {
                  const used = budget.limitUsd > 0 ? budget.spentUsd / budget.limitUsd : 1;
                  const meter = el('meter', {
                    min: '0',
                    max: String(budget.limitUsd),
                    value: String(Math.min(budget.spentUsd, budget.limitUsd)),
                    'aria-label': `${budget.period} budget used`,
                  });
                  return el(
                    'p',
                    { 'data-budget': budget.period },
                    `${budget.period === 'day' ? 'Today' : 'This month'}: ${money(budget.spentUsd)} of ${money(budget.limitUsd)} (${Math.round(used * 100)}%) `,
                    meter,
                  );
                })),
          ),
        ),
      );
      charts.replaceChildren(...series.map((data) => stackedChart(`By ${data.by}`, data)));
      top.replaceChildren(
        costs.topRuns.length === 0
          ? el('p', { class: 'meta' }, 'No runs yet.')
          : el(
              'div',
              { class: 'table-wrap' },
              el(
                'table',
                {},
                el(
                  'thead',
                  {},
                  el(
                    'tr',
                    {},
                    ...['Run', 'Agent', 'Status', 'Cost'].map((heading) =>
                      el('th', { scope: 'col', class: heading === 'Cost' ? 'number' : '' }, heading),
                    ),
                  ),
                ),
                el(
                  'tbody',
                  {},
                  ...costs.topRuns.map((run) =>
                    el(
                      'tr',
                      {},
                      el(
                        'td',
                        {},
                        el(
                          'a',
                          { href: `#/runs/${encodeURIComponent(run.runId)}` },
                          run.input?.slice(0, 60) || run.runId,
                        ),
                      ),
                      el('td', {}, run.agent ?? ''),
                      el('td', {}, run.status ?? ''),
                      el('td', { class: 'number' }, money(run.costUsd)),
                    ),
                  ),
                ),
              ),
            ),
      );
    } catch (error) {
      if (!order.take(ticket)) return;
      summary.replaceChildren(errorMessage(error));
    }
  };
  void load();
}
