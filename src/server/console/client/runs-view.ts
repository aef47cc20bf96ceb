/// <reference lib="dom" />
/** The runs view: the filtered list of runs, newest first, read again every 2 seconds. */
import { api } from './api-client.js';
import type { Run } from './api-types.js';
import { errorMessage, field, statusBadge } from './components.js';
import { el } from './elements.js';
import { duration, money, number } from './formatting.js';
import { setView } from './page.js';
import { createResponseOrder } from './response-order.js';

/** The Runs API's query for the list's filters (the form's `until` day is inclusive). */
function listParameters(query: URLSearchParams): URLSearchParams {
  const parameters = new URLSearchParams();
  for (const name of ['q', 'status', 'agent', 'tenant']) {
    const value = query.get(name);
    if (value) parameters.set(name, value);
  }
  const since = query.get('since');
  const until = query.get('until');
  if (since) parameters.set('since', since);
  if (until) parameters.set('until', new Date(Date.parse(until) + 86_400_000).toISOString().slice(0, 10));
  return parameters;
}

export function showRuns(query: URLSearchParams, signal: AbortSignal) {
  const order = createResponseOrder(signal);
  let parameters = listParameters(query);
  const status = el('select', { name: 'status' });
  for (const option of ['', 'pending', 'waiting', 'completed', 'stopped', 'failed']) {
    status.append(el('option', { value: option }, option || 'any'));
  }
  status.value = query.get('status') ?? '';
  const input = (name: string, type = 'text') => el('input', { name, type, value: query.get(name) ?? '' });
  const form = el(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter runs' },
    field('Search', input('q', 'search')),
    field('Status', status),
    field('Agent', input('agent')),
    field('Tenant', input('tenant')),
    field('Since', input('since', 'date')),
    field('Until', input('until', 'date')),
    el('button', { type: 'submit' }, 'Apply'),
  );
  // New filters apply in place: the form is not rebuilt (a rebuild from the address could drop
  // an edit made meanwhile), the address records them without a hashchange (back still works,
  // through route()), and answers to reads with the old filters are no longer shown.
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (typeof value === 'string' && value) next.set(name, value);
    const hash = `#/runs?${next}`;
    if (hash !== location.hash) history.pushState(null, '', hash);
    parameters = listParameters(next);
    order.supersede();
    table.setAttribute('aria-busy', 'true');
    void load();
  });
  const body = el('tbody');
  const problem = el('div');
  const table = el(
    'table',
    { 'aria-busy': 'true' },
    el('caption', { class: 'visually-hidden' }, 'Runs, newest first, updated live'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['Run', 'Status', 'Agent', 'Model', 'Steps', 'Tokens', 'Cost', 'Duration', 'Stop reason'].map((heading) =>
          el(
            'th',
            {
              scope: 'col',
              class: ['Steps', 'Tokens', 'Cost', 'Duration'].includes(heading)
                ? 'number'
                : ['Model', 'Stop reason'].includes(heading)
                  ? 'optional'
                  : '',
            },
            heading,
          ),
        ),
      ),
    ),
    body,
  );
  setView(
    'Runs',
    form,
    problem,
    el('div', { class: 'table-wrap' }, table),
    el('p', { class: 'live' }, 'Updates every 2 seconds.'),
  );

  async function load() {
    const ticket = order.ask();
    try {
      const { runs } = await api<{ runs: Run[] }>(`/runs?${parameters}`, { signal });
      if (!order.take(ticket)) return;
      problem.replaceChildren();
      table.setAttribute('aria-busy', 'false');
      body.replaceChildren(
        ...(runs.length === 0
          ? [el('tr', {}, el('td', { colspan: '9' }, 'No runs match.'))]
          : runs.map((run) =>
              el(
                'tr',
                { 'data-run': run.id },
                el(
                  'td',
                  {},
                  el('a', { href: `#/runs/${encodeURIComponent(run.id)}` }, run.input.slice(0, 60) || run.id),
                ),
                el('td', {}, statusBadge(run.status)),
                el('td', {}, run.agent),
                el('td', { class: 'optional' }, run.model),
                el('td', { class: 'number' }, String(run.totals.steps)),
                el('td', { class: 'number' }, number(run.totals.inputTokens + run.totals.outputTokens)),
                el('td', { class: 'number' }, money(run.totals.costUsd)),
                el('td', { class: 'number' }, duration(run)),
                el('td', { class: 'optional' }, run.stopReason ?? ''),
              ),
            )),
      );
    } catch (error) {
      if (!order.take(ticket)) return;
      table.setAttribute('aria-busy', 'false');
      problem.replaceChildren(errorMessage(error));
    }
  }
  void load();
  const timer = setInterval(load, 2000);
  signal.addEventListener('abort', () => clearInterval(timer));
}
