/**
 * `hataraku serve` end to end, with real processes: a key is created with `hataraku keys
 * create`, a run is started through the Runs API and followed on its SSE stream until it waits
 * for an approval; the server is killed and started again; the approval is given over HTTP
 * (audited with the key's name), the stream is resumed with Last-Event-ID to the end of the
 * run, and its cost is read back.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtCli, type ServeProcess, startServeProcess } from './__fixtures__/serve-process.js';

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function hataraku(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [builtCli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

async function startServe(cwd: string): Promise<ServeProcess> {
  const serve = await startServeProcess(cwd, { timeoutMs: 20_000 });
  children.push(serve.child);
  return serve;
}

interface SseEvent {
  id: number;
  event: string;
  data: { type: string; status?: string; [key: string]: unknown };
}

/** Read an SSE stream until `until` says stop; returns the events read. */
async function readEvents(response: Response, until: (event: SseEvent) => boolean): Promise<SseEvent[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const lines = new Map(
        block
          .split('\n')
          .filter((line) => /^(id|event|data):/.test(line))
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as const),
      );
      if (!lines.has('data')) continue;
      const event = {
        id: Number(lines.get('id')),
        event: lines.get('event') ?? '',
        data: JSON.parse(lines.get('data') ?? '{}'),
      };
      events.push(event);
      if (until(event)) {
        await reader.cancel();
        return events;
      }
    }
  }
}

describe('hataraku keys and serve: bad input', () => {
  it('answers with one line that says what to do', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-serve-cli-'));
    const noTenant = hataraku(cwd, 'keys', 'create', 'ops-bot');
    expect(noTenant.status).toBe(1);
    expect(noTenant.stderr).toMatch(/--tenant/);
    const unknown = hataraku(cwd, 'keys', 'revoke', 'nobody');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe('hataraku: no active key named "nobody"; list keys with `hataraku keys list`.\n');
    const badBudget = hataraku(cwd, 'keys', 'create', 'x', '--tenant', 'acme', '--budget-day', 'lots');
    expect(badBudget.stderr).toMatch(/--budget-day must be a positive number, e.g. --budget-day 5/);
    const exposedDev = hataraku(cwd, 'serve', '--dev', '--host', '0.0.0.0');
    expect(exposedDev.status).toBe(1);
    expect(exposedDev.stderr).toMatch(/--dev serves requests without a key, so it listens only on a loopback address/);
    expect(hataraku(cwd, 'keys', 'list').stdout).toMatch(
      /No keys; create one with `hataraku keys create NAME --tenant TENANT`/,
    );
  });
});

describe('hataraku serve, end to end', () => {
  it('runs an agent over HTTP, survives a restart while it waits, is approved over HTTP and reports its cost', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-serve-e2e-'));
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        prices: { 'scripted:pay.json': { inputPerMillion: 1000, outputPerMillion: 2000 } },
        policies: [{ tool: 'files.write', action: 'ask', reason: 'payments need a sign-off' }],
        agents: { payer: { model: 'scripted:pay.json', tools: ['files.write'], instructions: 'Pay invoices.' } },
      }),
    );
    writeFileSync(
      join(cwd, 'pay.json'),
      JSON.stringify({
        version: 1,
        turns: [
          {
            toolCalls: [{ name: 'files.write', arguments: { path: 'payment.txt', content: 'paid 250 to ACME' } }],
            usage: { inputTokens: 100, outputTokens: 10 },
          },
          { text: 'Payment recorded in payment.txt.', usage: { inputTokens: 200, outputTokens: 20 } },
        ],
      }),
    );

    const created = hataraku(cwd, 'keys', 'create', 'ops-bot', '--tenant', 'acme', '--json');
    expect(created.stderr).toBe('');
    const { secret } = JSON.parse(created.stdout) as { secret: string };
    expect(secret).toMatch(/^hk_[0-9a-f]{16}_/);
    const listed = hataraku(cwd, 'keys', 'list', '--json');
    expect(listed.stdout).not.toContain(secret);
    expect(JSON.parse(listed.stdout)).toMatchObject({ name: 'ops-bot', tenant: 'acme' });
    const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };

    const first = await startServe(cwd);
    const startResponse = await fetch(`${first.url}/runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ agent: 'payer', input: 'Pay ACME 250' }),
    });
    expect(startResponse.status).toBe(202);
    const { id } = (await startResponse.json()) as { id: string };

    const stream = await fetch(`${first.url}/runs/${id}/events`, { headers });
    const before = await readEvents(stream, (event) => event.event === 'run-end');
    expect(before.map((event) => event.event)).toEqual(
      expect.arrayContaining(['run-start', 'step-start', 'approval-requested', 'run-end']),
    );
    expect(before.at(-1)?.data.status).toBe('waiting');
    const lastEventId = before.at(-1)?.id as number;

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('close', resolve));
    expect(() => readFileSync(join(cwd, 'payment.txt'))).toThrow();

    const second = await startServe(cwd);
    const approve = await fetch(`${second.url}/runs/${id}/approve`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ note: 'invoice 42 checked' }),
    });
    expect(await approve.json()).toEqual({
      result: 'applied',
      stepIndex: 1,
      status: 'approved',
      decidedBy: 'key:ops-bot',
    });

    const resumed = await fetch(`${second.url}/runs/${id}/events`, {
      headers: { ...headers, 'last-event-id': String(lastEventId) },
    });
    const after = await readEvents(resumed, (event) => event.event === 'run-end' && event.data.status !== 'waiting');
    expect(after[0]?.id).toBe(lastEventId + 1);
    expect(after.at(-1)?.data).toMatchObject({ type: 'run-end', status: 'completed' });

    const run = (await (await fetch(`${second.url}/runs/${id}`, { headers })).json()) as {
      status: string;
      output: string;
      totals: { costUsd: number };
    };
    expect(run.status).toBe('completed');
    expect(run.output).toBe('Payment recorded in payment.txt.');
    // 300 input tokens at $1000 per million and 30 output tokens at $2000 per million.
    expect(run.totals.costUsd).toBeCloseTo(0.36, 9);
    const costs = (await (await fetch(`${second.url}/costs?by=tenant`, { headers })).json()) as {
      rows: Array<{ key: string; costUsd: number }>;
    };
    expect(costs.rows).toEqual([expect.objectContaining({ key: 'acme', costUsd: expect.closeTo(0.36, 9) })]);

    const shown = JSON.parse(hataraku(cwd, 'runs', 'show', id, '--json').stdout) as {
      audit: Array<{ action: string; actor: string }>;
      workspace: string;
    };
    expect(shown.audit.map((entry) => [entry.action, entry.actor])).toEqual([
      ['approval-requested', 'policy'],
      ['approved', 'key:ops-bot'],
    ]);
    expect(readFileSync(join(shown.workspace, 'payment.txt'), 'utf8')).toBe('paid 250 to ACME');
  }, 60_000);
});
