/// <reference lib="dom" />
/**
 * One finished step on a run's timeline: a model call with its tokens, cost, latency and routing
 * decision, or a tool call with its arguments and result.
 */
import type { Json, Step } from './api-types.js';
import { block } from './components.js';
import { type Child, el } from './elements.js';
import { money, number } from './formatting.js';

export function stepCard(
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
