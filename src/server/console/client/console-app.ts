/// <reference lib="dom" />
/**
 * The console in the browser: hash-routed views (runs, a run, approvals, costs) over the Runs
 * API, with the session cookie (same origin) and the CSRF token the page carries. Everything a
 * run produced is hostile text: it is only ever set with `textContent` and attributes, never as
 * HTML. Charts are SVG drawn here.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Totals {
  steps: number;
  modelCalls: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}
interface PendingApproval {
  stepIndex: number;
  toolName: string;
  input: Json;
  reason: string;
}
interface Run {
  id: string;
  agent: string;
  model: string;
  input: string;
  status: string;
  stopReason: string | null;
  output: Json;
  error: string | null;
  tenant: string | null;
  createdAt: string;
  updatedAt: string;
  totals: Totals;
  pendingApprovals: PendingApproval[];
}
interface Step {
  index: number;
  name: string;
  kind: 'model' | 'tool';
  output: Json;
  model?: string;
  usage?: { inputTokens?: number; outputTokens?: number };
  costUsd?: number;
  startedAt: number;
  finishedAt: number;
}
interface Approval extends PendingApproval {
  runId: string;
  agent: string;
  status: string;
  requestedAt: string;
  decidedBy: string | null;
  note: string | null;
}
interface RunEvent {
  type: string;
  stepIndex?: number;
  index?: number;
  [key: string]: Json | undefined;
}

const main = document.getElementById('main') as HTMLElement;
const announcer = document.getElementById('announcer') as HTMLElement;
const csrfToken = document.getElementById('console-script')?.dataset.csrf ?? '';
/**
 * The lifetime of the view on screen: `route()` aborts it when the page moves on, which stops
 * its timers and streams, cancels its reads, and keeps a late answer out of the page.
 */
let view = new AbortController();

/**
 * Orders the answers to one view's repeated reads (a poll, a refresh after an event, a new
 * filter): an answer is shown only if no newer read has been shown or superseded before it, so
 * a slow answer never overwrites a newer one, and nothing is shown once the view is gone.
 */
function createResponseOrder(signal: AbortSignal) {
  let asked = 0;
  let settled = 0;
  return {
    /** A ticket for a read about to be sent. */
    ask: () => ++asked,
    /** Whether the answer to `ticket` may be shown; if so, older answers no longer may. */
    take(ticket: number): boolean {
      if (signal.aborted || ticket <= settled) return false;
      settled = ticket;
      return true;
    },
    /** The question changed (new filters): no answer to a read sent before now may be shown. */
    supersede() {
      settled = asked;
    },
  };
}

type Child = Node | string | null | undefined | false;
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.method && init.method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.signal !== undefined ? { signal: init.signal } : {}),
  });
  const body = (await response.json().catch(() => ({}))) as { error?: { message?: string; code?: string } };
  if (!response.ok) {
    if (response.status === 401) {
      throw new ApiFailure(
        'Your session has ended or the key was revoked: reload the page to sign in.',
        401,
        'unauthorized',
      );
    }
    throw new ApiFailure(
      body.error?.message ?? `the server answered ${response.status}`,
      response.status,
      body.error?.code ?? '',
    );
  }
  return body as T;
}

function errorMessage(error: unknown): HTMLElement {
  const text = error instanceof Error ? error.message : String(error);
  return el('p', { class: 'message error', role: 'alert' }, text);
}

const money = (usd: number) => (usd < 0.01 && usd > 0 ? `$${usd.toFixed(5)}` : `$${usd.toFixed(4)}`);
const number = (value: number) => value.toLocaleString('en-US');
function duration(run: Run): string {
  const ms = Date.parse(run.updatedAt) - Date.parse(run.createdAt);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
function text(value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
/** A value as preformatted text; folded behind a summary when large. */
function block(label: string, value: Json | undefined): HTMLElement {
  const content = text(value);
  const pre = el('pre', {}, content);
  if (content.length <= 600) return el('div', {}, el('div', { class: 'meta' }, label), pre);
  return el('details', {}, el('summary', {}, `${label} (${number(content.length)} characters, folded)`), pre);
}
function nodes(children: Child[]): Array<Node | string> {
  return children.filter((child): child is Node | string => child !== null && child !== undefined && child !== false);
}
function statusBadge(status: string): HTMLElement {
  return el('span', { class: `status status-${status}` }, status);
}
function announce(message: string) {
  announcer.textContent = message;
}
function setView(title: string, ...children: Child[]) {
  document.title = `${title} · Hataraku console`;
  main.replaceChildren(el('h1', {}, title), ...nodes(children));
}

// ---- Runs -------------------------------------------------------------------------------------

function field(label: string, control: HTMLElement): HTMLElement {
  const id = `field-${label.toLowerCase().replace(/\W+/g, '-')}`;
  control.id = id;
  return el('label', { for: id }, label, control);
}

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

function showRuns(query: URLSearchParams) {
  const { signal } = view;
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

// ---- A run ------------------------------------------------------------------------------------

function decisionForm(runId: string, approval: PendingApproval, after: () => void): HTMLElement {
  const note = el('input', { name: 'note', type: 'text' });
  const message = el('div', { 'aria-live': 'polite' });
  const decide = async (outcome: 'approve' | 'deny') => {
    const noteText = note.value.trim();
    if (outcome === 'deny' && !noteText) {
      message.replaceChildren(errorMessage(new Error('Say why you deny it: the model is told the reason.')));
      note.focus();
      return;
    }
    try {
      const result = await api<{ result: string; status: string; decidedBy: string | null }>(
        `/runs/${encodeURIComponent(runId)}/${outcome}`,
        {
          method: 'POST',
          body:
            outcome === 'approve'
              ? { stepIndex: approval.stepIndex, ...(noteText ? { note: noteText } : {}) }
              : { stepIndex: approval.stepIndex, reason: noteText },
        },
      );
      if (result.result === 'ignored') {
        message.replaceChildren(
          errorMessage(
            new Error(`Already decided: ${result.status} by ${result.decidedBy ?? 'someone else'}. Nothing changed.`),
          ),
        );
        return;
      }
      message.replaceChildren(
        el('p', { class: 'message info', role: 'status' }, `${result.status} as ${result.decidedBy ?? ''}`),
      );
      announce(`Call ${result.status}`);
      after();
    } catch (error) {
      message.replaceChildren(errorMessage(error));
    }
  };
  const approve = el('button', { type: 'button' }, 'Approve');
  const deny = el('button', { type: 'button', class: 'danger' }, 'Deny');
  approve.addEventListener('click', () => void decide('approve'));
  deny.addEventListener('click', () => void decide('deny'));
  return el(
    'div',
    { class: 'card', 'data-approval': `${runId}:${approval.stepIndex}` },
    el('h3', {}, `Waiting: ${approval.toolName} (step ${approval.stepIndex})`),
    el('p', { class: 'meta' }, `Why: ${approval.reason}`),
    block('It would send', approval.input),
    el('div', { class: 'actions' }, field(`Note for step ${approval.stepIndex}`, note), approve, deny),
    message,
  );
}

function showRun(runId: string) {
  const { signal } = view;
  const order = createResponseOrder(signal);
  const summary = el('div');
  const approvals = el('div');
  const timeline = el('ol', { class: 'timeline', 'aria-label': 'Timeline' });
  const artifacts = el('div');
  const final = el('div', { 'data-final': '' });
  const live = el('p', { class: 'live', 'aria-live': 'off' }, 'Connecting to the live stream…');
  setView(
    'Run',
    summary,
    approvals,
    el('h2', {}, 'Timeline'),
    live,
    timeline,
    el('h2', {}, 'Artifacts'),
    artifacts,
    el('h2', {}, 'Final answer'),
    final,
  );
  const routing = new Map<number, string>();
  const toolInputs = new Map<number, Json>();
  const toolOutputs = new Map<number, { output: Json; isError: boolean }>();
  const inProgress = new Map<number, string>();
  let refreshQueued = false;

  const render = async () => {
    refreshQueued = false;
    const ticket = order.ask();
    let run: Run;
    let steps: Step[];
    let files: Array<{ path: string; mediaType: string; description: string | null; size: number | null }>;
    try {
      const id = encodeURIComponent(runId);
      [run, { steps }, { artifacts: files }] = await Promise.all([
        api<Run>(`/runs/${id}`, { signal }),
        api<{ steps: Step[] }>(`/runs/${id}/steps`, { signal }),
        api<{ artifacts: typeof files }>(`/runs/${id}/artifacts`, { signal }),
      ]);
    } catch (error) {
      if (!order.take(ticket)) return;
      if (error instanceof ApiFailure && error.code === 'run_not_found') {
        setView('Run not found', errorMessage(error), el('p', {}, el('a', { href: '#/runs' }, 'Back to the runs')));
        view.abort();
        return;
      }
      summary.replaceChildren(errorMessage(error));
      return;
    }
    if (!order.take(ticket)) return;
    document.title = `Run ${run.id} · Hataraku console`;
    const open = run.status === 'pending' || run.status === 'waiting';
    const actions = el('div', { class: 'actions' });
    const actionMessage = el('div', { 'aria-live': 'polite' });
    const action = (label: string, path: string, className: string) => {
      const button = el('button', { type: 'button', class: className }, label);
      button.addEventListener('click', async () => {
        try {
          await api(`/runs/${encodeURIComponent(run.id)}/${path}`, { method: 'POST' });
          announce(`${label} sent`);
          void render();
        } catch (error) {
          actionMessage.replaceChildren(errorMessage(error));
        }
      });
      return button;
    };
    if (run.status !== 'completed' && run.status !== 'stopped') actions.append(action('Resume', 'resume', 'secondary'));
    if (open) actions.append(action('Cancel', 'cancel', 'danger'));
    summary.replaceChildren(
      ...nodes([
        el(
          'p',
          {},
          statusBadge(run.status),
          run.stopReason ? ` · ${run.stopReason}` : '',
          ` · ${run.agent} · ${run.model}`,
        ),
        el(
          'p',
          { class: 'meta' },
          `${run.totals.steps} steps · ${number(run.totals.inputTokens)} in / ${number(run.totals.outputTokens)} out tokens · ${money(run.totals.costUsd)} · ${duration(run)} · ${run.id}`,
        ),
        block('Task', run.input),
        actions,
        actionMessage,
        run.error ? errorMessage(new Error(run.error)) : null,
      ]),
    );
    approvals.replaceChildren(
      ...run.pendingApprovals.map((approval) => decisionForm(run.id, approval, () => void render())),
    );
    ended = !open;
    const done = new Set(steps.map((step) => step.index));
    timeline.replaceChildren(
      ...steps.map((step) =>
        stepCard(step, routing.get(step.index), toolInputs.get(step.index), toolOutputs.get(step.index)),
      ),
      ...[...inProgress.entries()]
        .filter(([index]) => !done.has(index))
        .map(([index, name]) =>
          el('li', { class: 'card' }, el('h3', {}, `Step ${index}: ${name}`), el('p', { class: 'meta' }, 'running…')),
        ),
    );
    artifacts.replaceChildren(
      files.length === 0
        ? el('p', { class: 'meta' }, 'None.')
        : el(
            'ul',
            {},
            ...files.map((file) => {
              const href = `/runs/${encodeURIComponent(run.id)}/artifacts/file?path=${encodeURIComponent(file.path)}`;
              const image = /^image\/(png|jpeg|gif|webp)$/.test(file.mediaType);
              return el(
                'li',
                {},
                image ? el('img', { class: 'artifact', src: href, alt: file.description ?? file.path }) : null,
                el('a', { href, download: file.path.split('/').pop() ?? 'artifact' }, `Download ${file.path}`),
                el(
                  'span',
                  { class: 'meta' },
                  ` ${file.mediaType}${file.size !== null ? `, ${number(file.size)} bytes` : ', gone'}`,
                ),
              );
            }),
          ),
    );
    final.replaceChildren(
      run.output === null ? el('p', { class: 'meta' }, open ? 'Not yet.' : 'None.') : block('Answer', run.output),
    );
  };

  const queueRender = () => {
    if (refreshQueued) return;
    refreshQueued = true;
    setTimeout(() => void render(), 150);
  };
  const source = new EventSource(`/runs/${encodeURIComponent(runId)}/events`);
  let count = 0;
  let ended = false;
  void render();
  const onEvent = (message: MessageEvent<string>) => {
    let event: RunEvent;
    try {
      event = JSON.parse(message.data) as RunEvent;
    } catch {
      return;
    }
    count++;
    live.textContent = `Live: ${count} events, last ${event.type}.`;
    const index =
      typeof event.stepIndex === 'number' ? event.stepIndex : typeof event.index === 'number' ? event.index : -1;
    if (event.type === 'routing') routing.set(index, `${text(event.model)}: ${text(event.reason)}`);
    if (event.type === 'tool-call-start') toolInputs.set(index, event.input ?? null);
    if (event.type === 'tool-call-end')
      toolOutputs.set(index, { output: event.output ?? null, isError: event.isError === true });
    if (event.type === 'step-start') {
      inProgress.set(index, text(event.name));
      queueRender();
    }
    if (['step-end', 'run-end', 'approval-requested', 'usage'].includes(event.type)) queueRender();
    if (event.type === 'run-end' && event.status !== 'waiting') {
      live.textContent = `Live: ${count} events; the run ended (${text(event.status)}).`;
      source.close();
    }
  };
  for (const type of [
    'run-start',
    'step-start',
    'tool-call-start',
    'tool-call-end',
    'usage',
    'routing',
    'approval-requested',
    'step-end',
    'run-end',
    'warning',
  ]) {
    source.addEventListener(type, onEvent as EventListener);
  }
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) return;
    // The server ends the stream of a run that has ended (its events replayed, or none when the
    // CLI or a worker ran it): nothing more will come, so do not reconnect.
    if (ended) {
      source.close();
      live.textContent =
        count === 0
          ? 'No live events for this run; shown from the journal.'
          : `Live: ${count} events; the run has ended.`;
      return;
    }
    live.textContent = `Live: ${count} events; reconnecting…`;
  };
  signal.addEventListener('abort', () => source.close());
}

function stepCard(
  step: Step,
  route: string | undefined,
  toolInput: Json | undefined,
  toolResult: { output: Json; isError: boolean } | undefined,
) {
  const latency = step.finishedAt - step.startedAt;
  const heading = el(
    'summary',
    {},
    `Step ${step.index}: ${step.kind === 'model' ? `model call (${step.model ?? ''})` : step.name}`,
  );
  const details: Child[] = [];
  if (step.kind === 'model') {
    const output = step.output as { text?: Json; toolCalls?: Json } | null;
    details.push(
      el(
        'p',
        { class: 'meta' },
        `${number(step.usage?.inputTokens ?? 0)} in / ${number(step.usage?.outputTokens ?? 0)} out tokens · ${step.costUsd === undefined ? 'cost unknown' : money(step.costUsd)} · ${latency} ms`,
      ),
      el('p', { class: 'meta' }, `Routing: ${route ?? `no routing decision (model ${step.model ?? 'as configured'})`}`),
      output && typeof output === 'object' && 'text' in output && output.text ? block('Text', output.text) : null,
      output && typeof output === 'object' && 'toolCalls' in output
        ? block('Tool calls', output.toolCalls ?? null)
        : null,
      output && typeof output === 'object' && !('text' in output) && !('toolCalls' in output)
        ? block('Output', step.output)
        : null,
    );
  } else {
    details.push(
      el('p', { class: 'meta' }, `${latency} ms${toolResult?.isError ? ' · error' : ''}`),
      toolInput !== undefined ? block('Arguments', toolInput) : null,
      block('Result', toolResult?.output ?? step.output),
    );
  }
  return el('li', { class: 'card', 'data-step': String(step.index) }, el('details', {}, heading, ...details));
}

// ---- Approvals --------------------------------------------------------------------------------

function showApprovals() {
  const { signal } = view;
  const order = createResponseOrder(signal);
  const list = el('div');
  setView(
    'Approvals',
    el(
      'p',
      { class: 'meta' },
      'Tool calls waiting for a decision, across your runs. Decisions are audited with your key’s name.',
    ),
    list,
  );
  const load = async () => {
    const ticket = order.ask();
    try {
      const { approvals } = await api<{ approvals: Approval[] }>('/approvals?status=pending', { signal });
      if (!order.take(ticket)) return;
      if (approvals.length === 0) {
        list.replaceChildren(el('p', { class: 'message info', role: 'status' }, 'Nothing waits for a decision.'));
        return;
      }
      list.replaceChildren(
        ...approvals.map((approval) => {
          const card = decisionForm(approval.runId, approval, () => undefined);
          card.prepend(
            el(
              'p',
              { class: 'meta' },
              `${approval.agent} · requested ${new Date(approval.requestedAt).toLocaleString()} · `,
              el('a', { href: `#/runs/${encodeURIComponent(approval.runId)}` }, 'open the run'),
            ),
          );
          return card;
        }),
      );
    } catch (error) {
      if (!order.take(ticket)) return;
      list.replaceChildren(errorMessage(error));
    }
  };
  void load();
}

// ---- Costs ------------------------------------------------------------------------------------

const palette = ['#0b57d0', '#b3261e', '#0a6b2b', '#7a4d00', '#6b2fa8', '#006a6a', '#444444', '#c2185b'];
const svgNamespace = 'http://www.w3.org/2000/svg';
function svg(tag: string, attributes: Record<string, string | number>, ...children: Array<Node | string>): SVGElement {
  const node = document.createElementNS(svgNamespace, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

interface Series {
  by: string;
  days: string[];
  series: Array<{ key: string; costUsd: number[]; totalUsd: number }>;
}

/** Stacked daily bars, with a legend and a text table for screen readers. */
function stackedChart(title: string, data: Series): HTMLElement {
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

function showCosts() {
  const { signal } = view;
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

// ---- Routing ----------------------------------------------------------------------------------

function route() {
  view.abort();
  view = new AbortController();
  const hash = location.hash.replace(/^#/, '') || '/runs';
  const [path = '/runs', search = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean);
  const section = parts[0] ?? 'runs';
  for (const link of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (section === 'runs' && parts[1]) showRun(decodeURIComponent(parts[1]));
  else if (section === 'runs') showRuns(new URLSearchParams(search));
  else if (section === 'approvals') showApprovals();
  else if (section === 'costs') showCosts();
  else setView('Not found', errorMessage(new Error(`No page "${hash}"; use the links above.`)));
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);
route();
