/**
 * The MCP server against third-party MCP tooling, as real subprocesses: the MCP Inspector in CLI
 * mode over stdio (list and call a tool), and the scenarios of the MCP conformance suite that
 * apply to a server of tools (initialize, ping, tools/list, concurrent streams) over Streamable
 * HTTP. Pinned versions that run on Node 20: @modelcontextprotocol/inspector-cli 0.15.0 and
 * @modelcontextprotocol/conformance 0.1.9 (0.1.10 onwards need Node 22's fs.globSync).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const binary = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const require = createRequire(import.meta.url);
const packageDirectory = (name: string) => dirname(require.resolve(`${name}/package.json`));
const inspector = join(packageDirectory('@modelcontextprotocol/inspector-cli'), 'build', 'cli.js');
const conformance = join(packageDirectory('@modelcontextprotocol/conformance'), 'dist', 'index.js');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function workspace(): string {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-mcp-clients-'));
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({ agents: { greeter: { model: 'scripted:hello.json', description: 'Greets people.' } } }),
  );
  writeFileSync(join(cwd, 'hello.json'), JSON.stringify({ version: 1, turns: [{ text: 'Hello from the greeter.' }] }));
  return cwd;
}

describe('MCP Inspector (CLI mode) over stdio', () => {
  it('lists the agent tools and calls one', () => {
    const cwd = workspace();
    const inspect = (...args: string[]) =>
      spawnSync(process.execPath, [inspector, '--cli', process.execPath, binary, 'mcp', 'serve', ...args], {
        cwd,
        encoding: 'utf8',
        timeout: 30_000,
      });
    const listed = inspect('--method', 'tools/list');
    expect(listed.status).toBe(0);
    const { tools } = JSON.parse(listed.stdout) as { tools: Array<{ name: string }> };
    expect(tools.map((tool) => tool.name)).toEqual(['agent_greeter', 'agent_hataraku']);

    const called = inspect('--method', 'tools/call', '--tool-name', 'agent_greeter', '--tool-arg', 'task=Greet me');
    expect(called.status).toBe(0);
    expect(JSON.parse(called.stdout)).toMatchObject({
      content: [{ type: 'text', text: 'Hello from the greeter.' }],
      structuredContent: { status: 'completed', runId: expect.stringMatching(/^run_/) },
    });
  }, 60_000);
});

describe('MCP conformance suite over Streamable HTTP', () => {
  it('passes the scenarios that apply to a server of tools', async () => {
    const cwd = workspace();
    const server = spawn(process.execPath, [binary, 'mcp', 'serve', '--http', '--dev', '--port', '0'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(server);
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`mcp serve did not start:\n${output}`)), 20_000);
      server.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Streamable HTTP on (\S+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    for (const scenario of ['server-initialize', 'ping', 'tools-list', 'server-sse-multiple-streams']) {
      const result = spawnSync(process.execPath, [conformance, 'server', '--url', url, '--scenario', scenario], {
        cwd,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.stdout, scenario).toMatch(/Passed: (\d+)\/\1, 0 failed/);
    }
  }, 120_000);
});
