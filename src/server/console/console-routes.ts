/**
 * The console's pages: `/` (the sign-in form, or the console itself), its script and style, and
 * signing in and out. Everything the console shows it reads from the Runs API in the browser,
 * with the session cookie opened here (the session itself lives in the journal:
 * session-store.ts); this file has no data routes of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Hono } from 'hono';
import type { KeyStore } from '../keys/key-store.js';
import { consoleStyle } from './console-style.js';
import { type SessionStore, sessionCookieName } from './session-store.js';

/** Strict: only this origin's script and style, no inline script, no framing. */
export const consoleContentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const securityHeaders = {
  'content-security-policy': consoleContentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * The console's browser modules (the build of `client/`), by the name each is served under
 * below `/console/`: the entry, `console-app.js`, as `console.js`, and the modules it imports
 * under their own names (a relative import from `/console/console.js` asks for them there).
 */
function loadScripts(): Map<string, string> {
  // Built next to this file (dist/server/console/client); from the sources, read the build.
  for (const candidate of ['./client/', '../../../dist/server/console/client/']) {
    const folder = new URL(candidate, import.meta.url);
    let names: string[];
    try {
      names = readdirSync(folder).filter((name) => /^[a-z][a-z-]*\.js$/.test(name));
    } catch {
      continue; // try the next place
    }
    if (!names.includes('console-app.js')) continue;
    const scripts = new Map<string, string>();
    for (const name of names) {
      // The source map is not served: drop the comment that points to it.
      const script = readFileSync(new URL(name, folder), 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
      scripts.set(name === 'console-app.js' ? 'console.js' : name, script);
    }
    return scripts;
  }
  return new Map([
    [
      'console.js',
      "document.getElementById('main').textContent = 'The console script is not built: run npm run build.';",
    ],
  ]);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Hataraku console</title>
<link rel="stylesheet" href="/console/console.css">
</head>
<body>
${body}
</body>
</html>`;
}

function signInPage(message: string | undefined): string {
  return page(
    'Sign in',
    `<main class="sign-in">
<h1>Hataraku console</h1>
<p>Sign in with an API key (create one with <code>hataraku keys create NAME --tenant TENANT</code>).</p>
${message ? `<p class="message error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/console/sign-in">
<label for="key">API key<input id="key" name="key" type="password" autocomplete="current-password" required placeholder="hk_…"></label>
<button type="submit">Sign in</button>
</form>
</main>`,
  );
}

function consolePage(who: { name: string; tenant: string }, csrfToken: string): string {
  return page(
    'Console',
    `<header>
<a class="brand" href="#/runs">Hataraku</a>
<nav aria-label="Console"><ul>
<li><a href="#/runs" data-nav="runs">Runs</a></li>
<li><a href="#/approvals" data-nav="approvals">Approvals</a></li>
<li><a href="#/costs" data-nav="costs">Costs</a></li>
</ul></nav>
<form method="post" action="/console/sign-out">
<span class="meta">${escapeHtml(who.name)} · tenant ${escapeHtml(who.tenant)}</span>
<input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}">
<button type="submit" class="secondary">Sign out</button>
</form>
</header>
<div id="announcer" class="visually-hidden" aria-live="polite"></div>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<noscript><p class="message error">The console needs JavaScript.</p></noscript>
<script type="module" src="/console/console.js" data-csrf="${escapeHtml(csrfToken)}" id="console-script"></script>`,
  );
}

function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${sessionCookieName}=${value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

export function consoleRoutes(init: { keys: KeyStore; sessions: SessionStore; development: boolean }) {
  const { keys, sessions } = init;
  const app = new Hono();
  const scripts = loadScripts();
  const html = (body: string, status: 200 | 401 | 403 = 200, extra: Record<string, string> = {}) =>
    new Response(body, {
      status,
      headers: { 'content-type': 'text/html; charset=utf-8', ...securityHeaders, ...extra },
    });
  // A form posted from another site is refused (SameSite already keeps the cookie from it).
  const sameOrigin = (request: Request) => {
    const origin = request.headers.get('origin');
    const host = request.headers.get('host');
    return !origin || (host !== null && (origin === `http://${host}` || origin === `https://${host}`));
  };

  app.get('/', async (context) => {
    const session = await sessions.current(context.req.header('cookie'));
    if (session?.status === 'live') return html(consolePage(session.key, session.csrfToken));
    if (!session && init.development) return html(consolePage({ name: 'dev', tenant: 'dev' }, ''));
    return html(signInPage(session ? 'This key was revoked; sign in with another.' : undefined));
  });

  for (const [name, script] of scripts) {
    app.get(
      `/console/${name}`,
      () =>
        new Response(script, {
          headers: { 'content-type': 'text/javascript; charset=utf-8', 'x-content-type-options': 'nosniff' },
        }),
    );
  }
  app.get(
    '/console/console.css',
    () =>
      new Response(consoleStyle, {
        headers: { 'content-type': 'text/css; charset=utf-8', 'x-content-type-options': 'nosniff' },
      }),
  );

  app.post('/console/sign-in', async (context) => {
    if (!sameOrigin(context.req.raw)) return html(signInPage('Sign in from the console page itself.'), 403);
    const form = await context.req.parseBody();
    const secret = typeof form.key === 'string' ? form.key.trim() : '';
    if (!secret) return html(signInPage('Enter an API key (it starts with hk_).'), 401);
    const key = keys.verify(secret);
    if (!key) {
      return html(
        signInPage('This API key is not valid or was revoked; check it, or create one with `hataraku keys create`.'),
        401,
      );
    }
    const session = await sessions.open(key);
    return new Response(null, {
      status: 303,
      headers: { location: '/', 'set-cookie': sessionCookie(session.token, session.maxAgeSeconds), ...securityHeaders },
    });
  });

  app.post('/console/sign-out', async (context) => {
    const form = await context.req.parseBody();
    if (typeof form.csrf === 'string' && sameOrigin(context.req.raw)) {
      await sessions.close(context.req.header('cookie'), form.csrf);
    }
    return new Response(null, {
      status: 303,
      headers: { location: '/', 'set-cookie': sessionCookie('', 0), ...securityHeaders },
    });
  });

  return app;
}
