/// <reference lib="dom" />
/**
 * The approve-or-deny card for one waiting tool call, used by the run view and the approvals
 * view. A denial needs a reason (the model is told it); a call someone else decided first is
 * reported, not decided again.
 */
import { api } from './api-client.js';
import type { PendingApproval } from './api-types.js';
import { block, errorMessage, field } from './components.js';
import { el } from './elements.js';
import { announce } from './page.js';

export function decisionForm(runId: string, approval: PendingApproval, after: () => void): HTMLElement {
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
