/**
 * A run killed (SIGKILL) in the middle of a connector's effect, then recovered by another
 * process: the effects whose steps were committed are not sent again, and the effect that was
 * under way is sent again with the same idempotency key, which the service uses to apply it
 * once. One case for an OpenAPI service (a real HTTP server on 127.0.0.1 that honours
 * `Idempotency-Key`), one for an MCP server (a subprocess that honours the key in `_meta`).
 * Both run the built CLI (`dist/`) with a scripted model.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const binary = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
const misbehaving = fileURLToPath(new URL('../../connectors/mcp/__fixtures__/misbehaving-server.mjs', import.meta.url));

/** Run the CLI without blocking this process (the test's HTTP server must keep answering). */
function hataraku(cwd: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binary, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const ordersSpec = {
  openapi: '3.1.0',
  info: { title: 'Orders', version: '1' },
  paths: {
    '/orders': {
      post: {
        operationId: 'createOrder',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required: ['item'], properties: { item: { type: 'string' } } },
            },
          },
        },
        responses: { '201': { description: 'created' } },
      },
    },
  },
};

const script = (tool: string, argument: string) => ({
  version: 1,
  turns: [
    { toolCalls: [{ name: tool, arguments: { [argument]: 'lamp' } }] },
    { toolCalls: [{ name: tool, arguments: { [argument]: 'desk' } }] },
    { text: 'Both done.' },
  ],
});

/** Start `hataraku run`, wait until `killWhen` resolves, kill it; then recover the run from another process. */
async function killMidwayAndRecover(cwd: string, killWhen: Promise<void>) {
  const child = spawn(process.execPath, [binary, 'run', 'Order a lamp and a desk', '--model', 'scripted:script.json'], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  await killWhen;
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  const runId = /run (run_\w+)/.exec(output)?.[1];
  expect(runId).toBeDefined();
  const recovered = await hataraku(cwd, 'runs', 'recover', '--json');
  expect(recovered.stderr).toBe('');
  const report = JSON.parse(recovered.stdout) as { results: Array<{ runId: string; status: string }> };
  expect(report.results).toEqual([expect.objectContaining({ runId, status: 'completed' })]);
  return runId as string;
}

describe('killed mid-way through a connector effect', () => {
  it('OpenAPI: committed writes are not repeated; the interrupted one is applied once by its key', async () => {
    const applied: Array<{ item: string; key: string }> = [];
    const requests: Array<{ item: string; key: string }> = [];
    let releaseKill: () => void = () => undefined;
    const killWhen = new Promise<void>((resolve) => {
      releaseKill = resolve;
    });
    let hung = false;
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        const item = (JSON.parse(body) as { item: string }).item;
        const key = String(request.headers['idempotency-key']);
        requests.push({ item, key });
        if (!applied.some((entry) => entry.key === key)) applied.push({ item, key });
        if (item === 'desk' && !hung) {
          // Applied, but the answer never comes: the client is killed while it waits.
          hung = true;
          releaseKill();
          return;
        }
        response.writeHead(201, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ id: `order-${applied.length}`, item }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const cwd = mkdtempSync(join(tmpdir(), 'hataraku-fault-openapi-'));
      writeFileSync(join(cwd, 'orders.json'), JSON.stringify(ordersSpec));
      // The scripted call's `body` argument is the request body object.
      const scripted = script('orders.createOrder', 'body');
      for (const turn of scripted.turns) {
        for (const call of turn.toolCalls ?? []) {
          call.arguments = { body: { item: call.arguments.body as string } } as never;
        }
      }
      writeFileSync(join(cwd, 'script.json'), JSON.stringify(scripted));
      writeFileSync(
        join(cwd, 'hataraku.config.json'),
        JSON.stringify({
          tools: { enabled: ['files'] },
          connectors: {
            openapi: {
              orders: {
                spec: './orders.json',
                baseURL: `http://127.0.0.1:${port}`,
                allowedPrivateAddresses: [`127.0.0.1:${port}`],
              },
            },
            writeHosts: ['127.0.0.1'],
          },
        }),
      );
      const runId = await killMidwayAndRecover(cwd, killWhen);
      expect(applied.map((entry) => entry.item)).toEqual(['lamp', 'desk']);
      expect(requests.filter((entry) => entry.item === 'lamp')).toHaveLength(1);
      const desks = requests.filter((entry) => entry.item === 'desk');
      expect(desks).toHaveLength(2);
      expect(desks[0]?.key).toBe(desks[1]?.key);
      expect(desks[0]?.key).toBe(`${runId}:3`);
    } finally {
      server.close();
    }
  });

  it('MCP: committed calls are not repeated; the interrupted one carries the same key in _meta', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-fault-mcp-'));
    const countFile = join(cwd, 'count.txt');
    const marker = join(cwd, 'hung.txt');
    writeFileSync(join(cwd, 'script.json'), JSON.stringify(script('bad.count', 'note')));
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        tools: { enabled: ['files'] },
        connectors: {
          mcp: {
            bad: {
              command: process.execPath,
              args: [misbehaving],
              env: {
                COUNT_FILE: countFile,
                KEYS_FILE: join(cwd, 'keys.txt'),
                HANG_AFTER_NOTE: 'desk',
                HANG_MARKER: marker,
              },
              destructive: 'allow',
              include: ['count'],
            },
          },
        },
      }),
    );
    const killWhen = (async () => {
      while (!existsSync(marker)) await new Promise((resolve) => setTimeout(resolve, 50));
    })();
    const runId = await killMidwayAndRecover(cwd, killWhen);
    const lines = readFileSync(countFile, 'utf8').trim().split('\n');
    expect(lines).toEqual([`lamp ${runId}:1`, `desk ${runId}:3`]);
  });
});
