/**
 * `POST /runs/:id/feedback` in process, on a real SQLite journal with the scripted model: the
 * label is stored in the journal with the key's name as the actor, a bad body is one clear 400,
 * an unknown run (or another tenant's) is 404, an open run is 409, and the route is in
 * `/openapi.json`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHataraku, type Hataraku } from '../hataraku.js';
import { createServer, type HatarakuServer } from './server.js';

const opened: Array<{ hataraku: Hataraku; server: HatarakuServer }> = [];

afterEach(async () => {
  for (const setup of opened.splice(0)) {
    await setup.server.close();
    await setup.hataraku.close();
  }
});

function setUp() {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-feedback-'));
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({ agents: { greeter: { model: 'scripted:hello.json' } } }),
  );
  writeFileSync(join(cwd, 'hello.json'), JSON.stringify({ version: 1, turns: [{ text: 'Hello there.' }] }));
  const hataraku = createHataraku({ cwd, env: {} });
  const server = createServer({ hataraku, recoverIntervalMs: 0, log: () => {} });
  opened.push({ hataraku, server });
  const key = server.keys.create({ name: 'support-desk', tenant: 'acme' }).secret;
  const call = (path: string, init: { body?: unknown; key?: string | null; method?: string } = {}) => {
    const headers: Record<string, string> = {};
    const secret = init.key === undefined ? key : init.key;
    if (secret) headers.authorization = `Bearer ${secret}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    return server.app.request(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(init.body !== undefined
        ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
        : {}),
    });
  };
  return { hataraku, server, call };
}

describe('POST /runs/:id/feedback', () => {
  it("records whether a run's result was right, with the key's name as the actor", async () => {
    const { hataraku, server, call } = setUp();
    const created = await call('/runs?wait=true', { body: { agent: 'greeter', input: 'Say hello' } });
    const run = (await created.json()) as { id: string; status: string };
    expect(run.status).toBe('completed');

    const response = await call(`/runs/${run.id}/feedback`, { body: { solved: false, note: 'should greet by name' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      runId: run.id,
      solved: false,
      note: 'should greet by name',
      actor: 'key:support-desk',
      at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(await hataraku.engine.getFeedback(run.id)).toMatchObject({
      solved: false,
      actor: 'key:support-desk',
      note: 'should greet by name',
    });
    expect((await call(`/runs/${run.id}/feedback`, { body: { solved: true } })).status).toBe(200);
    expect(await hataraku.engine.getFeedback(run.id)).toMatchObject({ solved: true, note: undefined });

    const missingField = await call(`/runs/${run.id}/feedback`, { body: { note: 'no verdict' } });
    expect(missingField.status).toBe(400);
    const missingBody = (await missingField.json()) as { error: { code: string; message: string } };
    expect(missingBody.error.code).toBe('invalid_request');
    expect(missingBody.error.message).toMatch(/solved/);
    expect(missingBody.error.message).not.toMatch(/\n/);
    const wrongType = await call(`/runs/${run.id}/feedback`, { body: { solved: 'yes' } });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { error: { message: string } }).error.message).toMatch(
      /true when the run solved its task/,
    );
    const extra = await call(`/runs/${run.id}/feedback`, { body: { solved: true, score: 5 } });
    expect(extra.status).toBe(400);
    const notJson = await call(`/runs/${run.id}/feedback`, { body: '{"solved": tru' });
    expect(notJson.status).toBe(400);

    const unknown = await call('/runs/run_nope/feedback', { body: { solved: true } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('run_not_found');
    const other = server.keys.create({ name: 'globex-bot', tenant: 'globex' }).secret;
    expect((await call(`/runs/${run.id}/feedback`, { body: { solved: true }, key: other })).status).toBe(404);
    expect(await hataraku.engine.getFeedback(run.id)).toMatchObject({ actor: 'key:support-desk' });
  });

  it('takes no actor from the body, no note past 4,000 characters, and no feedback from a key limited to other agents', async () => {
    const { hataraku, server, call } = setUp();
    const created = await call('/runs?wait=true', { body: { agent: 'greeter', input: 'Say hello' } });
    const run = (await created.json()) as { id: string };
    const spoofed = await call(`/runs/${run.id}/feedback`, { body: { solved: true, actor: 'cli:admin' } });
    expect(spoofed.status).toBe(400);
    const long = await call(`/runs/${run.id}/feedback`, { body: { solved: true, note: 'x'.repeat(4001) } });
    expect(long.status).toBe(400);
    // Same tenant, but a key that may run only another agent: it may not label this agent's runs.
    const limited = server.keys.create({ name: 'billing-bot', tenant: 'acme', agents: ['billing'] }).secret;
    const forbidden = await call(`/runs/${run.id}/feedback`, { body: { solved: false }, key: limited });
    expect(forbidden.status).toBe(403);
    expect(await hataraku.engine.getFeedback(run.id)).toBeUndefined();
  });

  it('refuses feedback on a run that has not ended yet', async () => {
    const { hataraku, call } = setUp();
    const queued = await hataraku.engine.createRun({
      id: 'run_open',
      agentName: 'greeter',
      model: 'scripted:hello.json',
      input: 'Say hello',
      spec: {},
      tenant: 'acme',
      queued: true,
    });
    const response = await call(`/runs/${queued.id}/feedback`, { body: { solved: true } });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      'run run_open is pending; feedback is on a result, so send it once the run has ended.',
    );
    expect(await hataraku.engine.getFeedback('run_open')).toBeUndefined();
  });

  it('is described in /openapi.json', async () => {
    const { call } = setUp();
    const document = (await (await call('/openapi.json', { key: null })).json()) as {
      paths: Record<string, { post?: unknown }>;
      components: { schemas: Record<string, unknown> };
    };
    expect(document.paths['/runs/{id}/feedback']?.post).toBeDefined();
    expect(document.components.schemas.RunFeedbackRequest).toMatchObject({ required: ['solved'] });
  });
});
