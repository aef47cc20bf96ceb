import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeOpenAIServer,
  jsonReply,
  sseBody,
  startFakeOpenAIServer,
  streamReply,
} from '../models/openai/fake-openai-server.js';
import { captureCliIo } from './__fixtures__/captured-io.js';
import { main } from './main.js';

function directory(): string {
  return mkdtempSync(join(tmpdir(), 'hataraku-cli-'));
}

const servers: FakeOpenAIServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

function completion(text: string) {
  return streamReply(
    sseBody([
      {
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, delta: { role: 'assistant', content: text }, finish_reason: null }],
      },
      {
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      },
      {
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [],
        usage: { prompt_tokens: 120, completion_tokens: 8, total_tokens: 128 },
      },
    ]),
  );
}

describe('hataraku CLI', () => {
  it('runs the default example (sales report) with the demo model, says so, and writes the report and chart', async () => {
    const cwd = directory();
    const run = captureCliIo(cwd);
    expect(await main(['example'], run.io)).toBe(0);
    expect(run.stdout()).toMatch(/No model configured/);
    expect(run.stdout()).toMatch(/scripted demo model/);
    expect(run.stdout()).toMatch(/completed/);
    const workspace = /Workspace: (\S+)/.exec(run.stdout())?.[1] ?? '';
    expect(readFileSync(join(cwd, workspace, 'report.md'), 'utf8')).toMatch(
      /!\[[^\]]*\]\(charts\/monthly-revenue\.png\)/,
    );
    expect(
      readFileSync(join(cwd, workspace, 'charts', 'monthly-revenue.png'))
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const json = captureCliIo(cwd);
    await main(['runs', 'list', '--json'], json.io);
    const runId = JSON.parse(json.stdout().trim().split('\n')[0] ?? '{}').id as string;
    const show = captureCliIo(cwd);
    expect(await main(['runs', 'show', runId], show.io)).toBe(0);
    expect(show.stdout()).toMatch(/artifacts:\n(.*\n)*\s+charts\/monthly-revenue\.png\s+image\/png/);
  });

  it('runs the expense-audit example and lists the run', async () => {
    const cwd = directory();
    const run = captureCliIo(cwd);
    expect(await main(['example', 'expense-audit'], run.io)).toBe(0);
    const workspace = /Workspace: (\S+)/.exec(run.stdout())?.[1] ?? '';
    expect(readFileSync(join(cwd, workspace, 'summary.md'), 'utf8')).toMatch(/\$4,039\.14/);

    const list = captureCliIo(cwd);
    expect(await main(['runs', 'list'], list.io)).toBe(0);
    expect(list.stdout()).toMatch(/expense-audit/);
    expect(list.stdout()).toMatch(/completed/);

    const json = captureCliIo(cwd);
    expect(await main(['runs', 'list', '--json'], json.io)).toBe(0);
    const runId = JSON.parse(json.stdout().trim().split('\n')[0] ?? '{}').id as string;
    const show = captureCliIo(cwd);
    expect(await main(['runs', 'show', runId], show.io)).toBe(0);
    expect(show.stdout()).toMatch(/tool:files\.write/);
    expect(show.stdout()).toMatch(/4 model calls, 3 tool calls/);

    const unknown = captureCliIo(cwd);
    expect(await main(['example', 'rocket'], unknown.io)).toBe(1);
    expect(unknown.stderr()).toBe(
      'hataraku: no example named "rocket"; the examples are: sales-report, expense-audit, restock, quarterly-brief.\n',
    );
  });

  it('prints events as JSON lines with --json', async () => {
    const cwd = directory();
    const run = captureCliIo(cwd);
    expect(await main(['example', 'expense-audit', '--json'], run.io)).toBe(0);
    const events = run
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string });
    expect(events[0]?.type).toBe('run-start');
    expect(events.at(-1)?.type).toBe('run-end');
    expect(events.some((event) => event.type === 'tool-call-end')).toBe(true);
  });

  it('says how to configure a model when none is configured', async () => {
    const run = captureCliIo(directory());
    expect(await main(['run', 'do something'], run.io)).toBe(1);
    expect(run.stderr()).toMatch(/^hataraku: no model configured: pass --model .*HATARAKU_MODEL/);
    expect(run.stderr().trim().split('\n')).toHaveLength(1);
  });

  it('rejects a bad flag value in one line naming the flag', async () => {
    const run = captureCliIo(directory());
    expect(await main(['run', 'x', '--model', 'scripted:a.json', '--budget', 'lots'], run.io)).toBe(1);
    expect(run.stderr()).toBe('hataraku: --budget must be a positive number, e.g. --budget 0.50 (got "lots").\n');
  });

  it('names the bad field of the config file', async () => {
    const cwd = directory();
    writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify({ limits: { maxSteps: 'ten' } }));
    const run = captureCliIo(cwd);
    expect(await main(['runs', 'list'], run.io)).toBe(1);
    expect(run.stderr()).toMatch(/^hataraku: hataraku\.config\.json: limits\.maxSteps .*\n$/);
  });

  it('names an unknown model provider and lists the known ones', async () => {
    const run = captureCliIo(directory());
    expect(await main(['run', 'x', '--model', 'nosuch:model'], run.io)).toBe(1);
    expect(run.stderr()).toMatch(/unknown provider "nosuch"; known providers: .*openai/);
  });

  it('says which key to set when the provider needs one', async () => {
    const run = captureCliIo(directory());
    expect(await main(['run', 'x', '--model', 'openai:gpt-4o-mini'], run.io)).toBe(1);
    expect(run.stderr()).toMatch(/set the environment variable OPENAI_API_KEY/);
  });

  it('reports a rejected key in one line naming provider, model and status', async () => {
    const server = await startFakeOpenAIServer([
      jsonReply(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }),
    ]);
    servers.push(server);
    const cwd = directory();
    const run = captureCliIo(cwd, { OPENAI_API_KEY: 'sk-wrong', OPENAI_BASE_URL: server.baseURL });
    expect(await main(['run', 'say hi', '--model', 'openai:gpt-4o-mini'], run.io)).toBe(1);
    expect(run.stderr()).toMatch(
      /^hataraku: openai:gpt-4o-mini: .* returned 401 .*API key was rejected; set OPENAI_API_KEY/m,
    );
    expect(server.requests).toHaveLength(1); // 401 is not retried
  });

  it('reports an unreachable endpoint in one line', async () => {
    const cwd = directory();
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({ providers: { ollama: { baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 } } }),
    );
    const run = captureCliIo(cwd);
    expect(await main(['run', 'say hi', '--model', 'ollama:qwen2.5:7b'], run.io)).toBe(1);
    expect(run.stderr()).toMatch(/^hataraku: ollama:qwen2\.5:7b: cannot reach http:\/\/127\.0\.0\.1:9\/v1/);
  });

  it('runs against an OpenAI-compatible endpoint, prices the call, and stops at the budget', async () => {
    const server = await startFakeOpenAIServer([completion('Hello!')]);
    servers.push(server);
    const cwd = directory();
    const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.baseURL };
    const run = captureCliIo(cwd, env);
    expect(await main(['run', 'say hi', '--model', 'openai:gpt-4o-mini', '--json'], run.io)).toBe(0);
    const end = JSON.parse(run.stdout().trim().split('\n').at(-1) ?? '{}');
    expect(end).toMatchObject({ type: 'run-end', status: 'completed', output: 'Hello!' });
    // gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens.
    expect(end.totals.costUsd).toBeCloseTo((120 * 0.15 + 8 * 0.6) / 1_000_000, 12);

    const broke = captureCliIo(cwd, env);
    expect(await main(['run', 'say hi', '--model', 'openai:gpt-4o-mini', '--budget', '0.000001'], broke.io)).toBe(2);
    expect(broke.stderr()).toMatch(/^hataraku: run \S+ stopped: the cost budget is exhausted/);
    expect(server.requests).toHaveLength(1); // the second run never called the model
  });

  it('resumes a finished run without calling the model again', async () => {
    const cwd = directory();
    const first = captureCliIo(cwd);
    await main(['example', 'expense-audit', '--json'], first.io);
    const runId = JSON.parse(first.stdout().split('\n')[0] ?? '{}').runId as string;
    const again = captureCliIo(cwd);
    expect(await main(['runs', 'resume', runId, '--json'], again.io)).toBe(0);
    const events = again.stdout().trim().split('\n');
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0] ?? '{}')).toMatchObject({ type: 'run-end', status: 'completed' });
  });

  it('works as an installed binary', () => {
    const binary = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    expect(existsSync(binary)).toBe(true);
    const cwd = directory();
    const result = spawnSync(process.execPath, [binary, 'runs', 'show', 'run_missing'], { cwd, encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('hataraku: no run with id run_missing; list runs with `hataraku runs list`.\n');
  });

  it('reports spend from the ledger with hataraku costs', async () => {
    const server = await startFakeOpenAIServer([completion('Hello!')]);
    servers.push(server);
    const cwd = directory();
    const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.baseURL };
    await main(
      ['run', 'say hi', '--model', 'openai:gpt-4o-mini', '--tenant', 'acme', '--json'],
      captureCliIo(cwd, env).io,
    );

    const byModel = captureCliIo(cwd, env);
    expect(await main(['costs', '--json'], byModel.io)).toBe(0);
    const row = JSON.parse(byModel.stdout().trim());
    expect(row).toMatchObject({ by: 'model', key: 'openai:gpt-4o-mini', calls: 1, inputTokens: 120, outputTokens: 8 });
    expect(row.costUsd).toBeCloseTo((120 * 0.15 + 8 * 0.6) / 1_000_000, 12);

    const byTenant = captureCliIo(cwd, env);
    expect(await main(['costs', '--by', 'tenant', '--since', '7d'], byTenant.io)).toBe(0);
    expect(byTenant.stdout()).toMatch(/^TENANT\s+CALLS/m);
    expect(byTenant.stdout()).toMatch(/^acme\s+1\s+120\s+0\s+8\s+\$0\.000023/m);

    const bad = captureCliIo(cwd, env);
    expect(await main(['costs', '--by', 'planet'], bad.io)).toBe(1);
    expect(bad.stderr()).toBe('hataraku: --by must be one of model, agent, day, run, tenant (got "planet").\n');
  });

  it('runs through a configured fallback route when the first upstream answers 429 and 500', async () => {
    const failing = await startFakeOpenAIServer([
      jsonReply(429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '0' }),
      jsonReply(500, { error: { message: 'Internal error' } }),
    ]);
    const healthy = await startFakeOpenAIServer([completion('Hello from the backup!')]);
    servers.push(failing, healthy);
    const cwd = directory();
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        providers: {
          openai: { baseURL: failing.baseURL, maxRetries: 1 },
          backup: { type: 'openai', baseURL: healthy.baseURL, apiKeyEnv: 'BACKUP_KEY' },
        },
        prices: { 'backup:small': { inputPerMillion: 0.1, outputPerMillion: 0.2 } },
        routes: { resilient: { type: 'fallback', models: ['openai:gpt-4o-mini', 'backup:small'] } },
      }),
    );
    const run = captureCliIo(cwd, { OPENAI_API_KEY: 'sk-a', BACKUP_KEY: 'sk-b' });
    expect(await main(['run', 'say hi', '--model', 'route:resilient', '--json'], run.io)).toBe(0);
    const events = run
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; model?: string; reason?: string; output?: string });
    expect(failing.requests).toHaveLength(2); // 429, retried once, then 500
    expect(healthy.requests).toHaveLength(1);
    const routing = events.filter((event) => event.type === 'routing');
    expect(routing.at(-1)?.model).toBe('backup:small');
    expect(routing.map((event) => event.reason).join(' ')).toMatch(/openai:gpt-4o-mini/);
    expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'completed', output: 'Hello from the backup!' });
    const costs = captureCliIo(cwd, { OPENAI_API_KEY: 'sk-a', BACKUP_KEY: 'sk-b' });
    await main(['costs', '--json'], costs.io);
    expect(JSON.parse(costs.stdout().trim())).toMatchObject({ key: 'backup:small', calls: 1 });
  });

  it('offloads large tool results to the workspace when the config asks for it', async () => {
    const cwd = directory();
    writeFileSync(join(cwd, 'big.txt'), Array.from({ length: 4000 }, (_, line) => `line ${line}`).join('\n'));
    writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify({ context: { offload: { maxCharacters: 2000 } } }));
    writeFileSync(
      join(cwd, 'read.json'),
      JSON.stringify({
        version: 1,
        turns: [{ toolCalls: [{ name: 'files.read', arguments: { path: 'big.txt' } }] }, { text: 'done' }],
      }),
    );
    const run = captureCliIo(cwd);
    expect(await main(['run', 'read big.txt', '--model', 'scripted:read.json'], run.io)).toBe(0);
    const offloaded = readdirSync(join(cwd, '.hataraku-results', 'tool-results'), { recursive: true }).filter((name) =>
      String(name).endsWith('.txt'),
    );
    expect(offloaded).toHaveLength(1);
  });

  it('a worker picks up a waiting run once it is approved, with no other process running', async () => {
    const cwd = directory();
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({ policies: [{ tool: 'files.write', action: 'ask' }] }),
    );
    writeFileSync(
      join(cwd, 'pay.json'),
      JSON.stringify({
        version: 1,
        turns: [
          { toolCalls: [{ name: 'files.write', arguments: { path: 'paid.txt', content: 'paid' } }] },
          { text: 'Paid.' },
        ],
      }),
    );
    const first = captureCliIo(cwd);
    expect(await main(['run', 'pay', '--model', 'scripted:pay.json', '--no-wait'], first.io)).toBe(3);
    const runId = /run (run_\w+)/.exec(first.stdout())?.[1] as string;

    const idle = captureCliIo(cwd);
    expect(await main(['worker', '--once'], idle.io)).toBe(0);
    expect(existsSync(join(cwd, 'paid.txt'))).toBe(false); // still waiting: nothing to recover

    await main(['runs', 'approve', runId], captureCliIo(cwd).io);
    const worker = captureCliIo(cwd);
    expect(await main(['worker', '--once'], worker.io)).toBe(0);
    expect(worker.stdout()).toMatch(new RegExp(`${runId} completed \\(final-answer\\)`));
    expect(readFileSync(join(cwd, 'paid.txt'), 'utf8')).toBe('paid');
  });
});
