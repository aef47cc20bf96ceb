/**
 * Red-team cases against a real server on port 0 (node:http, so the Host, Origin and
 * Sec-Fetch-Site headers are sent as a browser or a rebinding page would send them): development
 * mode reached from another site or another host name, a key of one tenant on every route of
 * another tenant's run, and a key limited to some agents deciding or resuming another agent's run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createHataraku, type Hataraku } from '../hataraku.js';
import { mountMcp } from './mcp/mcp-http.js';
import { createServer, type HatarakuServer, isLoopback, startServer } from './server.js';

interface Setup {
  hataraku: Hataraku;
  server: HatarakuServer;
  listening: { url: string; close(): Promise<void> };
  key: string;
}

const opened: Setup[] = [];

async function setUp(options: { development?: boolean; mcpTools?: boolean } = {}): Promise<Setup> {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-boundaries-'));
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({
      policies: [{ tool: 'files.write', action: 'ask', reason: 'payments need a sign-off' }],
      agents: {
        payer: { model: 'scripted:pay.json', tools: ['files.write'], instructions: 'Pay invoices.' },
        greeter: { model: 'scripted:hello.json' },
      },
    }),
  );
  writeFileSync(
    join(cwd, 'pay.json'),
    JSON.stringify({
      version: 1,
      turns: [
        { text: 'Paying.', toolCalls: [{ name: 'files.write', arguments: { path: 'paid.txt', content: 'paid' } }] },
        { text: 'Paid.' },
      ],
    }),
  );
  writeFileSync(join(cwd, 'hello.json'), JSON.stringify({ version: 1, turns: [{ text: 'Hello there.' }] }));
  const hataraku = createHataraku({ cwd, env: {} });
  const server = createServer({
    hataraku,
    recoverIntervalMs: 0,
    log: () => {},
    ...(options.development ? { development: true } : {}),
  });
  if (options.mcpTools) mountMcp(server, { version: '0.0.0', builtinToolsWorkspace: cwd });
  const listening = await startServer(server, { host: '127.0.0.1', port: 0 });
  const { secret } = server.keys.create({ name: 'acme-bot', tenant: 'acme' });
  const setup = { hataraku, server, listening, key: secret };
  opened.push(setup);
  return setup;
}

afterEach(async () => {
  for (const setup of opened.splice(0)) {
    await setup.listening.close();
    await setup.server.close();
    await setup.hataraku.close();
  }
});

/** One request over a real socket, with exactly the headers given (Host included). */
function send(
  setup: Setup,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  const url = new URL(path, setup.listening.url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      { method: init.method ?? 'GET', headers: { ...init.headers, connection: 'close' } },
      (incoming) => {
        let text = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk: string) => {
          text += chunk;
        });
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, text }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(init.body);
  });
}

async function waitingPayerRun(setup: Setup): Promise<string> {
  const created = await send(setup, '/runs', {
    method: 'POST',
    headers: { authorization: `Bearer ${setup.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent: 'payer', input: 'Pay ACME 250' }),
  });
  expect(created.status).toBe(202);
  const { id } = JSON.parse(created.text) as { id: string };
  await expect
    .poll(async () => {
      const run = await send(setup, `/runs/${id}`, { headers: { authorization: `Bearer ${setup.key}` } });
      return (JSON.parse(run.text) as { status: string }).status;
    })
    .toBe('waiting');
  return id;
}

describe('development mode', () => {
  it('refuses a cross-site form post (CSRF) to approve a run, and a rebinding Host, but serves this origin', async () => {
    const setup = await setUp({ development: true });
    const id = await waitingPayerRun(setup);
    // <form method="post" action="http://127.0.0.1:PORT/runs/ID/cancel"> on any page the developer opens.
    const cancelForm = await send(setup, `/runs/${id}/cancel`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
      },
      body: '',
    });
    expect(cancelForm.status).toBe(403);
    const formPost = await send(setup, `/runs/${id}/approve`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
      },
      body: 'note=ok',
    });
    expect(formPost.status).toBe(403);
    const noOriginCrossSite = await send(setup, `/runs/${id}/cancel`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(noOriginCrossSite.status).toBe(403);
    // A page of evil.example whose name now resolves to 127.0.0.1 (DNS rebinding): same origin for
    // the browser, but its Host is not a loopback name.
    const port = new URL(setup.listening.url).port;
    const rebound = await send(setup, '/runs', { headers: { host: `evil.example:${port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.text).not.toMatch(/"runs"/);
    const lookalike = await send(setup, '/runs', { headers: { host: `127.0.0.1.evil.example:${port}` } });
    expect(lookalike.status).toBe(403);
    const run = await send(setup, `/runs/${id}`);
    expect(JSON.parse(run.text)).toMatchObject({ status: 'waiting' });
    // From the console's own origin, and from a tool such as curl (no Origin), it works.
    const ownOrigin = await send(setup, '/runs', {
      headers: { origin: setup.listening.url, 'sec-fetch-site': 'same-origin' },
    });
    expect(ownOrigin.status).toBe(200);
    expect((await send(setup, `/runs/${id}`, { headers: { host: `localhost:${port}` } })).status).toBe(200);
    // A real key is still accepted from anywhere.
    const keyed = await send(setup, '/runs', {
      headers: { authorization: `Bearer ${setup.key}`, host: `evil.example:${port}` },
    });
    expect(keyed.status).toBe(200);
  });

  it('binds only to loopback addresses, not to names that merely start like one', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.1.2.3')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('127.evil.example')).toBe(false);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('::')).toBe(false);
  });
});

describe('keys and tenants', () => {
  it('gives a key of another tenant 404 on every route of a run, SSE and artifacts included', async () => {
    const setup = await setUp();
    const id = await waitingPayerRun(setup);
    const other = setup.server.keys.create({ name: 'globex-bot', tenant: 'globex' }).secret;
    const headers = { authorization: `Bearer ${other}`, 'content-type': 'application/json' };
    const attempts: Array<[string, string, string | undefined]> = [
      ['GET', `/runs/${id}`, undefined],
      ['GET', `/runs/${id}/steps`, undefined],
      ['GET', `/runs/${id}/events`, undefined],
      ['GET', `/runs/${id}/artifacts`, undefined],
      ['GET', `/runs/${id}/artifacts/file?path=paid.txt`, undefined],
      ['GET', `/costs?runId=${id}`, undefined],
      ['POST', `/runs/${id}/resume`, undefined],
      ['POST', `/runs/${id}/cancel`, undefined],
      ['POST', `/runs/${id}/approve`, '{}'],
      ['POST', `/runs/${id}/deny`, '{"reason":"no"}'],
    ];
    for (const [method, path, body] of attempts) {
      const response = await send(setup, path, { method, headers, ...(body ? { body } : {}) });
      expect([method, path, response.status]).toEqual([method, path, 404]);
      expect(response.text).not.toContain('Pay ACME');
    }
    const approvals = await send(setup, '/approvals', { headers });
    expect(JSON.parse(approvals.text)).toEqual({ approvals: [] });
    const run = await send(setup, `/runs/${id}`, { headers: { authorization: `Bearer ${setup.key}` } });
    expect(JSON.parse(run.text)).toMatchObject({ status: 'waiting' });
  });

  it('keeps a key limited to some agents from approving, denying or resuming a run of another agent', async () => {
    const setup = await setUp();
    const id = await waitingPayerRun(setup);
    const limited = setup.server.keys.create({ name: 'greeter-only', tenant: 'acme', agents: ['greeter'] }).secret;
    const headers = { authorization: `Bearer ${limited}`, 'content-type': 'application/json' };
    for (const [path, body] of [
      [`/runs/${id}/approve`, '{}'],
      [`/runs/${id}/deny`, '{"reason":"no"}'],
      [`/runs/${id}/resume`, undefined],
    ] as const) {
      const response = await send(setup, path, { method: 'POST', headers, ...(body ? { body } : {}) });
      expect([path, response.status]).toEqual([path, 403]);
      expect(response.text).toMatch(/may not run the agent \\"payer\\"/);
    }
    const run = await send(setup, `/runs/${id}`, { headers: { authorization: `Bearer ${setup.key}` } });
    expect(JSON.parse(run.text)).toMatchObject({ status: 'waiting' });
  });
});

describe('names from a request', () => {
  it("never find an agent or a route on Object's prototype", async () => {
    const setup = await setUp();
    const headers = { authorization: `Bearer ${setup.key}`, 'content-type': 'application/json' };
    for (const agent of ['toString', '__proto__', 'constructor']) {
      const response = await send(setup, '/runs', {
        method: 'POST',
        headers,
        body: JSON.stringify({ agent, input: 'x' }),
      });
      expect([agent, response.status]).toEqual([agent, 400]);
      expect(JSON.parse(response.text)).toMatchObject({ error: { code: 'usage' } });
    }
    for (const model of ['route:__proto__', 'route:constructor', 'agent:hasOwnProperty']) {
      const response = await send(setup, '/v1/chat/completions', {
        method: 'POST',
        headers,
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
      });
      expect([model, response.status]).toEqual([model, model.startsWith('route:') ? 404 : 400]);
      expect(response.text).toMatch(/no (route|agent) named/);
    }
  });
});

describe('the gateway', () => {
  it('never reads a file the configuration does not name through a scripted: or local: model name', async () => {
    const setup = await setUp();
    const secretFile = join(mkdtempSync(join(tmpdir(), 'hataraku-secret-')), 'secret.txt');
    writeFileSync(secretFile, 'root:x:0:0 not json');
    const headers = { authorization: `Bearer ${setup.key}`, 'content-type': 'application/json' };
    const chat = (model: string) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });
    for (const model of [
      `scripted:${secretFile}`,
      'scripted:../../../../etc/hostname',
      `local:${secretFile}`,
      'local:../x.gguf',
    ]) {
      for (const path of ['/v1/chat/completions', '/v1/responses']) {
        const body = path === '/v1/responses' ? JSON.stringify({ model, input: 'hi' }) : chat(model);
        const response = await send(setup, path, { method: 'POST', headers, body });
        expect([model, path, response.status]).toEqual([model, path, 403]);
        expect(response.text).not.toContain('root:x');
      }
    }
    // A scripted model the configuration names (here an agent's) is served.
    const configured = await send(setup, '/v1/chat/completions', {
      method: 'POST',
      headers,
      body: chat('scripted:hello.json'),
    });
    expect(configured.status).toBe(200);
    expect(configured.text).toContain('Hello there.');
  });

  it('refuses a body nested too deep with one line, not a stack overflow', async () => {
    const setup = await setUp();
    const headers = { authorization: `Bearer ${setup.key}`, 'content-type': 'application/json' };
    // A body nested 100 000 deep (tool parameters) is refused in one line, not a stack overflow.
    const nested = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const deep = await send(setup, '/v1/chat/completions', {
      method: 'POST',
      headers,
      body: `{"model":"scripted:hello.json","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${nested}}}]}`,
    });
    expect(deep.status).toBe(400);
    expect(JSON.parse(deep.text)).toMatchObject({
      error: { code: 'invalid_request', message: /nested deeper than 64/ },
    });
  });
});

describe('MCP over HTTP', () => {
  it('gives the built-in tools (served with --tools) only to a key that may run every agent', async () => {
    const setup = await setUp({ mcpTools: true });
    const toolsOf = async (key: string) => {
      const client = new Client({ name: 'red-team', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${setup.listening.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${key}` } },
        }),
      );
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      const read = await client.callTool({ name: 'files.read', arguments: { path: 'hello.json' } });
      await client.close();
      return { names, read };
    };
    const limited = setup.server.keys.create({ name: 'greeter-only', tenant: 'acme', agents: ['greeter'] }).secret;
    const restricted = await toolsOf(limited);
    expect(restricted.names).toEqual(['agent_greeter']);
    expect(restricted.read.isError).toBe(true);
    expect(JSON.stringify(restricted.read.content)).not.toContain('Hello there');
    const unrestricted = await toolsOf(setup.key);
    expect(unrestricted.names).toContain('files.read');
    expect(JSON.stringify(unrestricted.read.content)).toContain('Hello there');
  });
});
