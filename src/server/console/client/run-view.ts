/// <reference lib="dom" />
/**
 * The run view: the run's summary and actions, its waiting calls, a timeline of its steps kept
 * current from the run's event stream, its artifacts and its final answer.
 */
import { ApiFailure, api } from './api-client.js';
import type { Json, Run, RunEvent, Step } from './api-types.js';
import { block, errorMessage, statusBadge } from './components.js';
import { decisionForm } from './decision-form.js';
import { el, nodes } from './elements.js';
import { duration, money, number, text } from './formatting.js';
import { announce, setView } from './page.js';
import { createResponseOrder } from './response-order.js';
import { stepCard } from './step-card.js';

/**
 * Shows run `runId`; `view` is the view's lifetime, which it ends itself when the run does not
 * exist.
 */
export function showRun(runId: string, view: AbortController) {
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
