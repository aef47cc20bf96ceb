/**
 * Hataraku as an MCP server, tested with the MCP SDK's own client: over Streamable HTTP (a real
 * server on port 0, behind an API key) and over stdio (the built CLI as a subprocess). Agents
 * are tools; progress is notified per step; cancelling the request cancels the run; built-in
 * tools obey the policies.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createHataraku } from '../../hataraku.js';
import { createServer, startServer } from '../server.js';
import { mountMcp } from './mcp-http.js';

const binary = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function workspace(): string {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-mcp-'));
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({
      policies: [{ tool: 'files.write', action: 'ask', reason: 'writes need a sign-off' }],
      agents: {
        greeter: { model: 'scripted:hello.json', description: 'Greets people.' },
        slow: { model: 'scripted:slow.json' },
      },
    }),
  );
  writeFileSync(
    join(cwd, 'hello.json'),
    JSON.stringify({
      version: 1,
      turns: [
        { toolCalls: [{ name: 'files.list', arguments: { path: '.' } }] },
        { text: 'Hello from the greeter agent.' },
      ],
    }),
  );
  writeFileSync(join(cwd, 'slow.json'), JSON.stringify({ version: 1, turns: [{ text: 'late', delayMs: 30_000 }] }));
  writeFileSync(join(cwd, 'notes.txt'), 'remember the milk');
  return cwd;
}

async function httpClient(cwd: string) {
  const hataraku = createHataraku({ cwd, env: {} });
  const server = createServer({ hataraku, recoverIntervalMs: 0, log: () => {} });
  mountMcp(server, { version: '0.0.0-test' });
  const listening = await startServer(server, { host: '127.0.0.1', port: 0 });
  const { secret } = server.keys.create({ name: 'desktop', tenant: 'acme' });
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${listening.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${secret}` } },
    }),
  );
  cleanups.push(async () => {
    await client.close();
    await listening.close();
    await server.close();
    await hataraku.close();
  });
  return { client, hataraku, url: listening.url };
}

describe('MCP over Streamable HTTP', () => {
  it('lists the agents as tools and runs one, with progress per step', async () => {
    const { client, hataraku } = await httpClient(workspace());
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['agent_greeter', 'agent_slow', 'agent_hataraku']);
    expect(tools[0]).toMatchObject({ description: 'Greets people.', inputSchema: { required: ['task'] } });

    const progress: Progress[] = [];
    const result = await client.callTool({ name: 'agent_greeter', arguments: { task: 'Greet me' } }, undefined, {
      onprogress: (update) => progress.push(update),
    });
    expect(result.content).toEqual([{ type: 'text', text: 'Hello from the greeter agent.' }]);
    const structured = result.structuredContent as { runId: string; status: string };
    expect(structured.status).toBe('completed');
    expect(await hataraku.engine.getRun(structured.runId)).toMatchObject({ tenant: 'acme', agentName: 'greeter' });
    // Three steps: a model call, the tool call, the final model call.
    expect(progress.map((update) => update.progress)).toEqual([1, 2, 3]);
    expect(progress[0]?.message).toMatch(/step 0 \(model\) done/);
  });

  it('cancels the run when the client cancels the request', async () => {
    const { client, hataraku } = await httpClient(workspace());
    const controller = new AbortController();
    const call = client.callTool({ name: 'agent_slow', arguments: { task: 'Take your time' } }, undefined, {
      signal: controller.signal,
    });
    await expect.poll(async () => (await hataraku.engine.listRuns()).length).toBe(1);
    controller.abort();
    await expect(call).rejects.toThrow();
    const [run] = await hataraku.engine.listRuns();
    await expect.poll(async () => (await hataraku.engine.getRun(run?.id as string))?.stopReason).toBe('cancelled');
  });

  it('refuses requests without a key', async () => {
    const { url } = await httpClient(workspace());
    const response = await fetch(`${url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
  });

  it('answers a bad task with a tool error, not a crash', async () => {
    const { client } = await httpClient(workspace());
    const result = await client.callTool({ name: 'agent_greeter', arguments: { task: '' } });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([
      { type: 'text', text: expect.stringMatching(/"task" must be a non-empty string/) },
    ]);
  });
});

describe('MCP over stdio', () => {
  it('serves agents and, with --tools, the built-in tools under the policies', async () => {
    const cwd = workspace();
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [binary, 'mcp', 'serve', '--tools', '--tenant', 'desk'],
        cwd,
        stderr: 'pipe',
      }),
    );
    cleanups.push(() => client.close());
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['agent_greeter', 'files.read', 'files.write']));

    const answer = await client.callTool({ name: 'agent_greeter', arguments: { task: 'Greet me' } });
    expect(answer.content).toEqual([{ type: 'text', text: 'Hello from the greeter agent.' }]);

    const read = await client.callTool({ name: 'files.read', arguments: { path: 'notes.txt' } });
    expect(read.isError).toBeFalsy();
    expect(JSON.stringify(read.content)).toContain('remember the milk');
    const write = await client.callTool({ name: 'files.write', arguments: { path: 'x.txt', content: 'x' } });
    expect(write.isError).toBe(true);
    expect(JSON.stringify(write.content)).toMatch(/policy says \\"ask\\"/);
  }, 30_000);
});
