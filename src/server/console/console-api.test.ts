/**
 * What the console needs from the server, in process (`app.request`) on a real SQLite journal
 * with the scripted model: the session cookie (flags, CSRF token, cross-origin refusal, sign-out),
 * the security headers, and the Runs API additions it reads: waiting approvals across runs, run
 * filters and text search, artifacts (kept inside the run's workspace), spend per day by group,
 * and the cost summary (budgets, cost per completed run, costliest runs).
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHataraku, type Hataraku } from '../../hataraku.js';
import { createServer, type HatarakuServer } from '../server.js';
import { escapeHtml } from './console-routes.js';

interface Setup {
  hataraku: Hataraku;
  server: HatarakuServer;
  key: string;
  otherKey: string;
}
const opened: Setup[] = [];

function setUp(): Setup {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-console-api-'));
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({
      prices: { 'scripted:pay.json': { inputPerMillion: 1000, outputPerMillion: 2000 } },
      policies: [{ tool: 'files.write', action: 'ask', reason: 'payments need a sign-off' }],
      agents: { payer: { model: 'scripted:pay.json', tools: ['files.write'], instructions: 'Pay invoices.' } },
    }),
  );
  writeFileSync(
    join(cwd, 'pay.json'),
    JSON.stringify({
      version: 1,
      turns: [
        {
          toolCalls: [{ name: 'files.write', arguments: { path: 'payment.txt', content: 'paid 250 to ACME' } }],
          usage: { inputTokens: 100, outputTokens: 10 },
        },
        { text: 'Payment recorded.', usage: { inputTokens: 200, outputTokens: 20 } },
      ],
    }),
  );
  const hataraku = createHataraku({ cwd, env: {} });
  const server = createServer({ hataraku, recoverIntervalMs: 0, log: () => {} });
  const { secret } = server.keys.create({ name: 'ops-bot', tenant: 'acme', budgetDayUsd: 5 });
  const { secret: otherKey } = server.keys.create({ name: 'intruder', tenant: 'other' });
  const setup = { hataraku, server, key: secret, otherKey };
  opened.push(setup);
  return setup;
}

afterEach(async () => {
  for (const setup of opened.splice(0)) {
    await setup.server.close();
    await setup.hataraku.close();
  }
});

function call(setup: Setup, path: string, init: { method?: string; body?: unknown; key?: string } = {}) {
  return setup.server.app.request(path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${init.key ?? setup.key}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
}

async function waitingRun(setup: Setup, input = 'Pay invoice 17') {
  const response = await call(setup, '/runs?wait=true', { body: { agent: 'payer', input } });
  const run = (await response.json()) as { id: string; status: string };
  expect(run.status).toBe('waiting');
  return run.id;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition not reached');
}

describe('console sessions', () => {
  it('signs in with a key into an http-only, SameSite=Strict cookie, and needs the CSRF token to change anything', async () => {
    const setup = setUp();
    const { app } = setup.server;
    const signInPage = await app.request('/');
    expect(signInPage.status).toBe(200);
    expect(signInPage.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(signInPage.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await signInPage.text()).toContain('name="key"');

    const form = (key: string, origin = 'http://localhost') =>
      app.request('http://localhost/console/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin, host: 'localhost' },
        body: new URLSearchParams({ key }).toString(),
      });
    const wrong = await form('hk_0000000000000000_nope');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('This API key is not valid or was revoked');
    expect((await form(setup.key, 'https://evil.example')).status).toBe(403);

    const signedIn = await form(setup.key);
    expect(signedIn.status).toBe(303);
    const cookie = signedIn.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^hataraku_session=[\w-]+; Path=\/; HttpOnly; Secure; SameSite=Strict/);
    expect(cookie).not.toContain(setup.key);
    const session = cookie.split(';')[0] ?? '';

    const consolePage = await app.request('/', { headers: { cookie: session } });
    const html = await consolePage.text();
    expect(html).toContain('ops-bot');
    expect(html).not.toContain(setup.key);
    const csrf = /data-csrf="([\w-]+)"/.exec(html)?.[1] ?? '';
    expect(csrf.length).toBeGreaterThan(20);

    // The API accepts the cookie for reading; a change without the token is refused.
    expect((await app.request('/runs', { headers: { cookie: session } })).status).toBe(200);
    const runId = await waitingRun(setup);
    const forged = await app.request(`/runs/${runId}/cancel`, { method: 'POST', headers: { cookie: session } });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { message: string } }).error.message).toMatch(/CSRF token/);
    const cancelled = await app.request(`/runs/${runId}/cancel`, {
      method: 'POST',
      headers: { cookie: session, 'x-csrf-token': csrf },
    });
    expect(cancelled.status).toBe(200);

    // Script and style come from this origin.
    const script = await app.request('/console/console.js');
    expect(script.headers.get('content-type')).toContain('javascript');
    const scriptText = await script.text();
    expect(scriptText.length).toBeLessThan(100_000);
    expect(scriptText).not.toContain('sourceMappingURL');

    const signedOut = await app.request('/console/sign-out', {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(signedOut.status).toBe(303);
    expect((await app.request('/runs', { headers: { cookie: session } })).status).toBe(401);
  });

  it('ends a session when its key is revoked: the API refuses it and the page asks to sign in again', async () => {
    const setup = setUp();
    const { app } = setup.server;
    const signedIn = await app.request('http://localhost/console/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', host: 'localhost' },
      body: new URLSearchParams({ key: setup.key }).toString(),
    });
    const session = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect((await app.request('/runs', { headers: { cookie: session } })).status).toBe(200);
    expect(setup.server.keys.revoke('ops-bot')).toBe(true);

    const refused = await app.request('/runs', { headers: { cookie: session } });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/its API key was revoked/);
    // The session is gone: the page is the sign-in form (the revocation was seen once, above).
    const page = await (await app.request('/', { headers: { cookie: session } })).text();
    expect(page).toContain('name="key"');
    expect(page).not.toContain('data-csrf');
  });

  it('escapes HTML', () => {
    expect(escapeHtml(`<img src=x onerror="a('1')">&`)).toBe(
      '&lt;img src=x onerror=&quot;a(&#39;1&#39;)&quot;&gt;&amp;',
    );
  });

  it('serves every module the console script imports, from this origin, as JavaScript without source maps', async () => {
    const { app } = setUp().server;
    const seen = new Set<string>();
    const waiting = ['console.js'];
    for (let name = waiting.pop(); name !== undefined; name = waiting.pop()) {
      if (seen.has(name)) continue;
      seen.add(name);
      const response = await app.request(`/console/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get('content-type'), name).toContain('javascript');
      expect(response.headers.get('x-content-type-options'), name).toBe('nosniff');
      const script = await response.text();
      expect(script, name).not.toContain('sourceMappingURL');
      // Only relative imports of this folder: nothing from another origin or path.
      for (const [, imported] of script.matchAll(/^import\b[^'"]*['"]([^'"]+)['"]/gm)) {
        expect(imported, `${name} imports ${imported}`).toMatch(/^\.\/[a-z][a-z-]*\.js$/);
        waiting.push((imported ?? '').slice(2));
      }
    }
    expect(seen.size).toBeGreaterThan(1);
    expect((await app.request('/console/console-app.js')).status).toBe(404);
  });
});

describe('Runs API additions for the console', () => {
  it('lists waiting approvals across runs, only for the key’s tenant, and the decided ones with who decided', async () => {
    const setup = setUp();
    const first = await waitingRun(setup, 'Pay invoice 17');
    const second = await waitingRun(setup, 'Pay invoice 18');
    const listed = (await (await call(setup, '/approvals')).json()) as {
      approvals: Array<{
        runId: string;
        agent: string;
        toolName: string;
        input: unknown;
        reason: string;
        status: string;
      }>;
    };
    expect(listed.approvals.map((approval) => approval.runId).sort()).toEqual([first, second].sort());
    expect(listed.approvals[0]).toMatchObject({
      agent: 'payer',
      toolName: 'files.write',
      reason: 'payments need a sign-off',
      status: 'pending',
      input: { path: 'payment.txt', content: 'paid 250 to ACME' },
    });
    expect(
      ((await (await call(setup, '/approvals', { key: setup.otherKey })).json()) as { approvals: [] }).approvals,
    ).toEqual([]);

    await call(setup, `/runs/${first}/approve`, { body: { note: 'checked' } });
    const again = (await (await call(setup, `/runs/${first}/approve`, { body: {} })).json()) as { result: string };
    expect(again.result).toBe('ignored');
    const pending = (await (await call(setup, '/approvals')).json()) as { approvals: Array<{ runId: string }> };
    expect(pending.approvals.map((approval) => approval.runId)).toEqual([second]);
    const decided = (await (await call(setup, '/approvals?status=approved')).json()) as {
      approvals: Array<{ runId: string; decidedBy: string; note: string }>;
    };
    expect(decided.approvals).toMatchObject([{ runId: first, decidedBy: 'key:ops-bot', note: 'checked' }]);
  });

  it('filters runs by text, time and tenant', async () => {
    const setup = setUp();
    const run = await waitingRun(setup, 'Pay invoice 17 to ACME');
    const ids = async (query: string, key?: string) =>
      (
        (await (await call(setup, `/runs${query}`, key ? { key } : {})).json()) as { runs: Array<{ id: string }> }
      ).runs.map((item) => item.id);
    expect(await ids('?q=INVOICE%2017')).toEqual([run]);
    expect(await ids('?q=invoice%2099')).toEqual([]);
    expect(await ids(`?q=${run}`)).toEqual([run]);
    expect(await ids('?since=2000-01-01&until=2999-01-01')).toEqual([run]);
    expect(await ids('?since=2999-01-01')).toEqual([]);
    expect(await ids('?tenant=acme')).toEqual([run]);
    expect(await ids('?tenant=other')).toEqual([]);
    expect(await ids('?tenant=acme', setup.otherKey)).toEqual([]);
    const bad = await call(setup, '/runs?since=yesterday');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/since/);
  });

  it('serves a run’s artifacts from its workspace only: images inline, other files as sandboxed downloads', async () => {
    const setup = setUp();
    const runId = await waitingRun(setup);
    const record = await setup.hataraku.engine.getRun(runId);
    const workspace = record?.workspace ?? '';
    expect(workspace).not.toBe('');
    mkdirSync(join(workspace, 'out'), { recursive: true });
    writeFileSync(join(workspace, 'out', 'chart.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    writeFileSync(join(workspace, 'report.html'), '<script>alert(1)</script>');
    const outside = mkdtempSync(join(tmpdir(), 'hataraku-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'do not serve');
    symlinkSync(join(outside, 'secret.txt'), join(workspace, 'link.txt'));
    const artifact = (path: string, mediaType: string) =>
      setup.hataraku.engine.recordArtifact({
        runId,
        stepIndex: 1,
        path,
        mediaType,
        description: path,
        createdAt: Date.now(),
      });
    await artifact('out/chart.png', 'image/png');
    await artifact('report.html', 'text/html');
    await artifact('link.txt', 'text/plain');
    await artifact('../../etc/passwd', 'text/plain');

    const listed = (await (await call(setup, `/runs/${runId}/artifacts`)).json()) as {
      artifacts: Array<{ path: string; size: number | null }>;
    };
    expect(Object.fromEntries(listed.artifacts.map((item) => [item.path, item.size]))).toEqual({
      'out/chart.png': 4,
      'report.html': 25,
      'link.txt': null,
      '../../etc/passwd': null,
    });
    const image = await call(setup, `/runs/${runId}/artifacts/file?path=out%2Fchart.png`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.headers.get('content-security-policy')).toContain('sandbox');
    const html = await call(setup, `/runs/${runId}/artifacts/file?path=report.html`);
    expect(html.headers.get('content-type')).toBe('application/octet-stream');
    expect(html.headers.get('content-disposition')).toBe('attachment; filename="report.html"');
    for (const path of ['link.txt', '../../etc/passwd', 'never-recorded.txt']) {
      const refused = await call(setup, `/runs/${runId}/artifacts/file?path=${encodeURIComponent(path)}`);
      expect(refused.status).toBe(404);
      expect(await refused.text()).not.toContain('do not serve');
    }
    expect((await call(setup, `/runs/${runId}/artifacts`, { key: setup.otherKey })).status).toBe(404);
  });

  it('reports spend per day by group, budgets, cost per completed run and the costliest runs', async () => {
    const setup = setUp();
    const runId = await waitingRun(setup);
    await call(setup, `/runs/${runId}/approve`, { body: {} });
    await until(
      async () => ((await (await call(setup, `/runs/${runId}`)).json()) as { status: string }).status,
      (status) => status === 'completed',
    );
    const series = (await (await call(setup, '/costs/series?by=agent&days=3')).json()) as {
      by: string;
      days: string[];
      series: Array<{ key: string; costUsd: number[]; totalUsd: number }>;
    };
    expect(series.by).toBe('agent');
    expect(series.days).toHaveLength(3);
    expect(series.days[2]).toBe(new Date().toISOString().slice(0, 10));
    expect(series.series).toHaveLength(1);
    expect(series.series[0]?.key).toBe('payer');
    expect(series.series[0]?.costUsd[0]).toBe(0);
    expect(series.series[0]?.costUsd[2]).toBeCloseTo(0.36, 10);
    const summary = (await (await call(setup, '/costs/summary')).json()) as {
      budgets: Array<{ period: string; limitUsd: number; spentUsd: number }>;
      completedRuns: number;
      costPerCompletedRunUsd: number;
      topRuns: Array<{ runId: string; costUsd: number; agent: string }>;
    };
    expect(summary.budgets).toMatchObject([{ period: 'day', limitUsd: 5 }]);
    expect(summary.budgets[0]?.spentUsd).toBeCloseTo(0.36, 10);
    expect(summary.completedRuns).toBe(1);
    expect(summary.costPerCompletedRunUsd).toBeCloseTo(0.36, 10);
    expect(summary.topRuns).toMatchObject([{ runId, agent: 'payer' }]);
    const other = (await (await call(setup, '/costs/summary', { key: setup.otherKey })).json()) as {
      topRuns: unknown[];
      costPerCompletedRunUsd: number | null;
    };
    expect(other).toMatchObject({ topRuns: [], costPerCompletedRunUsd: null });
    expect((await call(setup, '/costs/series?by=day')).status).toBe(400);

    const document = (await (await setup.server.app.request('/openapi.json')).json()) as {
      paths: Record<string, unknown>;
    };
    for (const path of [
      '/approvals',
      '/costs/series',
      '/costs/summary',
      '/runs/{id}/artifacts',
      '/runs/{id}/artifacts/file',
    ]) {
      expect(document.paths[path], path).toBeDefined();
    }
  });
});
