/// <reference lib="dom" />
/**
 * The page the server rendered around the views: the main area a view fills, and the polite
 * live region that announces what happened.
 */
import { type Child, el, nodes } from './elements.js';

export const main = document.getElementById('main') as HTMLElement;
const announcer = document.getElementById('announcer') as HTMLElement;

/** Says `message` to a screen reader, politely. */
export function announce(message: string) {
  announcer.textContent = message;
}
/** Replaces the main area with a view titled `title` (the document's title too). */
export function setView(title: string, ...children: Child[]) {
  document.title = `${title} · Hataraku console`;
  main.replaceChildren(el('h1', {}, title), ...nodes(children));
}
