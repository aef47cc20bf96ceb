/**
 * The Runs API in process (`app.request`), on a real SQLite journal with the scripted model:
 * keys, tenants, validation errors, a run that waits for an approval, the SSE stream resumed
 * with Last-Event-ID, approval over HTTP recorded in the audit with the key's name, and costs.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHataraku, type Hataraku } from '../hataraku.js';
import { createServer, type HatarakuServer } from './server.js';

interface Setup {
  cwd: string;
  hataraku: Hataraku;
  server: HatarakuServer;
  key: string;
}

const opened: Setup[] = [];

function setUp(options: { development?: boolean; maxBodyBytes?: number; maxConcurrentRequests?: number } = {}): Setup {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-serve-'));
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({
      prices: { 'scripted:pay.json': { inputPerMillion: 1000, outputPerMillion: 2000 } },
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
        {
          text: 'Paying now.',
          toolCalls: [{ name: 'files.write', arguments: { path: 'payment.txt', content: 'paid 250 to ACME' } }],
          usage: { inputTokens: 100, outputTokens: 10 },
        },
        { text: 'Payment recorded in payment.txt.', usage: { inputTokens: 200, outputTokens: 20 } },
      ],
    }),
  );
  writeFileSync(join(cwd, 'hello.json'), JSON.stringify({ version: 1, turns: [{ text: 'Hello there.' }] }));
  const hataraku = createHataraku({ cwd, env: {} });
  const server = createServer({
    hataraku,
    recoverIntervalMs: 0,
    log: () => {},
    ...(options.development !== undefined ? { development: options.development } : {}),
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.maxConcurrentRequests !== undefined ? { maxConcurrentRequests: options.maxConcurrentRequests } : {}),
  });
  const { secret } = server.keys.create({ name: 'ops-bot', tenant: 'acme' });
  const setup = { cwd, hataraku, server, key: secret };
  opened.push(setup);
  return setup;
}

afterEach(async () => {
  for (const setup of opened.splice(0)) {
    await setup.server.close();
    await setup.hataraku.close();
  }
});

function call(
  setup: Setup,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; key?: string | null } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  const key = init.key === undefined ? setup.key : init.key;
  if (key) headers.authorization = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return setup.server.app.request(path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
  });
}

function parseSse(text: string): Array<{ id: string; event: string; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const field = (name: string) =>
        block
          .split('\n')
          .find((line) => line.startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim() ?? '';
      return { id: field('id'), event: field('event'), data: JSON.parse(field('data')) };
    });
}

describe('the Runs API', () => {
  it('refuses requests without a valid key, with a JSON error saying how to get one', async () => {
    const setup = setUp();
    const missing = await call(setup, '/runs', { key: null });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      error: {
        code: 'unauthorized',
        message: expect.stringMatching(/hataraku keys create/),
        type: 'authentication_error',
      },
    });
    const wrong = await call(setup, '/runs', {
      key: 'hk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    });
    expect(wrong.status).toBe(401);
    setup.server.keys.revoke('ops-bot');
    expect((await call(setup, '/runs')).status).toBe(401);
  });

  it('serves requests without a key only in development mode', async () => {
    const setup = setUp({ development: true });
    const response = await call(setup, '/runs', { key: null });
    expect(response.status).toBe(200);
  });

  it('answers bad input with a stable code and a message naming the field', async () => {
    const setup = setUp();
    const noInput = await call(setup, '/runs', { body: { agent: 'greeter' } });
    expect(noInput.status).toBe(400);
    const body = (await noInput.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toMatch(/input/);
    expect(body.error.message).not.toMatch(/at .*\.js/);
    const badJson = await call(setup, '/runs', { body: '{"agent": ' });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    const notJson = await setup.server.app.request('/runs', {
      method: 'POST',
      headers: { authorization: `Bearer ${setup.key}`, 'content-type': 'text/plain' },
      body: '{"input":"x"}',
    });
    expect(notJson.status).toBe(415);
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toMatch(
      /content-type: application\/json/,
    );
    const unknownAgent = await call(setup, '/runs', { body: { agent: 'nobody', input: 'x' } });
    expect(unknownAgent.status).toBe(400);
    expect(((await unknownAgent.json()) as { error: { message: string } }).error.message).toMatch(
      /no agent named "nobody"; the agents are: payer, greeter, hataraku/,
    );
    const notFound = await call(setup, '/runs/run_missing');
    expect(notFound.status).toBe(404);
    expect(((await notFound.json()) as { error: { code: string } }).error.code).toBe('run_not_found');
  });

  it('limits the body size', async () => {
    const setup = setUp({ maxBodyBytes: 200 });
    const response = await call(setup, '/runs', { body: { agent: 'greeter', input: 'x'.repeat(500) } });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('body_too_large');
    // Without a Content-Length (chunked), the body is counted as it is read.
    const chunked = await setup.server.app.request('/runs', {
      method: 'POST',
      headers: { authorization: `Bearer ${setup.key}`, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(JSON.stringify({ input: 'x'.repeat(500) })));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('limits the requests handled at once', async () => {
    const setup = setUp({ maxConcurrentRequests: 1 });
    const waiting = (await (
      await call(setup, '/runs?wait=true', { body: { agent: 'payer', input: 'Pay' } })
    ).json()) as {
      id: string;
    };
    // The event stream of a waiting run stays open, holding the one slot.
    const controller = new AbortController();
    const stream = await setup.server.app.request(`/runs/${waiting.id}/events`, {
      headers: { authorization: `Bearer ${setup.key}` },
      signal: controller.signal,
    });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const refused = await call(setup, '/runs');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('server_busy');
    controller.abort();
    await reader.cancel();
    await expect.poll(async () => (await call(setup, '/runs')).status).toBe(200);
  });

  it('runs an agent with ?wait=true and shows it only to its own tenant', async () => {
    const setup = setUp();
    const response = await call(setup, '/runs?wait=true', { body: { agent: 'greeter', input: 'Say hello' } });
    expect(response.status).toBe(200);
    const run = (await response.json()) as { id: string; status: string; output: string; tenant: string };
    expect(run).toMatchObject({ status: 'completed', output: 'Hello there.', tenant: 'acme' });
    const other = setup.server.keys.create({ name: 'globex-bot', tenant: 'globex' }).secret;
    expect((await call(setup, `/runs/${run.id}`, { key: other })).status).toBe(404);
    const listed = (await (await call(setup, '/runs', { key: other })).json()) as { runs: unknown[] };
    expect(listed.runs).toEqual([]);
    const mine = (await (await call(setup, '/runs')).json()) as { runs: Array<{ id: string }> };
    expect(mine.runs.map((entry) => entry.id)).toEqual([run.id]);
  });

  it('keeps a key to its agents', async () => {
    const setup = setUp();
    const limited = setup.server.keys.create({ name: 'greeter-only', tenant: 'acme', agents: ['greeter'] }).secret;
    const refused = await call(setup, '/runs', { key: limited, body: { agent: 'payer', input: 'pay' } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      /may not run the agent "payer"/,
    );
  });

  it('streams events, resumes the stream with Last-Event-ID, and continues after an approval over HTTP', async () => {
    const setup = setUp();
    const created = await call(setup, '/runs', { body: { agent: 'payer', input: 'Pay ACME 250' } });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };

    // The run pauses for the approval; the stream stays open, so read it with a time limit.
    await expect
      .poll(async () => ((await (await call(setup, `/runs/${id}`)).json()) as { status: string }).status)
      .toBe('waiting');
    const controller = new AbortController();
    const firstStream = await setup.server.app.request(`/runs/${id}/events`, {
      headers: { authorization: `Bearer ${setup.key}` },
      signal: controller.signal,
    });
    expect(firstStream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = (firstStream.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: run-end')) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    await reader.cancel();
    const firstEvents = parseSse(text);
    expect(firstEvents[0]).toMatchObject({ id: '1', event: 'run-start' });
    expect(firstEvents.map((event) => event.event)).toContain('approval-requested');
    expect(firstEvents.map((event) => Number(event.id))).toEqual(firstEvents.map((_, index) => index + 1));
    const lastSeen = firstEvents.at(-1)?.id as string;

    const waiting = (await (await call(setup, `/runs/${id}`)).json()) as {
      pendingApprovals: Array<{ toolName: string; stepIndex: number }>;
    };
    expect(waiting.pendingApprovals).toEqual([expect.objectContaining({ toolName: 'files.write', stepIndex: 1 })]);

    const approved = await call(setup, `/runs/${id}/approve`, { body: { note: 'invoice 42 checked' } });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toEqual({
      result: 'applied',
      stepIndex: 1,
      status: 'approved',
      decidedBy: 'key:ops-bot',
    });

    // Reconnecting with Last-Event-ID gives only the later events, to the end of the run.
    const resumedStream = await call(setup, `/runs/${id}/events`, { headers: { 'last-event-id': lastSeen } });
    const laterEvents = parseSse(await resumedStream.text());
    expect(Number(laterEvents[0]?.id)).toBe(Number(lastSeen) + 1);
    expect(laterEvents.at(-1)).toMatchObject({ event: 'run-end', data: { status: 'completed' } });

    const finished = (await (await call(setup, `/runs/${id}`)).json()) as { status: string; output: string };
    expect(finished).toMatchObject({ status: 'completed', output: 'Payment recorded in payment.txt.' });
    const audit = await setup.hataraku.engine.listAudit({ runId: id });
    expect(audit.map((entry) => [entry.action, entry.actor])).toEqual([
      ['approval-requested', 'policy'],
      ['approved', 'key:ops-bot'],
    ]);
    const run = await setup.hataraku.engine.getRun(id);
    // A run over HTTP works in a directory of its own, not in the server's.
    expect(run?.workspace).not.toBe(setup.cwd);
    expect(readFileSync(join(run?.workspace as string, 'payment.txt'), 'utf8')).toBe('paid 250 to ACME');

    const steps = (await (await call(setup, `/runs/${id}/steps`)).json()) as { steps: Array<{ name: string }> };
    expect(steps.steps.map((step) => step.name)).toEqual(['model', 'tool:files.write', 'model']);
    const costs = (await (await call(setup, `/costs?by=run`)).json()) as {
      rows: Array<{ key: string; costUsd: number }>;
    };
    // 300 input tokens at $1000/M and 30 output tokens at $2000/M.
    expect(costs.rows).toEqual([expect.objectContaining({ key: id, costUsd: expect.closeTo(0.36, 9) })]);
  });

  it('refuses to approve once the tenant budget is spent, leaving the approval pending and the call not run', async () => {
    const setup = setUp();
    const first = (await (await call(setup, '/runs?wait=true', { body: { agent: 'payer', input: 'Pay' } })).json()) as {
      id: string;
      status: string;
    };
    expect(first.status).toBe('waiting');
    // The first model call cost $0.12; a key of the same tenant with a $0.10 daily budget finds it spent.
    const tight = setup.server.keys.create({ name: 'tight', tenant: 'acme', budgetDayUsd: 0.1 }).secret;
    const refused = await call(setup, `/runs/${first.id}/approve`, { key: tight, body: {} });
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'budget_exceeded',
      message: expect.stringMatching(/daily budget of \$0\.1 for tenant "acme" is spent/),
    });
    const approvals = await setup.hataraku.engine.listApprovals({ runId: first.id });
    expect(approvals.map((approval) => approval.status)).toEqual(['pending']);
    const run = await setup.hataraku.engine.getRun(first.id);
    expect(run?.status).toBe('waiting');
    expect(existsSync(join(run?.workspace as string, 'payment.txt'))).toBe(false);
  });

  it('denies over HTTP with a reason, and cancels a waiting run', async () => {
    const setup = setUp();
    const first = (await (await call(setup, '/runs?wait=true', { body: { agent: 'payer', input: 'Pay' } })).json()) as {
      id: string;
      status: string;
    };
    expect(first.status).toBe('waiting');
    const noReason = await call(setup, `/runs/${first.id}/deny`, { body: {} });
    expect(noReason.status).toBe(400);
    expect(((await noReason.json()) as { error: { message: string } }).error.message).toMatch(/reason/);
    const cancelled = await call(setup, `/runs/${first.id}/cancel`, { method: 'POST' });
    expect(await cancelled.json()).toMatchObject({ status: 'stopped', stopReason: 'cancelled' });
    const again = await call(setup, `/runs/${first.id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
  });

  it('serves an OpenAPI document generated from the request schemas', async () => {
    const setup = setUp();
    const response = await call(setup, '/openapi.json', { key: null });
    const document = (await response.json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/runs', '/runs/{id}', '/runs/{id}/events', '/runs/{id}/approve', '/costs']),
    );
    expect(document.components.schemas.NewRun).toMatchObject({ required: ['input'] });
  });
});
