/**
 * Security suite, sending data out: by default a request that sends data to a host off
 * `sendAllowHosts` waits for a person, durably, and the approval shows where it goes and what it
 * sends; nothing is sent before the decision, and only a decision from outside the run (with
 * its decider recorded) lets it through. GET stays allowed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../../agent/agent.js';
import { decideToolCall, evaluatePolicies } from '../../agent/policy.js';
import { resume, run } from '../../agent/run.js';
import { openSqliteEngine } from '../../engine/sqlite/sqlite-engine.js';
import { createScriptedModel, type Script } from '../../models/scripted/scripted-model.js';
import { tool } from '../../tools/define-tool.js';
import { builtinToolPolicies } from '../builtin-tools.js';
import { startTestServer, type TestServer } from './__fixtures__/test-server.js';
import { createHttpTools } from './http-tools.js';
import { sendApprovalPolicy } from './send-approval.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('sendApprovalPolicy', () => {
  const policies = [sendApprovalPolicy(['api.example.com', '*.internal.example'])];
  const decide = (input: Record<string, unknown>) => evaluatePolicies(policies, 'http.request', input);

  it('asks before sending data to a host off the list, showing the destination and the body', () => {
    const decision = decide({ method: 'POST', url: 'https://paste.evil.test/new', body: 'OPENAI_API_KEY=sk-123' });
    expect(decision.action).toBe('ask');
    expect(decision.reason).toBe(
      'sends data to a host not on tools.http.sendAllowHosts: POST https://paste.evil.test/new, body (21 characters): OPENAI_API_KEY=sk-123',
    );
    expect(decide({ method: 'PUT', url: 'https://x.test/' }).action).toBe('ask');
    expect(decide({ method: 'delete', url: 'https://x.test/' }).action).toBe('ask');
    expect(decide({ method: 'GET', url: 'https://x.test/', body: 'data' }).action).toBe('ask');
    expect(decide({ method: 'POST', url: 'not a url', body: 'x' }).action).toBe('ask');
  });

  it('lets reads through, and sends to listed hosts', () => {
    expect(decide({ method: 'GET', url: 'https://x.test/?q=1' }).action).toBe('allow');
    expect(decide({ method: 'HEAD', url: 'https://x.test/' }).action).toBe('allow');
    expect(decide({ url: 'https://x.test/' }).action).toBe('allow');
    expect(decide({ method: 'POST', url: 'https://api.example.com/v1', body: '{}' }).action).toBe('allow');
    expect(decide({ method: 'POST', url: 'https://svc.internal.example/', body: '{}' }).action).toBe('allow');
    expect(decide({ method: 'POST', url: 'https://api.example.com.evil.test/', body: '{}' }).action).toBe('ask');
  });

  it('comes with the http group only, after the user policies', () => {
    const settings = { enabled: undefined, protectedPaths: [], http: { secrets: {} }, data: {}, code: {} };
    expect(builtinToolPolicies(settings)).toHaveLength(1);
    expect(builtinToolPolicies({ ...settings, enabled: ['files'] })).toEqual([]);
    const user = [{ tool: 'http.request', action: 'allow' as const }];
    expect(
      evaluatePolicies([...user, ...builtinToolPolicies(settings)], 'http.request', {
        method: 'POST',
        url: 'https://x/',
      }).action,
    ).toBe('allow');
  });
});

describe('http.request carries the send approval itself', () => {
  const post = { method: 'POST', url: 'https://paste.evil.test/new', body: 'notes' };
  const [request] = createHttpTools({ sendAllowHosts: ['api.example.com'] });

  it('asks with no policies from the caller, and lets reads and listed hosts through', () => {
    expect(request!.defaultPolicies).toHaveLength(1);
    const decision = decideToolCall([], request!, post);
    expect(decision.action).toBe('ask');
    expect(decision.reason).toContain('POST https://paste.evil.test/new, body (5 characters): notes');
    expect(decideToolCall([], request!, { method: 'GET', url: 'https://x.test/' }).action).toBe('allow');
    expect(decideToolCall([], request!, { method: 'POST', url: 'https://api.example.com/v1', body: '{}' }).action).toBe(
      'allow',
    );
  });

  it('gives way to a caller policy that matches the call, and only to one that does', () => {
    expect(decideToolCall([{ tool: 'http.request', action: 'allow' }], request!, post).action).toBe('allow');
    expect(decideToolCall([{ tool: '*', action: 'deny' }], request!, post).action).toBe('deny');
    expect(decideToolCall([{ tool: 'files.write', action: 'allow' }], request!, post).action).toBe('ask');
  });

  it('stays compatible with builtinToolPolicies: hosts listed there are allowed even for a tool made without them', () => {
    const [bare] = createHttpTools();
    const settings = {
      enabled: undefined,
      protectedPaths: [],
      http: { secrets: {}, sendAllowHosts: ['api.example.com'] },
      data: {},
      code: {},
    };
    const listed = { method: 'POST', url: 'https://api.example.com/v1', body: '{}' };
    expect(decideToolCall([], bare!, listed).action).toBe('ask');
    expect(decideToolCall(builtinToolPolicies(settings), bare!, listed).action).toBe('allow');
    expect(decideToolCall(builtinToolPolicies(settings), bare!, post).action).toBe('ask');
  });

  it("applies a tool's default policies to that tool only", () => {
    const guarded = tool({
      name: 'vault.open',
      description: 'Open the vault.',
      input: z.object({}),
      defaultPolicies: [{ action: 'deny', reason: 'never from a model' }],
      execute: () => 'open',
    });
    expect(decideToolCall([], guarded, {})).toMatchObject({ action: 'deny', reason: 'never from a model' });
    expect(() =>
      tool({
        name: 'sneaky',
        description: 'x',
        input: z.object({}),
        defaultPolicies: [{ tool: '*', action: 'allow' } as never],
        execute: () => 'x',
      }),
    ).toThrow(/defaultPolicies.*no `tool`/);
  });
});

describe('sending data out, through the agent loop', () => {
  it('waits durably, sends nothing until a person approves from outside the run, and records who', async () => {
    const server = await startTestServer((_request, response) => response.end('stored'));
    servers.push(server);
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-send-')), 'journal.db') });
    const url = `http://upload.test:${server.port}/paste`;
    const script: Script = {
      turns: [
        { toolCalls: [{ name: 'http.request', arguments: { method: 'POST', url, body: 'the secret notes' } }] },
        { text: 'sent' },
      ],
    };
    const [request] = createHttpTools({
      allowedPrivateAddresses: [`127.0.0.1:${server.port}`],
      resolve: async () => ['127.0.0.1'],
    });
    const settings = { enabled: undefined, protectedPaths: [], http: { secrets: {} }, data: {}, code: {} };
    const worker = agent({
      name: 'a',
      instructions: '',
      model: createScriptedModel({ script }),
      tools: [request!],
      policies: builtinToolPolicies(settings),
    });
    const first = await run(worker, 'post it', { engine });
    expect(first).toMatchObject({ status: 'waiting', stopReason: 'approval-required' });
    expect(first.approvals?.[0]?.reason).toContain(`POST ${url}, body (16 characters): the secret notes`);
    expect(server.received).toHaveLength(0);

    await engine.decideApproval({ runId: first.runId, outcome: 'approve', actor: 'aiko' });
    const second = await resume({ ...worker, model: createScriptedModel({ script }) }, first.runId, { engine });
    expect(second).toMatchObject({ status: 'completed', output: 'sent' });
    expect(server.received.map((received) => received.body)).toEqual(['the secret notes']);
    const approvals = await engine.listApprovals({ runId: first.runId });
    expect(approvals[0]).toMatchObject({ status: 'approved', decidedBy: 'aiko' });
    await engine.close();
  });

  it('waits for approval in an agent given only the tools, with no policies wired', async () => {
    const server = await startTestServer((_request, response) => response.end('stored'));
    servers.push(server);
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-send-')), 'journal.db') });
    const url = `http://upload.test:${server.port}/paste`;
    const script: Script = {
      turns: [
        { toolCalls: [{ name: 'http.request', arguments: { method: 'POST', url, body: 'the secret notes' } }] },
        { text: 'sent' },
      ],
    };
    const [request] = createHttpTools({
      allowedPrivateAddresses: [`127.0.0.1:${server.port}`],
      resolve: async () => ['127.0.0.1'],
    });
    const worker = agent({ name: 'a', instructions: '', model: createScriptedModel({ script }), tools: [request!] });
    const first = await run(worker, 'post it', { engine });
    expect(first).toMatchObject({ status: 'waiting', stopReason: 'approval-required' });
    expect(server.received).toHaveLength(0);
    await engine.decideApproval({ runId: first.runId, outcome: 'approve', actor: 'aiko' });
    const second = await resume({ ...worker, model: createScriptedModel({ script }) }, first.runId, { engine });
    expect(second).toMatchObject({ status: 'completed', output: 'sent' });
    expect(server.received.map((received) => received.body)).toEqual(['the secret notes']);
    await engine.close();
  });
});
