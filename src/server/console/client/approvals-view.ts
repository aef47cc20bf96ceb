/// <reference lib="dom" />
/** The approvals view: every tool call waiting for a decision across the key's runs. */
import { api } from './api-client.js';
import type { Approval } from './api-types.js';
import { errorMessage } from './components.js';
import { decisionForm } from './decision-form.js';
import { el } from './elements.js';
import { setView } from './page.js';
import { createResponseOrder } from './response-order.js';

export function showApprovals(signal: AbortSignal) {
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
