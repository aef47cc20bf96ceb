/**
 * Connectors end to end through the built CLI (`dist/`), spawned as processes, with a scripted
 * model: the reference MCP servers from npm called by `hataraku run`, listed by `hataraku mcp
 * list` and `hataraku tools list`, and a destructive MCP tool that waits for approval while its
 * process is killed, is approved from another process, and runs when a third resumes the run.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const binary = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const modules = fileURLToPath(new URL('../../node_modules/', import.meta.url));
const everything = join(modules, '@modelcontextprotocol/server-everything/dist/index.js');
const filesystem = join(modules, '@modelcontextprotocol/server-filesystem/dist/index.js');
const shopSpec = fileURLToPath(new URL('../connectors/openapi/__fixtures__/shop.openapi.yaml', import.meta.url));

function hataraku(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [binary, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`)),
      timeoutMs,
    );
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
  });
}

/** A workspace with a config naming the two reference servers, the filesystem one rooted in `shared/`. */
function workspaceWithServers(turns: unknown[]): string {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-connectors-'));
  mkdirSync(join(cwd, 'shared'));
  writeFileSync(join(cwd, 'shared', 'inventory.txt'), 'lamps: 4\ndesks: 2\n');
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({
      tools: { enabled: ['files'] },
      connectors: {
        mcp: {
          everything: { command: process.execPath, args: [everything, 'stdio'] },
          fs: { command: process.execPath, args: [filesystem, join(cwd, 'shared')] },
        },
      },
    }),
  );
  writeFileSync(join(cwd, 'script.json'), JSON.stringify({ version: 1, turns }));
  return cwd;
}

describe('MCP servers through `hataraku run`', () => {
  it('calls the reference servers’ tools and records them as steps', () => {
    const cwd = workspaceWithServers([
      {
        toolCalls: [
          // Numbers written as strings, as small models do: repaired against the server's schema.
          { name: 'everything.get-sum', arguments: { a: '19', b: 23 } },
          { name: 'fs.read_text_file', arguments: { path: 'PLACEHOLDER' } },
        ],
      },
      { text: 'The sum is 42 and there are 4 lamps.' },
    ]);
    const script = JSON.parse(readFileSync(join(cwd, 'script.json'), 'utf8'));
    script.turns[0].toolCalls[1].arguments.path = join(cwd, 'shared', 'inventory.txt');
    writeFileSync(join(cwd, 'script.json'), JSON.stringify(script));

    const run = hataraku(cwd, 'run', 'Add 19 and 23, and count the lamps', '--model', 'scripted:script.json', '--json');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // The two calls run side by side; their events are put in step order.
    const byStep = (left: { stepIndex: number }, right: { stepIndex: number }) => left.stepIndex - right.stepIndex;
    const starts = events.filter((event) => event.type === 'tool-call-start').sort(byStep);
    expect(starts[0].input).toEqual({ a: 19, b: 23 });
    expect(starts[0].repairs.length).toBeGreaterThan(0);
    const ends = events.filter((event) => event.type === 'tool-call-end').sort(byStep);
    expect(
      ends.map((event) => [event.toolName, event.isError]),
      JSON.stringify(ends),
    ).toEqual([
      ['everything.get-sum', false],
      ['fs.read_text_file', false],
    ]);
    expect(ends[0].output).toMatch(/42/);
    expect(ends[1].output).toContain('lamps: 4');
  });

  it('lists servers and tools with their effects and policies', () => {
    const cwd = workspaceWithServers([{ text: 'unused' }]);
    const config = JSON.parse(readFileSync(join(cwd, 'hataraku.config.json'), 'utf8'));
    config.connectors.openapi = { shop: { spec: shopSpec } };
    config.policies = [{ tool: 'shop.deleteItem', action: 'deny' }];
    writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify(config));
    const servers = hataraku(cwd, 'mcp', 'list');
    expect(servers.status).toBe(0);
    expect(servers.stdout).toMatch(/^everything {2}running/m);
    expect(servers.stdout).toMatch(/^ {2}fs\.write_file {2}side-effect, destructive$/m);

    const tools = hataraku(cwd, 'tools', 'list', '--json');
    expect(tools.status).toBe(0);
    const listed = tools.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(listed).toContainEqual({ name: 'files.read', source: 'builtin:files', effect: 'none', policy: 'allow' });
    expect(listed).toContainEqual({ name: 'fs.write_file', source: 'mcp:fs', effect: 'side-effect', policy: 'ask' });
    expect(listed).toContainEqual({
      name: 'everything.echo',
      source: 'mcp:everything',
      effect: 'none',
      policy: 'allow',
    });
  });

  it('says in one line when a configured server cannot start', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-connectors-'));
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({ connectors: { mcp: { broken: { command: join(cwd, 'no-such-program') } } } }),
    );
    writeFileSync(join(cwd, 'script.json'), JSON.stringify({ version: 1, turns: [{ text: 'hi' }] }));
    const run = hataraku(cwd, 'run', 'anything', '--model', 'scripted:script.json');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^hataraku: connector broken is unavailable: MCP server broken could not be started: .*ENOENT/,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('waits for approval of a destructive tool across a process restart, then runs it once', async () => {
    const cwd = workspaceWithServers([]);
    const target = join(cwd, 'shared', 'order.txt');
    writeFileSync(
      join(cwd, 'script.json'),
      JSON.stringify({
        version: 1,
        turns: [
          { toolCalls: [{ name: 'fs.write_file', arguments: { path: target, content: 'order 7 lamps' } }] },
          { text: 'Order written.' },
        ],
      }),
    );
    const started = spawn(process.execPath, [binary, 'run', 'Order 7 lamps', '--model', 'scripted:script.json'], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => started.on('close', (code) => resolve(code)));
    const output = await waitForOutput(started, /needs approval/, 30_000);
    const runId = /run (run_\w+)/.exec(output)?.[1] as string;
    expect(runId).toBeDefined();
    started.kill('SIGKILL');
    expect(await exited).toBeNull();
    expect(existsSync(target)).toBe(false);

    const listed = JSON.parse(hataraku(cwd, 'runs', 'list', '--json').stdout.trim());
    expect(listed).toMatchObject({ id: runId, status: 'waiting' });

    const approved = hataraku(cwd, 'runs', 'approve', runId, '--as', 'mika');
    expect(approved.status).toBe(0);
    expect(approved.stdout).toMatch(/Approved step 1 of run .* \(fs\.write_file\)/);

    const resumed = hataraku(cwd, 'runs', 'resume', runId);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('order 7 lamps');

    const shown = JSON.parse(hataraku(cwd, 'runs', 'show', runId, '--json').stdout);
    expect(shown.status).toBe('completed');
    expect(shown.approvals).toEqual([
      expect.objectContaining({ toolName: 'fs.write_file', status: 'approved', decidedBy: 'mika' }),
    ]);
    expect(shown.audit.map((entry: { action: string }) => entry.action)).toEqual(['approval-requested', 'approved']);
  });
});
