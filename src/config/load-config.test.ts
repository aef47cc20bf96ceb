import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { protectedPathsFor } from '../toolchain/builtin-tools.js';
import { loadConfig } from './load-config.js';

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'hataraku-config-'));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function writeConfig(contents: unknown, name = 'hataraku.config.json'): string {
  const file = path.join(directory, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, typeof contents === 'string' ? contents : JSON.stringify(contents, null, 2));
  return file;
}

/** The message of the UserError that loading throws; fails the test if nothing is thrown. */
function loadError(env: Record<string, string> = {}, configPath?: string): UserError {
  try {
    loadConfig({ cwd: directory, env, configPath });
  } catch (caught) {
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).code).toBe('config_invalid');
    return caught as UserError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig without a file', () => {
  it('resolves the built-in presets and defaults', () => {
    const config = loadConfig({ cwd: directory, env: {} });
    expect(config.configPath).toBeUndefined();
    expect(config.model).toBeUndefined();
    expect(config.journal.path).toBe(path.join(directory, '.hataraku/hataraku.db'));
    expect(config.workspace).toBe(directory);
    expect(config.limits).toEqual({});
    expect(config.prices).toEqual({});
    expect(Object.keys(config.providers)).toEqual([
      'openai',
      'anthropic',
      'ollama',
      'deepseek',
      'groq',
      'openrouter',
      'llamacpp',
      'vllm',
    ]);
    expect(config.providers.openai).toEqual({
      id: 'openai',
      type: 'openai',
      baseURL: 'https://api.openai.com/v1',
      apiKey: undefined,
      apiKeyEnv: 'OPENAI_API_KEY',
      headers: {},
      timeoutMs: 120_000,
      maxRetries: 2,
    });
    expect(config.providers.anthropic?.type).toBe('anthropic');
    expect(config.providers.ollama).toMatchObject({ baseURL: 'http://localhost:11434/v1', apiKeyEnv: undefined });
    expect(config.providers.deepseek?.baseURL).toBe('https://api.deepseek.com/v1');
    expect(config.providers.groq?.baseURL).toBe('https://api.groq.com/openai/v1');
    expect(config.providers.openrouter?.baseURL).toBe('https://openrouter.ai/api/v1');
    expect(config.providers.llamacpp?.baseURL).toBe('http://localhost:8080/v1');
    expect(config.providers.vllm?.baseURL).toBe('http://localhost:8000/v1');
  });

  it('fills keys, addresses, the model and the journal path from the environment', () => {
    const config = loadConfig({
      cwd: directory,
      env: {
        OPENAI_API_KEY: 'sk-test',
        ANTHROPIC_API_KEY: 'ant-test',
        DEEPSEEK_API_KEY: 'ds-test',
        GROQ_API_KEY: 'gq-test',
        OPENROUTER_API_KEY: 'or-test',
        OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1/',
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:9998/v1',
        OLLAMA_BASE_URL: 'http://gpu-box:11434/v1',
        HATARAKU_MODEL: 'ollama:qwen2.5:7b',
        HATARAKU_DB: 'data/runs.db',
      },
    });
    expect(config.providers.openai).toMatchObject({ apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9999/v1' });
    expect(config.providers.anthropic).toMatchObject({ apiKey: 'ant-test', baseURL: 'http://127.0.0.1:9998/v1' });
    expect(config.providers.deepseek?.apiKey).toBe('ds-test');
    expect(config.providers.groq?.apiKey).toBe('gq-test');
    expect(config.providers.openrouter?.apiKey).toBe('or-test');
    expect(config.providers.ollama?.baseURL).toBe('http://gpu-box:11434/v1');
    expect(config.model).toBe('ollama:qwen2.5:7b');
    expect(config.journal.path).toBe(path.join(directory, 'data/runs.db'));
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({ cwd: directory, env: { OPENAI_API_KEY: '', HATARAKU_MODEL: '' } });
    expect(config.providers.openai?.apiKey).toBeUndefined();
    expect(config.model).toBeUndefined();
  });

  it('rejects a base URL variable that is not an http(s) URL', () => {
    expect(loadError({ OLLAMA_BASE_URL: 'localhost:11434' }).message).toBe(
      'OLLAMA_BASE_URL: must be an http(s) URL (got "localhost:11434")',
    );
  });

  it('rejects HATARAKU_MODEL without a provider', () => {
    expect(loadError({ HATARAKU_MODEL: 'gpt-4o-mini' }).message).toMatch(
      /^HATARAKU_MODEL: model name "gpt-4o-mini" has no provider; write it as provider:model/,
    );
  });

  it('rejects HATARAKU_MODEL naming an unknown provider', () => {
    expect(loadError({ HATARAKU_MODEL: 'together:llama' }).message).toMatch(
      /^HATARAKU_MODEL: model "together:llama" names unknown provider "together"; known providers: openai, .*scripted, local$/,
    );
  });
});

describe('loadConfig with a file', () => {
  it('reads hataraku.config.json from the working directory and merges it over the presets', () => {
    const file = writeConfig({
      model: 'openai:gpt-4o-mini',
      providers: {
        openai: { baseURL: 'https://proxy.example.com/v1', headers: { 'x-team': 'agents' }, timeoutMs: 5000 },
        ollama: { maxRetries: 0 },
        together: { type: 'openai', baseURL: 'https://api.together.xyz/v1', apiKeyEnv: 'TOGETHER_API_KEY' },
      },
      prices: {
        'ollama:qwen2.5:7b': { inputPerMillion: 0, outputPerMillion: 0 },
        'openai:ft': { inputPerMillion: 0.3, outputPerMillion: 1.2, cachedInputPerMillion: 0.15 },
        'self:llama': { usdPerGpuHour: 2.5, tokensPerSecond: 1500 },
      },
      journal: { path: 'state/journal.db' },
      limits: { maxSteps: 20, maxTokens: 100_000, maxCostUsd: 0.5, maxWallTimeMs: 60_000 },
      workspace: 'work',
    });
    const config = loadConfig({ cwd: directory, env: { TOGETHER_API_KEY: 'tg-key' } });
    expect(config.configPath).toBe(file);
    expect(config.model).toBe('openai:gpt-4o-mini');
    expect(config.providers.openai).toMatchObject({
      baseURL: 'https://proxy.example.com/v1',
      headers: { 'x-team': 'agents' },
      timeoutMs: 5000,
      maxRetries: 2,
      apiKeyEnv: 'OPENAI_API_KEY',
    });
    expect(config.providers.ollama).toMatchObject({ maxRetries: 0, baseURL: 'http://localhost:11434/v1' });
    expect(config.providers.together).toEqual({
      id: 'together',
      type: 'openai',
      baseURL: 'https://api.together.xyz/v1',
      apiKey: 'tg-key',
      apiKeyEnv: 'TOGETHER_API_KEY',
      headers: {},
      timeoutMs: 120_000,
      maxRetries: 2,
    });
    expect(config.prices).toEqual({
      'ollama:qwen2.5:7b': { inputPerMillion: 0, outputPerMillion: 0 },
      'openai:ft': { inputPerMillion: 0.3, outputPerMillion: 1.2, cachedInputPerMillion: 0.15 },
      'self:llama': { usdPerGpuHour: 2.5, tokensPerSecond: 1500 },
    });
    expect(config.journal.path).toBe(path.join(directory, 'state/journal.db'));
    expect(config.limits).toEqual({ maxSteps: 20, maxTokens: 100_000, maxCostUsd: 0.5, maxWallTimeMs: 60_000 });
    expect(config.workspace).toBe(path.join(directory, 'work'));
  });

  it('lets the environment override the file', () => {
    writeConfig({
      model: 'openai:gpt-4o-mini',
      journal: { path: 'file.db' },
      providers: { openai: { baseURL: 'https://proxy.example.com/v1' } },
    });
    const config = loadConfig({
      cwd: directory,
      env: {
        HATARAKU_MODEL: 'anthropic:claude-3-5-haiku-latest',
        HATARAKU_DB: 'env.db',
        OPENAI_BASE_URL: 'http://localhost:1/v1',
      },
    });
    expect(config.model).toBe('anthropic:claude-3-5-haiku-latest');
    expect(config.journal.path).toBe(path.join(directory, 'env.db'));
    expect(config.providers.openai?.baseURL).toBe('http://localhost:1/v1');
  });

  it('still rejects a bad model in the file when the environment overrides it', () => {
    writeConfig({ model: 'gpt-4o-mini' });
    expect(loadError({ HATARAKU_MODEL: 'openai:gpt-4o-mini' }).message).toMatch(
      /^hataraku\.config\.json: model name "gpt-4o-mini" has no provider/,
    );
  });

  it('reads the file named by configPath or HATARAKU_CONFIG, with paths relative to that file', () => {
    const file = writeConfig(
      { model: 'ollama:llama3', workspace: '.', journal: { path: 'j.db' } },
      'settings/team.json',
    );
    writeConfig({}, 'settings/empty.json');
    expect(loadConfig({ cwd: directory, env: {}, configPath: 'settings/empty.json' }).journal.path).toBe(
      path.join(directory, '.hataraku/hataraku.db'),
    );
    const fromOption = loadConfig({ cwd: directory, env: {}, configPath: 'settings/team.json' });
    expect(fromOption.configPath).toBe(file);
    expect(fromOption.model).toBe('ollama:llama3');
    expect(fromOption.workspace).toBe(path.join(directory, 'settings'));
    expect(fromOption.journal.path).toBe(path.join(directory, 'settings/j.db'));
    const fromEnv = loadConfig({ cwd: directory, env: { HATARAKU_CONFIG: file } });
    expect(fromEnv.configPath).toBe(file);
  });

  it('prefers configPath over HATARAKU_CONFIG', () => {
    writeConfig({ model: 'openai:a' }, 'a.json');
    writeConfig({ model: 'openai:b' }, 'b.json');
    expect(loadConfig({ cwd: directory, env: { HATARAKU_CONFIG: 'a.json' }, configPath: 'b.json' }).model).toBe(
      'openai:b',
    );
  });

  it('requires a file that was named explicitly to exist', () => {
    expect(loadError({}, 'missing.json').message).toBe('missing.json: config file not found');
    expect(loadError({ HATARAKU_CONFIG: 'gone.json' }).message).toBe('gone.json: config file not found');
  });
});

describe('loadConfig errors', () => {
  it('names the field and the offending value', () => {
    writeConfig({ limits: { maxSteps: 'ten' } });
    expect(loadError().message).toBe('hataraku.config.json: limits.maxSteps must be a positive integer (got "ten")');
  });

  it('rejects fractional and negative counts', () => {
    writeConfig({ limits: { maxSteps: 2.5 } });
    expect(loadError().message).toBe('hataraku.config.json: limits.maxSteps must be a positive integer (got 2.5)');
    writeConfig({ providers: { openai: { timeoutMs: -1 } } });
    expect(loadError().message).toBe(
      'hataraku.config.json: providers.openai.timeoutMs must be a positive integer (got -1)',
    );
  });

  it('suggests the key an unknown top-level key was probably meant to be', () => {
    writeConfig({ modle: 'openai:gpt-4o-mini' });
    const error = loadError();
    expect(error.message).toBe('hataraku.config.json: unknown top-level key "modle" (did you mean "model"?)');
    expect(error.details).toMatchObject({ path: 'modle' });
  });

  it('lists the known keys when nothing is close', () => {
    writeConfig({ temperature: 0.2 });
    expect(loadError().message).toBe(
      'hataraku.config.json: unknown top-level key "temperature"; known keys: model, providers, prices, journal, limits, routes, context, cache, tools, budgets, policies, workspace, connectors, local, agents',
    );
  });

  it('reports a misspelt nested key before the missing field it causes', () => {
    writeConfig({ prices: { 'openai:ft': { inputPerMilion: 1, outputPerMillion: 2 } } });
    expect(loadError().message).toMatch(
      /^hataraku\.config\.json: unknown key in prices\["openai:ft"\]: "inputPerMilion" \(did you mean "inputPerMillion"\?\)/,
    );
    writeConfig({ limits: { maxStep: 3 } });
    expect(loadError().message).toBe(
      'hataraku.config.json: unknown key in limits: "maxStep" (did you mean "maxSteps"?)',
    );
  });

  it('rejects an API key written into the file, without echoing it', () => {
    writeConfig({ providers: { openai: { apiKey: 'sk-secret-123' } } });
    const keyError = loadError();
    expect(keyError.message).toBe(
      'hataraku.config.json: unknown key in providers.openai: "apiKey" (did you mean "apiKeyEnv"?)',
    );
    writeConfig({ providers: { openai: { apiKeyEnv: 'sk-secret-123' } } });
    const envError = loadError();
    expect(envError.message).toMatch(
      /^hataraku\.config\.json: providers\.openai\.apiKeyEnv must be the name of an environment variable/,
    );
    expect(envError.message).not.toContain('sk-secret-123');
  });

  it('explains a price entry against the form it resembles', () => {
    writeConfig({ prices: { 'self:llama': { usdPerGpuHour: 2.5 } } });
    expect(loadError().message).toBe(
      'hataraku.config.json: prices["self:llama"].tokensPerSecond must be a positive number (missing)',
    );
    writeConfig({ prices: { 'openai:ft': { inputPerMillion: 1, outputPerMillion: 'cheap' } } });
    expect(loadError().message).toBe(
      'hataraku.config.json: prices["openai:ft"].outputPerMillion must be a non-negative number (got "cheap")',
    );
    writeConfig({ prices: { 'openai:ft': 0.5 } });
    expect(loadError().message).toMatch(/^hataraku\.config\.json: prices\["openai:ft"\] must be an object such as /);
  });

  it('rejects a price key that is not a model name', () => {
    writeConfig({ prices: { qwen: { inputPerMillion: 0, outputPerMillion: 0 } } });
    expect(loadError().message).toMatch(/^hataraku\.config\.json: prices\.qwen: model name "qwen" has no provider/);
  });

  it('rejects a model with an unknown provider, but accepts a configured one', () => {
    writeConfig({ model: 'together:llama' });
    expect(loadError().message).toMatch(
      /^hataraku\.config\.json: model "together:llama" names unknown provider "together"/,
    );
    writeConfig({
      model: 'together:llama',
      providers: { together: { type: 'openai', baseURL: 'https://api.together.xyz/v1' } },
    });
    expect(loadConfig({ cwd: directory, env: {} }).model).toBe('together:llama');
  });

  it('requires type and baseURL for a provider that is not built in', () => {
    writeConfig({ providers: { together: { baseURL: 'https://api.together.xyz/v1' } } });
    expect(loadError().message).toBe(
      'hataraku.config.json: providers.together.type must be "openai" or "anthropic" for a provider that is not built in (missing)',
    );
    writeConfig({ providers: { together: { type: 'openai' } } });
    expect(loadError().message).toBe(
      'hataraku.config.json: providers.together.baseURL must be an http(s) URL for a provider that is not built in (missing)',
    );
  });

  it('refuses to change the protocol of a built-in provider', () => {
    writeConfig({ providers: { ollama: { type: 'anthropic' } } });
    expect(loadError().message).toMatch(
      /^hataraku\.config\.json: providers\.ollama\.type must be "openai" for the built-in provider ollama/,
    );
  });

  it('rejects a provider id with a colon', () => {
    writeConfig({ providers: { 'my:proxy': { type: 'openai', baseURL: 'http://localhost:1/v1' } } });
    expect(loadError().message).toMatch(/invalid provider id "my:proxy"/);
  });

  it('rejects a base URL that is not http(s)', () => {
    writeConfig({ providers: { vllm: { baseURL: 'ftp://gpu/v1' } } });
    expect(loadError().message).toBe(
      'hataraku.config.json: providers.vllm.baseURL must be an http(s) URL (got "ftp://gpu/v1")',
    );
  });

  it('names the line and column of invalid JSON', () => {
    writeConfig('{\n  "model": "openai:gpt-4o-mini",\n  "limits": { "maxSteps": 3, }\n}\n');
    expect(loadError().message).toBe(
      'hataraku.config.json: invalid JSON at line 3, column 30: Expected double-quoted property name',
    );
    writeConfig('{\n  "model": "openai:gpt-4o-mini"\n');
    expect(loadError().message).toMatch(/^hataraku\.config\.json: invalid JSON at line 3, column 1: /);
  });

  it('requires the file to hold an object', () => {
    writeConfig('[1, 2]');
    expect(loadError().message).toBe('hataraku.config.json: must contain a JSON object (got an array)');
  });

  it('counts the problems it does not spell out', () => {
    writeConfig({ limits: { maxSteps: 0, maxTokens: 'many' } });
    expect(loadError().message).toBe(
      'hataraku.config.json: limits.maxSteps must be a positive integer (got 0) (and 1 more problem)',
    );
  });

  it('names a config file outside the working directory by its absolute path', () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'hataraku-other-'));
    try {
      const file = path.join(outside, 'x.json');
      writeFileSync(file, '{"limits": {"maxSteps": "ten"}}');
      expect(loadError({}, file).message).toBe(`${file}: limits.maxSteps must be a positive integer (got "ten")`);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('tools, budgets and policies in the config file', () => {
  it('resolves secrets from the environment and never keeps the variable name as the value', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'hataraku-tools-config-'));
    writeFileSync(
      path.join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        tools: {
          enabled: ['files', 'http'],
          http: {
            allowHosts: ['api.github.com'],
            secrets: { GITHUB: { env: 'GITHUB_TOKEN', header: 'Authorization', format: 'Bearer {value}' } },
          },
        },
        budgets: [{ scope: 'tenant', period: 'day', limitUsd: 5 }],
        policies: [{ tool: 'http.request', action: 'ask', when: { path: 'method', ne: 'GET' } }],
      }),
    );
    const config = loadConfig({ cwd, env: { GITHUB_TOKEN: 'ghp_secret' } });
    expect(config.tools.enabled).toEqual(['files', 'http']);
    expect(config.tools.http.secrets.GITHUB).toEqual({
      value: 'ghp_secret',
      header: 'Authorization',
      format: 'Bearer {value}',
    });
    expect(config.budgets).toEqual([{ scope: 'tenant', period: 'day', limitUsd: 5 }]);
    expect(config.policies[0]).toMatchObject({ tool: 'http.request', action: 'ask' });
    expect(() => loadConfig({ cwd, env: {} })).toThrow(
      /tools\.http\.secrets\.GITHUB: the environment variable GITHUB_TOKEN is not set/,
    );
  });

  it('adds configured protected paths and the journal, cache and config files inside the workspace', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'hataraku-tools-config-'));
    writeFileSync(
      path.join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        tools: { protectedPaths: ['secrets/', '*.pem'] },
        journal: { path: 'state/journal.db' },
        cache: { enabled: true },
      }),
    );
    const config = loadConfig({ cwd, env: {} });
    expect(config.tools.protectedPaths).toEqual([
      'secrets/',
      '*.pem',
      'state/journal.db*',
      'state/cache.db*',
      'hataraku.config.json*',
    ]);
    const tools = protectedPathsFor(config.tools);
    for (const protectedPath of ['.git/config', '.env', 'secrets/key', 'a/server.pem', 'state/journal.db-wal']) {
      expect(tools.isProtected(protectedPath), protectedPath).toBe(true);
    }
    expect(tools.isProtected('state/notes.txt')).toBe(false);
  });

  it('refuses a protected path that is absolute or climbs out', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'hataraku-tools-config-'));
    writeFileSync(path.join(cwd, 'hataraku.config.json'), JSON.stringify({ tools: { protectedPaths: ['../x'] } }));
    expect(() => loadConfig({ cwd, env: {} })).toThrow(/tools\.protectedPaths.*without "\.\."/);
  });

  it("reads the data tools' memory and spill limits and code.run's write limit, and names a bad size", () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'hataraku-tools-config-'));
    writeFileSync(
      path.join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        tools: { data: { memoryLimit: '512MB', maxTempDirectorySize: '4GB' }, code: { maxWriteBytes: 50_000_000 } },
      }),
    );
    expect(loadConfig({ cwd, env: {} }).tools.data).toEqual({ memoryLimit: '512MB', maxTempDirectorySize: '4GB' });
    expect(loadConfig({ cwd, env: {} }).tools.code).toEqual({ maxWriteBytes: 50_000_000 });
    writeFileSync(
      path.join(cwd, 'hataraku.config.json'),
      JSON.stringify({ tools: { data: { maxTempDirectorySize: 'lots' } } }),
    );
    expect(() => loadConfig({ cwd, env: {} })).toThrow(/tools\.data\.maxTempDirectorySize.*a size such as "512MB"/);
  });

  it('names a bad tool group and a bad policy action', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'hataraku-tools-config-'));
    writeFileSync(path.join(cwd, 'hataraku.config.json'), JSON.stringify({ tools: { enabled: ['files', 'rocket'] } }));
    expect(() => loadConfig({ cwd, env: {} })).toThrow(/tools\.enabled\[1\]|tools\.enabled\.1/);
    writeFileSync(
      path.join(cwd, 'hataraku.config.json'),
      JSON.stringify({ policies: [{ tool: 'x', action: 'maybe' }] }),
    );
    expect(() => loadConfig({ cwd, env: {} })).toThrow(/policies\[0\]\.action|policies\.0\.action/);
  });
});

describe('journal durability', () => {
  it('takes journal.durability from the file, and leaves it to the journal (process) when unset', () => {
    writeConfig({ journal: { durability: 'power' } });
    expect(loadConfig({ cwd: directory, env: {} }).journal.durability).toBe('power');
    writeConfig({});
    expect(loadConfig({ cwd: directory, env: {} }).journal.durability).toBeUndefined();
  });

  it('rejects another value in one line that names the choices', () => {
    writeConfig({ journal: { durability: 'disk' } });
    expect(loadError().message).toMatch(/journal\.durability.*"process" or "power"/);
  });
});

describe('a PostgreSQL journal', () => {
  it('takes journal.url from the file, and HATARAKU_DATABASE_URL over it', () => {
    writeConfig({ journal: { url: 'postgres://hataraku@db.internal:5432/runs' } });
    expect(loadConfig({ cwd: directory, env: {} }).journal.url).toBe('postgres://hataraku@db.internal:5432/runs');
    const fromEnvironment = loadConfig({
      cwd: directory,
      env: { HATARAKU_DATABASE_URL: 'postgresql://worker:secret@10.0.0.5/hataraku' },
    });
    expect(fromEnvironment.journal.url).toBe('postgresql://worker:secret@10.0.0.5/hataraku');
  });

  it('is off by default: the SQLite file is the journal', () => {
    expect(loadConfig({ cwd: directory, env: {} }).journal.url).toBeUndefined();
  });

  it('rejects a URL that is not PostgreSQL in one line, without echoing the value', () => {
    writeConfig({ journal: { url: 'mysql://root@db/hataraku' } });
    expect(loadError().message).toMatch(
      /^hataraku\.config\.json: journal\.url must be a PostgreSQL URL such as "postgres:\/\//,
    );
    writeConfig({});
    const error = loadError({ HATARAKU_DATABASE_URL: 'db.internal:5432 password=hunter2' });
    expect(error.message).toBe(
      'HATARAKU_DATABASE_URL: must be a PostgreSQL URL such as "postgres://hataraku@db.internal:5432/hataraku" (value hidden)',
    );
    expect(error.message).not.toContain('hunter2');
  });
});
