import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'hataraku-local-config-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const load = (file: unknown, env: Record<string, string> = {}) => {
  writeFileSync(path.join(directory, 'hataraku.config.json'), JSON.stringify(file));
  return loadConfig({ cwd: directory, env });
};

describe('the "local" section', () => {
  it('defaults to half the logical cores, the user cache folder and no hourly price', () => {
    const config = loadConfig({ cwd: directory, env: { HOME: '/home/ada' } });
    expect(config.local).toEqual({
      modelsDirectory: '/home/ada/.cache/hataraku/models',
      threads: Math.max(1, Math.floor(os.availableParallelism() / 2)),
      contextSize: 4096,
      gpu: 'auto',
      gpuLayers: 'auto',
      idleUnloadMs: 300_000,
      usdPerCpuHour: undefined,
      usdPerGpuHour: undefined,
    });
    expect(loadConfig({ cwd: directory, env: { XDG_CACHE_HOME: '/cache' } }).local.modelsDirectory).toBe(
      '/cache/hataraku/models',
    );
  });

  it('reads the settings, with the models folder relative to the file and HATARAKU_MODELS_DIR overriding it', () => {
    const file = {
      local: { modelsDir: 'models', threads: 2, contextSize: 8192, gpu: 'cpu', gpuLayers: 20, usdPerCpuHour: 0.04 },
    };
    expect(load(file).local).toMatchObject({
      modelsDirectory: path.join(directory, 'models'),
      threads: 2,
      contextSize: 8192,
      gpu: 'cpu',
      gpuLayers: 20,
      usdPerCpuHour: 0.04,
    });
    expect(load(file, { HATARAKU_MODELS_DIR: '/elsewhere' }).local.modelsDirectory).toBe('/elsewhere');
  });

  it('accepts local: model names', () => {
    expect(load({ model: 'local:qwen2.5-0.5b-instruct-q4_k_m' }).model).toBe('local:qwen2.5-0.5b-instruct-q4_k_m');
  });

  it('rejects bad settings in one line naming the field', () => {
    expect(() => load({ local: { threads: 0 } })).toThrow(/local\.threads.*positive integer/);
    expect(() => load({ local: { gpuLayers: 'all' } })).toThrow(
      /local\.gpuLayers.*a number of layers, "auto" or "max"/,
    );
    expect(() => load({ local: { thread: 2 } })).toThrow(/thread/);
  });
});
