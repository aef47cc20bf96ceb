/**
 * `hataraku run` and `hataraku example` with a local model, end to end: the built CLI in a
 * subprocess, a tiny GGUF written here, real tools over a real workspace, and the ledger.
 *
 * The model's weights are random; its output layer favours `{"` (so it always takes the call
 * branch of the call-or-text grammar) and JSON punctuation (so strings close soon). Generation
 * is greedy, so the fixture is deterministic: with seed 6 it calls `files.list` on the
 * directory `{`, which the test creates.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terminatingPreferences } from './__fixtures__/tiny-models.js';
import { writeTinyLlama } from './tiny-model/tiny-llama.js';

const binary = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
let directory: string;

function hataraku(cwd: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [binary, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', HATARAKU_MODELS_DIR: join(cwd, 'models'), ...env },
  });
}

function writeConfig(cwd: string, local: Record<string, unknown>) {
  writeFileSync(
    join(cwd, 'hataraku.config.json'),
    JSON.stringify({ tools: { enabled: ['files'] }, local: { threads: 1, gpu: 'cpu', contextSize: 8192, ...local } }),
  );
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'hataraku-local-run-'));
  writeTinyLlama(join(directory, 'caller.gguf'), { preferences: { ...terminatingPreferences, '{"': 8 }, seed: 6 });
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('hataraku run with a local model', () => {
  it('runs the model in process, calls a tool with valid arguments, and prices the calls from measured throughput', () => {
    const cwd = join(directory, 'priced');
    mkdirSync(join(cwd, '{'), { recursive: true });
    writeFileSync(join(cwd, '{', 'notes.txt'), 'hello');
    writeConfig(cwd, { usdPerCpuHour: 0.05 });
    const result = hataraku(cwd, [
      'run',
      'List the files',
      '--model',
      `local:${join(directory, 'caller.gguf')}`,
      '--max-steps',
      '3',
      '--json',
    ]);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const calls = events.filter((event) => event.type === 'tool-call-end');
    expect(calls.length, result.stderr).toBeGreaterThan(0);
    expect(calls[0]).toMatchObject({ toolName: 'files.list', isError: false, output: '{/notes.txt (5 bytes)' });
    const usages = events.filter((event) => event.type === 'usage') as Array<{
      costUsd: number | null;
      usage: { inputTokens: number };
    }>;
    expect(usages.length).toBeGreaterThan(0);
    for (const usage of usages) {
      expect(usage.usage.inputTokens).toBeGreaterThan(100);
      expect(usage.costUsd).toBeGreaterThan(0);
    }
    const end = events.find((event) => event.type === 'run-end') as { totals: { unpricedModelCalls: number } };
    expect(end.totals.unpricedModelCalls).toBe(0);
    const throughput = JSON.parse(readFileSync(join(cwd, 'models', 'throughput.json'), 'utf8')) as Record<
      string,
      { calls: number; device: string }
    >;
    expect(Object.values(throughput)[0]).toMatchObject({ device: 'cpu', calls: usages.length });
    const costs = hataraku(cwd, ['costs', '--json']);
    const row = JSON.parse(costs.stdout.trim().split('\n')[0] ?? '{}') as {
      model: string;
      costUsd: number;
      unpricedCalls: number;
    };
    expect(row).toMatchObject({ unpricedCalls: 0 });
    expect(row.costUsd).toBeGreaterThan(0);
  });

  it('leaves the cost unknown, not zero, when no hourly price is configured', () => {
    const cwd = join(directory, 'unpriced');
    mkdirSync(join(cwd, '{'), { recursive: true });
    writeConfig(cwd, {});
    const result = hataraku(cwd, [
      'run',
      'List the files',
      '--model',
      `local:${join(directory, 'caller.gguf')}`,
      '--max-steps',
      '1',
      '--json',
    ]);
    const usage = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { type: string; costUsd?: number | null })
      .find((event) => event.type === 'usage');
    expect(usage?.costUsd ?? null).toBeNull();
  });

  it('names the cache and how to pull a model when an alias is not cached', () => {
    const cwd = join(directory, 'missing');
    mkdirSync(cwd, { recursive: true });
    const result = hataraku(cwd, ['run', 'hi', '--model', 'local:qwen2.5-0.5b-instruct-q4_k_m']);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^hataraku: local:qwen2\.5-0\.5b-instruct-q4_k_m: no model "qwen2\.5-0\.5b-instruct-q4_k_m" in the cache .*hataraku models pull/,
    );
  });
});

describe('npm start (hataraku example) with a cached local model', () => {
  it('uses the cached model when no model is configured, and says which', () => {
    const cwd = join(directory, 'example');
    mkdirSync(join(cwd, 'models'), { recursive: true });
    // End-of-turn first: the example's run ends after one short answer.
    writeTinyLlama(join(cwd, 'models', 'tiny-chat.gguf'), { preferences: { '<|im_end|>': 9 }, seed: 1 });
    writeConfig(cwd, { contextSize: 16384 });
    const listed = hataraku(cwd, ['models', 'list']);
    expect(listed.stdout).toContain('local:tiny-chat');
    const result = hataraku(cwd, ['example']);
    expect(result.stdout).toContain('No model configured: using local:tiny-chat from the model cache');
    expect(result.stdout).toContain('model local:tiny-chat');
  });
});
