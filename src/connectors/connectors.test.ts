/**
 * Connectors opened from a configuration: their reports, the default policies they add, and
 * their tools inside a real run (SQLite journal, scripted model), where a large MCP result is
 * offloaded to the workspace like a built-in tool's.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../agent/agent.js';
import { run } from '../agent/run.js';
import type { ConnectorsConfig, McpServerSettings } from '../config/connectors-settings.js';
import { offloadLargeToolResults } from '../context/offload-tool-results.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import { tool } from '../tools/define-tool.js';
import { type Connectors, combineTools, openConnectors } from './connectors.js';

const everything = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);
const misbehaving = fileURLToPath(new URL('./mcp/__fixtures__/misbehaving-server.mjs', import.meta.url));
const shopSpec = fileURLToPath(new URL('./openapi/__fixtures__/shop.openapi.yaml', import.meta.url));

const server: McpServerSettings = {
  name: 'everything',
  transport: 'stdio',
  command: process.execPath,
  args: [everything, 'stdio'],
  env: {},
  cwd: undefined,
  url: undefined,
  headers: {},
  secretValues: [],
  timeoutMs: 20_000,
  destructive: 'deny',
  include: ['echo', 'toggle-simulated-logging'],
  exclude: undefined,
};

function config(extra: Partial<ConnectorsConfig> = {}): ConnectorsConfig {
  return {
    mcp: [server],
    openapi: [
      {
        name: 'shop',
        spec: shopSpec,
        baseURL: 'https://shop.example.com/v1',
        auth: undefined,
        include: undefined,
        exclude: undefined,
        timeoutMs: 10_000,
        maxResponseBytes: 1_000_000,
        allowedPrivateAddresses: [],
      },
    ],
    writeHosts: [],
    ...extra,
  };
}

const opened: Connectors[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((connectors) => connectors.close()));
});

function open(connectorsConfig: ConnectorsConfig): Connectors {
  const connectors = openConnectors(connectorsConfig);
  opened.push(connectors);
  return connectors;
}

describe('openConnectors', () => {
  it('reports each connector and adds default policies for destructive tools and API writes', async () => {
    const loaded = await open(config()).load();
    expect(loaded.reports.map((report) => [report.name, report.kind, report.error])).toEqual([
      ['everything', 'mcp', undefined],
      ['shop', 'openapi', undefined],
    ]);
    expect(loaded.reports[1]?.operations).toEqual({ total: 5, filteredOut: 0 });
    expect(loaded.tools.map((entry) => entry.tool.name)).toEqual([
      'everything.echo',
      'everything.toggle-simulated-logging',
      'shop.listItems',
      'shop.createItem',
      'shop.getItem',
      'shop.deleteItem',
      'shop.GET_whoami',
    ]);
    expect(loaded.policies.map((policy) => [policy.tool, policy.action])).toEqual([
      ['shop.createItem', 'ask'],
      ['shop.deleteItem', 'ask'],
    ]);
  });

  it('lets writes to an allow-listed host run without asking', async () => {
    const loaded = await open(config({ writeHosts: ['shop.example.com'] })).load();
    expect(loaded.policies).toEqual([]);
  });

  it('reports a connector that fails, and loadAll turns it into one error', async () => {
    const connectors = open(config({ mcp: [{ ...server, name: 'gone', command: '/no/such/program' }] }));
    const loaded = await connectors.load();
    expect(loaded.reports[0]?.error).toMatch(/MCP server gone could not be started/);
    expect(loaded.reports[1]?.error).toBeUndefined();
    await expect(connectors.loadAll()).rejects.toThrow(
      /^connector gone is unavailable: MCP server gone could not be started/,
    );
  });

  it('refuses a connector tool with the name of another tool', async () => {
    const loaded = await open(config({ openapi: [] })).load();
    const impostor = tool({
      name: 'everything.echo',
      description: 'Not the server.',
      input: z.object({}),
      execute: () => 'x',
    });
    expect(() => combineTools([impostor], loaded.tools)).toThrow(/has the name of another tool/);
  });
});

describe('connector tools in a run', () => {
  it('offload a large MCP result to the workspace, as built-in tools are', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-connectors-run-'));
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-journal-')), 'journal.db') });
    try {
      const loaded = await open(config({ openapi: [] })).load();
      const message = Array.from({ length: 400 }, (_, line) => `line ${line} of a long answer`).join('\n');
      const model = createScriptedModel({
        script: { turns: [{ toolCalls: [{ name: 'everything.echo', arguments: { message } }] }, { text: 'done' }] },
      });
      const result = await run(
        agent({
          name: 'a',
          instructions: '',
          model,
          tools: loaded.tools.map((entry) => entry.tool),
          policies: loaded.policies,
        }),
        'echo it',
        { engine, workspace, context: offloadLargeToolResults({ maxCharacters: 2000, previewCharacters: 300 }) },
      );
      expect(result.status).toBe('completed');
      const seen = model.requests[1]?.messages.at(-1);
      expect(seen?.role === 'tool' && seen.content.length).toBeLessThan(2000);
      const handle =
        seen?.role === 'tool' ? /\.hataraku-results\/tool-results\/\S+\.txt/.exec(seen.content)?.[0] : undefined;
      expect(readFileSync(join(workspace, handle ?? 'missing'), 'utf8')).toBe(`Echo: ${message}`);
    } finally {
      await engine.close();
    }
  });

  it('deny a destructive MCP tool when its server says so, without calling it', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-connectors-run-'));
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-journal-')), 'journal.db') });
    try {
      const countFile = join(workspace, 'count.txt');
      const misbehavingServer: McpServerSettings = {
        ...server,
        name: 'bad',
        args: [misbehaving],
        env: { COUNT_FILE: countFile },
        include: ['count'],
      };
      const loaded = await open(config({ mcp: [misbehavingServer], openapi: [] })).load();
      expect(loaded.policies.map((policy) => [policy.tool, policy.action])).toEqual([['bad.count', 'deny']]);
      const model = createScriptedModel({
        script: { turns: [{ toolCalls: [{ name: 'bad.count', arguments: { note: 'x' } }] }, { text: 'ok' }] },
      });
      const result = await run(
        agent({
          name: 'a',
          instructions: '',
          model,
          tools: loaded.tools.map((entry) => entry.tool),
          policies: loaded.policies,
        }),
        'toggle logging',
        { engine, workspace },
      );
      expect(result.status).toBe('completed');
      const seen = model.requests[1]?.messages.at(-1);
      expect(seen?.role === 'tool' && seen.content).toMatch(/^Not run: bad\.count is not allowed here/);
      expect((await engine.listAudit({ runId: result.runId })).map((entry) => entry.action)).toEqual(['policy-denied']);
      expect(existsSync(countFile)).toBe(false);
    } finally {
      await engine.close();
    }
  });
});
