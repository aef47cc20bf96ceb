/// <reference lib="dom" />
/**
 * The console in the browser: hash-routed views (runs, a run, approvals, costs) over the Runs
 * API, with the session cookie (same origin) and the CSRF token the page carries. Everything a
 * run produced is hostile text: it is only ever set with `textContent` and attributes, never as
 * HTML. This module routes the address to a view; each view is a module of its own
 * (runs-view.ts, run-view.ts, approvals-view.ts, costs-view.ts), built from the shared pieces in
 * elements.ts, components.ts and page.ts.
 */
import { showApprovals } from './approvals-view.js';
import { errorMessage } from './components.js';
import { showCosts } from './costs-view.js';
import { main, setView } from './page.js';
import { showRun } from './run-view.js';
import { showRuns } from './runs-view.js';

/**
 * The lifetime of the view on screen: `route()` aborts it when the page moves on, which stops
 * its timers and streams, cancels its reads, and keeps a late answer out of the page.
 */
let view = new AbortController();

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
  if (section === 'runs' && parts[1]) showRun(decodeURIComponent(parts[1]), view);
  else if (section === 'runs') showRuns(new URLSearchParams(search), view.signal);
  else if (section === 'approvals') showApprovals(view.signal);
  else if (section === 'costs') showCosts(view.signal);
  else setView('Not found', errorMessage(new Error(`No page "${hash}"; use the links above.`)));
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);
route();
