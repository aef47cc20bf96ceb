/// <reference lib="dom" />
/** The small pieces every view uses: an error line, a value block, a status badge, a labelled field. */
import type { Json } from './api-types.js';
import { el } from './elements.js';
import { number, text } from './formatting.js';

export function errorMessage(error: unknown): HTMLElement {
  const text = error instanceof Error ? error.message : String(error);
  return el('p', { class: 'message error', role: 'alert' }, text);
}

/** A value as preformatted text; folded behind a summary when large. */
export function block(label: string, value: Json | undefined): HTMLElement {
  const content = text(value);
  const pre = el('pre', {}, content);
  if (content.length <= 600) return el('div', {}, el('div', { class: 'meta' }, label), pre);
  return el('details', {}, el('summary', {}, `${label} (${number(content.length)} characters, folded)`), pre);
}
export function statusBadge(status: string): HTMLElement {
  return el('span', { class: `status status-${status}` }, status);
}

export function field(label: string, control: HTMLElement): HTMLElement {
  const id = `field-${label.toLowerCase().replace(/\W+/g, '-')}`;
  control.id = id;
  return el('label', { for: id }, label, control);
}
