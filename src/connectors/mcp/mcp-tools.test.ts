/**
 * MCP servers as tools, against real servers started as subprocesses: the reference servers
 * from npm (`server-everything` over stdio, Streamable HTTP and SSE; `server-filesystem` over
 * stdio) and a hand-written server that crashes, hangs and answers with malformed results.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decideToolCall } from '../../agent/policy.js';
import type { McpServerSettings } from '../../config/connectors-settings.js';
import type { Tool } from '../../tools/tool.js';
import { createToolContext } from '../../tools/tool-context.js';
import type { ConnectorTool } from '../connector-tool.js';
import { createMcpConnection, type McpConnection } from './mcp-connection.js';
import { createMcpTools } from './mcp-tools.js';

const modules = fileURLToPath(new URL('../../../node_modules/', import.meta.url));
const everything = join(modules, '@modelcontextprotocol/server-everything/dist/index.js');
const filesystem = join(modules, '@modelcontextprotocol/server-filesystem/dist/index.js');
const everythingOnLoopback = fileURLToPath(new URL('./__fixtures__/everything-on-loopback.mjs', import.meta.url));
const misbehaving = fileURLToPath(new URL('./__fixtures__/misbehaving-server.mjs', import.meta.url));

function stdioServer(name: string, args: string[], extra: Partial<McpServerSettings> = {}): McpServerSettings {
  return {
    name,
    transport: 'stdio',
    command: process.execPath,
    args,
    env: {},
    cwd: undefined,
    url: undefined,
    headers: {},
    secretValues: [],
    timeoutMs: 20_000,
    destructive: 'ask',
    include: undefined,
    exclude: undefined,
    ...extra,
  };
}

const open: McpConnection[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((connection) => connection.close()));
});

function connect(settings: McpServerSettings, options: Parameters<typeof createMcpConnection>[1] = {}) {
  const connection = createMcpConnection(settings, options);
  open.push(connection);
  return connection;
}

function find(tools: ConnectorTool[], name: string): Tool {
  const found = tools.find((entry) => entry.tool.name === name);
  if (found === undefined) throw new Error(`no tool ${name}; have ${tools.map((entry) => entry.tool.name).join(', ')}`);
  return found.tool;
}

async function call(tool: Tool, args: unknown, workspace?: string) {
  const checked = tool.validate(args);
  if (!checked.success) throw new Error(`invalid arguments: ${JSON.stringify(checked.issues)}`);
  const context = createToolContext(workspace === undefined ? {} : { workspace });
  try {
    return { output: await tool.execute(checked.data, context), artifacts: context.artifacts };
  } finally {
    await context.dispose();
  }
}

describe('server-everything over stdio', () => {
  it('lists its tools as <server>.<tool> with effects from their annotations', async () => {
    const { tools, skipped } = await createMcpTools(connect(stdioServer('everything', [everything, 'stdio'])));
    expect(skipped).toEqual([]);
    expect(find(tools, 'everything.echo').effect).toBe('none');
    expect(find(tools, 'everything.gzip-file-as-resource').effect).toBe('idempotent');
    expect(tools.find((entry) => entry.tool.name === 'everything.echo')?.destructive).toBe(false);
    expect(find(tools, 'everything.get-sum').inputSchema).toMatchObject({
      type: 'object',
      properties: { a: { type: 'number' }, b: { type: 'number' } },
    });
  });

  it('calls tools: text, structured content, and images saved in the workspace', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-mcp-'));
    const { tools } = await createMcpTools(connect(stdioServer('everything', [everything, 'stdio'])));
    expect((await call(find(tools, 'everything.echo'), { message: 'hello there' })).output).toBe('Echo: hello there');
    expect((await call(find(tools, 'everything.get-sum'), { a: 2, b: 40 })).output).toMatch(/42/);
    const structured = await call(find(tools, 'everything.get-structured-content'), { location: 'Chicago' });
    expect(structured.output).toMatch(/"temperature"/);

    const image = await call(find(tools, 'everything.get-tiny-image'), {}, workspace);
    const saved = /image saved as (\S+) \(image\/png, (\d+) bytes\)/.exec(String(image.output));
    expect(saved).not.toBeNull();
    const file = readFileSync(join(workspace, saved?.[1] as string));
    expect(file.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(image.artifacts).toEqual([expect.objectContaining({ path: saved?.[1], mediaType: 'image/png' })]);
  });

  it('rejects arguments that break the tool schema before the server sees them', () => {
    return createMcpTools(connect(stdioServer('everything', [everything, 'stdio']))).then(({ tools }) => {
      const checked = find(tools, 'everything.get-sum').validate({ a: 'two' });
      expect(checked.success).toBe(false);
    });
  });

  it('gives the server only the variables configured for it, not the host environment', async () => {
    process.env.HATARAKU_TEST_HOST_SECRET = 'host-secret-value-123';
    try {
      const settings = stdioServer('everything', [everything, 'stdio'], {
        env: { GIVEN_TO_SERVER: 'visible-value', SERVER_TOKEN: 'server-token-abcdef' },
        secretValues: ['server-token-abcdef'],
      });
      const { tools } = await createMcpTools(connect(settings));
      const output = String((await call(find(tools, 'everything.get-env'), {})).output);
      expect(output).toContain('visible-value');
      expect(output).not.toContain('host-secret-value-123');
      expect(output).not.toContain('server-token-abcdef');
      expect(output).toContain('[secret]');
    } finally {
      delete process.env.HATARAKU_TEST_HOST_SECRET;
    }
  });
});

describe('server-filesystem over stdio', () => {
  it('maps write_file to a destructive side effect and writes inside its root only', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hataraku-mcp-fs-'));
    const { tools } = await createMcpTools(connect(stdioServer('fs', [filesystem, root], { cwd: root })));
    const write = tools.find((entry) => entry.tool.name === 'fs.write_file');
    expect(write?.tool.effect).toBe('side-effect');
    expect(write?.destructive).toBe(true);
    expect(find(tools, 'fs.read_text_file').effect).toBe('none');
    await call(write?.tool as Tool, { path: join(root, 'note.txt'), content: 'from mcp' });
    expect(readFileSync(join(root, 'note.txt'), 'utf8')).toBe('from mcp');
    await expect(call(write?.tool as Tool, { path: join(tmpdir(), 'outside.txt'), content: 'x' })).rejects.toThrow(
      /denied|outside|not allowed/i,
    );
  });
});

const httpServers: ChildProcess[] = [];
afterAll(() => {
  for (const child of httpServers) child.kill('SIGKILL');
});

/** server-everything in an HTTP mode, on 127.0.0.1 and a free port (see the fixture); returns the port. */
async function startEverythingOverHttp(mode: 'streamableHttp' | 'sse'): Promise<number> {
  const child = spawn(process.execPath, [everythingOnLoopback, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  httpServers.push(child);
  return new Promise<number>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 20_000);
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening on 127\.0\.0\.1:(\d+)/.exec(output)?.[1];
      if (port !== undefined) {
        clearTimeout(timer);
        resolve(Number(port));
      }
    };
    child.stderr?.on('data', look);
    child.stdout?.on('data', look);
  });
}

describe('server-everything over HTTP', () => {
  it('works over Streamable HTTP', async () => {
    const port = await startEverythingOverHttp('streamableHttp');
    const connection = connect({
      ...stdioServer('remote', []),
      transport: 'http',
      command: undefined,
      url: `http://127.0.0.1:${port}/mcp`,
    });
    const { tools } = await createMcpTools(connection);
    expect((await call(find(tools, 'remote.echo'), { message: 'over http' })).output).toBe('Echo: over http');
    expect(connection.status()).toMatchObject({ state: 'connected' });
  });

  it('works over the legacy SSE transport', async () => {
    const port = await startEverythingOverHttp('sse');
    const connection = connect({
      ...stdioServer('legacy', []),
      transport: 'sse',
      command: undefined,
      url: `http://127.0.0.1:${port}/sse`,
    });
    const { tools } = await createMcpTools(connection);
    expect((await call(find(tools, 'legacy.echo'), { message: 'over sse' })).output).toBe('Echo: over sse');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a misbehaving server', () => {
  function misbehavingServer(extra: Partial<McpServerSettings> = {}) {
    return stdioServer('bad', [misbehaving], { timeoutMs: 1_500, ...extra });
  }

  it('leaves out a tool whose schema does not compile, saying why', async () => {
    const { tools, skipped } = await createMcpTools(connect(misbehavingServer()));
    expect(tools.map((entry) => entry.operation)).not.toContain('bad schema');
    expect(skipped).toEqual([{ operation: 'bad schema', reason: expect.stringMatching(/not a valid JSON Schema/) }]);
  });

  it('stops a tool list whose pages never end, at the tool cap, with an error that says so', async () => {
    // Before the cap, this listing held 3.8 GB after 30 s and never finished.
    const connection = connect(misbehavingServer({ env: { ENDLESS_TOOL_PAGES: '1' } }));
    await expect(connection.listTools()).rejects.toThrow(
      "MCP server bad could not be started: it lists more than 1000 tools and its list goes on; Hataraku takes at most 1000 tools from one server; fix the server's tools/list or give it fewer tools",
    );
  });

  it('gives the whole tool listing one deadline, not one per page', async () => {
    const connection = connect(misbehavingServer({ env: { ENDLESS_TOOL_PAGES: '1' } }), {
      maxTools: Number.MAX_SAFE_INTEGER,
      startTimeoutMs: 1_000,
    });
    await expect(connection.listTools()).rejects.toThrow(/MCP server bad could not be started: .*timed out/i);
  });

  it('leaves out a tool whose definition is too large to send with every model call, saying why', async () => {
    const { tools, skipped } = await createMcpTools(connect(misbehavingServer({ env: { HUGE_TOOL: '1' } })));
    expect(tools.map((entry) => entry.operation)).not.toContain('huge');
    expect(tools.map((entry) => entry.operation)).toContain('fail');
    expect(skipped).toContainEqual({
      operation: 'huge',
      reason: expect.stringMatching(
        /^its definition \(description and input schema\) is \d+ characters, over the 32000 that a tool may take: every model call would carry it$/,
      ),
    });
  });

  it('does not run a server-given pattern on the arguments: the server checks it', async () => {
    // Run by the host, ^(a+)+$ against 40 letters and a "!" would take hours (26 letters: 221 ms).
    const { tools } = await createMcpTools(connect(misbehavingServer({ env: { PATTERN_TOOL: '1' } })));
    const coded = find(tools, 'bad.coded');
    expect(coded.validate({ code: `${'a'.repeat(40)}!` }).success).toBe(true);
    expect(JSON.stringify(coded.inputSchema)).toContain(
      'Must match the regular expression ^(a+)+$ (checked by the server).',
    );
  });

  it("does not run the server's output-schema patterns on its own results", async () => {
    // The SDK checks structured results against the tool's output schema with Ajv: ^(a+)+$
    // against the server's 40 letters and a "!" held the host for hours.
    const { tools } = await createMcpTools(connect(misbehavingServer({ env: { PATTERN_TOOL: '1' } })));
    const code = `${'a'.repeat(40)}!`;
    expect((await call(find(tools, 'bad.coded-result'), {})).output).toBe(
      `${code}\nstructured result: ${JSON.stringify({ code })}`,
    );
  });

  it('does not save an image over the media limit, and saves the small one beside it', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-mcp-media-'));
    const { tools } = await createMcpTools(connect(misbehavingServer()));
    const result = await call(find(tools, 'bad.big-image'), {}, workspace);
    const output = String(result.output);
    expect(output).toContain(
      '[image: image/png, 6000000 bytes; not saved: over the 5000000-byte limit for one item from a connector]',
    );
    expect(output).toMatch(/\[image saved as \.hataraku\/mcp-media\/\S+ \(image\/png, 10 bytes\)\]/);
    const saved = readdirSync(join(workspace, '.hataraku', 'mcp-media'), { recursive: true, encoding: 'utf8' });
    expect(saved.filter((name) => name.endsWith('.png'))).toHaveLength(1);
  });

  it('takes no policy from a tool definition: a remote server cannot allow its own calls', async () => {
    const { tools } = await createMcpTools(connect(misbehavingServer()));
    const entry = tools.find((candidate) => candidate.operation === 'self-approving');
    expect(entry).toBeDefined();
    expect(entry?.tool.defaultPolicies).toBeUndefined();
    expect(entry?.tool.exclusive).not.toBe(true);
    expect(entry?.destructive).toBe(true);
    // No policy of its own decides its calls; the ask that connectors add for a destructive tool still does.
    expect(decideToolCall([], entry?.tool as Tool, {}).policy).toBeUndefined();
    expect(decideToolCall([{ tool: entry?.tool.name ?? '', action: 'ask' }], entry?.tool as Tool, {}).action).toBe(
      'ask',
    );
  });

  it('does not repeat a write the server crashed in, and starts the server again for the next call', async () => {
    const countFile = join(mkdtempSync(join(tmpdir(), 'hataraku-mcp-count-')), 'count.txt');
    const { tools } = await createMcpTools(connect(misbehavingServer({ env: { COUNT_FILE: countFile } })));
    await expect(call(find(tools, 'bad.crash'), {})).rejects.toThrow(
      /stopped during crash .*may or may not have taken effect, so it was not repeated/,
    );
    expect((await call(find(tools, 'bad.count'), { note: 'after the crash' })).output).toBe('counted');
    expect(readFileSync(countFile, 'utf8')).toBe('after the crash standalone:0\n');
  });

  it('tries a read once more after a crash, then reports it', async () => {
    const { tools } = await createMcpTools(connect(misbehavingServer()));
    await expect(call(find(tools, 'bad.crash-read'), {})).rejects.toThrow(/stopped twice during crash-read/);
  });

  it('times out a call that hangs and restarts the server', async () => {
    const connection = connect(misbehavingServer());
    const { tools } = await createMcpTools(connection);
    await expect(call(find(tools, 'bad.hang'), {})).rejects.toThrow(/did not answer hang within 1500 ms/);
    expect((await call(find(tools, 'bad.grow'), {})).output).toBe('grew');
  });

  it('cancels a call when the run is aborted', async () => {
    const { tools } = await createMcpTools(connect(misbehavingServer({ timeoutMs: 60_000 })));
    const hang = find(tools, 'bad.hang');
    const controller = new AbortController();
    const context = createToolContext({ abortSignal: controller.signal });
    const pending = Promise.resolve(hang.execute({}, context));
    controller.abort(new Error('run aborted'));
    await expect(pending).rejects.toThrow('run aborted');
    await context.dispose();
  });

  it('turns a malformed result and an isError result into clear errors', async () => {
    const { tools } = await createMcpTools(connect(misbehavingServer()));
    await expect(call(find(tools, 'bad.malformed'), {})).rejects.toThrow(/MCP server bad failed on malformed/);
    await expect(call(find(tools, 'bad.fail'), {})).rejects.toThrow('the widget is out of stock');
  });

  it('refreshes its tool list on tools/list_changed', async () => {
    const connection = connect(misbehavingServer());
    await createMcpTools(connection);
    expect((await connection.listTools()).map((tool) => tool.name)).not.toContain('grown');
    await call(find((await createMcpTools(connection)).tools, 'bad.grow'), {});
    await expect.poll(async () => (await connection.listTools()).map((tool) => tool.name)).toContain('grown');
    const { tools } = await createMcpTools(connection);
    expect((await call(find(tools, 'bad.grown'), {})).output).toBe('I am new');
  });

  it('gives up with a clear error when the server keeps failing to start', async () => {
    const connection = connect(misbehavingServer({ env: { CRASH_ON_START: '1' } }), { maxConsecutiveFailures: 2 });
    await expect(connection.listTools()).rejects.toThrow(/MCP server bad could not be started: .*refusing to start/);
    await expect(connection.listTools()).rejects.toThrow(/could not be started/);
    await expect(connection.listTools()).rejects.toThrow(/failed 2 times in a row .*fix the server or its config/);
    expect(connection.status()).toMatchObject({ state: 'failed' });
  });

  it('stops the server process on close', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'hataraku-mcp-close-')), 'pid.txt');
    const connection = connect(misbehavingServer({ env: { PID_FILE: pidFile } }));
    await connection.listTools();
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(isAlive(pid)).toBe(true);
    await connection.close();
    expect(connection.status()).toEqual({ state: 'closed' });
    await expect(connection.listTools()).rejects.toThrow(/shut down/);
    await expect.poll(() => isAlive(pid)).toBe(false);
  });
});
