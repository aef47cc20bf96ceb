/**
 * Loading the configuration: built-in provider presets, then `hataraku.config.json`, then
 * environment variables, each overriding the one before. The file is validated once here;
 * everything after works with the resolved, typed `HatarakuConfig`.
 *
 * The environment is passed in rather than read from `process.env`, so that only the CLI edge
 * touches the process and tests can load any configuration they like.
 */

import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ToolPolicy } from '../agent/policy.js';
import type { BudgetRule } from '../agent/run-costs.js';
import type { PriceOverride } from '../cost/override-source.js';
import type { JournalDurability } from '../engine/durability.js';
import { HatarakuError } from '../errors.js';
import { configError, configFieldError, configIssuesError, formatFieldPath } from './config-error.js';
import {
  type ConfigFile,
  configFileSchema,
  type ProviderEntry,
  postgresUrlExpected,
  providerIdPattern,
  type toolGroupNames,
} from './config-schema.js';
import { type ConnectorsConfig, resolveConnectors } from './connectors-settings.js';
import { type ModelName, parseModelName } from './model-name.js';
import {
  defaultMaxRetries,
  defaultTimeoutMs,
  localModelProviders,
  type ProviderPreset,
  providerPresets,
} from './provider-presets.js';
import type { ProviderSettings } from './provider-settings.js';

/** The name looked for in the working directory when no path is given. */
export const configFileName = 'hataraku.config.json';
/** Where the journal lives unless configured, relative to the working directory. */
export const defaultJournalPath = '.hataraku/hataraku.db';

/** Environment variables, as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Directory that relative paths from the environment, and the default file, are taken from. */
  cwd: string;
  env: Environment;
  /** Config file to read (e.g. from `--config`); overrides `HATARAKU_CONFIG`. Must exist. */
  configPath?: string | undefined;
}

/** Limits on one run; unset limits are left to the run's defaults. */
export interface RunLimits {
  maxSteps?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  maxWallTimeMs?: number;
}

/** The resolved configuration. Paths are absolute. */
export interface HatarakuConfig {
  /** The config file that was read, or undefined when there was none. */
  configPath: string | undefined;
  /** Default model name (`provider:modelId`): `HATARAKU_MODEL`, else the file's `model`. */
  model: string | undefined;
  /** Every provider, built-in and configured, by id. */
  providers: Readonly<Record<string, ProviderSettings>>;
  /** Price overrides by full model name, checked before the bundled price catalog. */
  prices: Readonly<Record<string, PriceOverride>>;
  /**
   * The journal: a SQLite file at `path`, or, when `url` is set (`HATARAKU_DATABASE_URL`, else the
   * file's `journal.url`), the PostgreSQL database it names. `durability`: what a committed step
   * survives (`journal.durability`; undefined: the journal's default, `process`).
   */
  journal: { path: string; url: string | undefined; durability?: JournalDurability | undefined };
  limits: RunLimits;
  /** Tool policies from the config file. */
  policies: ToolPolicy[];
  /** Spend limits shared across runs. */
  budgets: BudgetRule[];
  /** Built-in tool settings, secrets resolved from the environment. */
  tools: ToolsConfig;
  /** Named routes (`route:<name>`). */
  routes: Readonly<Record<string, RouteConfig>>;
  /** Context control from the config file (strategies are built by the Hataraku instance). */
  context: NonNullable<ConfigFile['context']> | undefined;
  /** The exact model-call cache; undefined when off. */
  cache: { ttlMs: number; mode: 'deterministic-only' | 'always'; path: string } | undefined;
  /** Directory the agent's tools work in. */
  workspace: string;
  /** MCP servers and OpenAPI APIs whose operations become tools, secrets resolved. */
  connectors: ConnectorsConfig;
  /** Settings of the in-process `local` provider and its model cache. */
  local: LocalModelsConfig;
  /** Named agents the server can run (`hataraku serve`, `hataraku mcp serve`). */
  agents: Readonly<Record<string, AgentConfig>>;
}

/** The `local` provider's settings, resolved. */
export interface LocalModelsConfig {
  /** The model cache folder (absolute). */
  modelsDirectory: string;
  threads: number;
  contextSize: number;
  gpu: 'auto' | 'cpu';
  gpuLayers: number | 'auto' | 'max';
  idleUnloadMs: number;
  /** Hourly cost of this machine, when configured; a local model without one has an unknown price. */
  usdPerCpuHour: number | undefined;
  usdPerGpuHour: number | undefined;
}

export type AgentConfig = NonNullable<ConfigFile['agents']>[string];

/**
 * Load and validate the configuration.
 *
 * Paths in the file are relative to the file's directory; paths from the environment
 * (`HATARAKU_DB`, `HATARAKU_CONFIG`), `configPath` and the default journal path
 * (`.hataraku/hataraku.db`) are relative to `cwd`. Environment
 * variables override the file: `HATARAKU_MODEL` the model, `HATARAKU_DB` the journal path,
 * `*_BASE_URL` a built-in provider's address.
 *
 * @throws UserError `config_invalid`, with one line naming the file (or variable), the field and
 *   what was expected.
 */
export function loadConfig(options: LoadConfigOptions): HatarakuConfig {
  const env = nonEmpty(options.env);
  const explicitPath = options.configPath ?? env.HATARAKU_CONFIG;
  const configPath = path.resolve(options.cwd, explicitPath ?? configFileName);
  const source = displayPath(options.cwd, configPath);
  const text = readConfigText(configPath, source, explicitPath !== undefined);
  const file = text === undefined ? {} : parseConfigFile(text, source);
  const configDirectory = text === undefined ? options.cwd : path.dirname(configPath);

  const providers = resolveProviders(file.providers ?? {}, env, source);
  const knownProviders = [...Object.keys(providers), ...localModelProviders];
  const model = resolveModel(file.model, env.HATARAKU_MODEL, knownProviders, source);
  const prices: Record<string, PriceOverride> = {};
  for (const [modelName, price] of Object.entries(file.prices ?? {})) {
    // Price keys need not name a configured provider: an entry may be kept for a model not in use.
    parseModelNameAt(modelName, knownProviders, source, formatFieldPath(['prices', modelName]));
    prices[modelName] = withoutUndefined(price) as PriceOverride;
  }
  const journalPath =
    env.HATARAKU_DB !== undefined
      ? path.resolve(options.cwd, env.HATARAKU_DB)
      : file.journal?.path !== undefined
        ? path.resolve(configDirectory, file.journal.path)
        : path.resolve(options.cwd, defaultJournalPath);

  const workspace =
    file.workspace === undefined ? path.resolve(options.cwd) : path.resolve(configDirectory, file.workspace);
  const cachePath = file.cache?.enabled
    ? file.cache.path === undefined
      ? path.join(path.dirname(journalPath), 'cache.db')
      : path.resolve(configDirectory, file.cache.path)
    : undefined;
  const tools = resolveTools(file.tools, env, source);
  tools.protectedPaths.push(...hostFilesInside(workspace, [journalPath, cachePath, configPath]));
  return {
    configPath: text === undefined ? undefined : configPath,
    model,
    providers,
    prices,
    journal: {
      path: journalPath,
      url: resolveDatabaseUrl(env.HATARAKU_DATABASE_URL, file.journal?.url),
      ...(file.journal?.durability ? { durability: file.journal.durability } : {}),
    },
    limits: withoutUndefined(file.limits ?? {}),
    policies: (file.policies ?? []).map((policy) => withoutUndefined(policy) as ToolPolicy),
    budgets: (file.budgets ?? []).map((budget) => withoutUndefined(budget) as BudgetRule),
    tools,
    routes: file.routes ?? {},
    agents: file.agents ?? {},
    context: file.context,
    cache: file.cache?.enabled
      ? {
          ttlMs: file.cache.ttlMs ?? 86_400_000,
          mode: file.cache.mode ?? 'deterministic-only',
          path:
            file.cache.path === undefined
              ? path.join(path.dirname(journalPath), 'cache.db')
              : path.resolve(configDirectory, file.cache.path),
        }
      : undefined,
    workspace,
    connectors: resolveConnectors(file.connectors, env, configDirectory, source),
    local: resolveLocalModels(file.local, env, options.cwd, configDirectory),
  };
}

function resolveLocalModels(
  local: ConfigFile['local'],
  env: Environment,
  cwd: string,
  configDirectory: string,
): LocalModelsConfig {
  const cacheHome = env.XDG_CACHE_HOME ?? path.join(env.HOME ?? os.homedir(), '.cache');
  const modelsDirectory =
    env.HATARAKU_MODELS_DIR !== undefined
      ? path.resolve(cwd, env.HATARAKU_MODELS_DIR)
      : local?.modelsDir !== undefined
        ? path.resolve(configDirectory, local.modelsDir)
        : path.join(cacheHome, 'hataraku', 'models');
  return {
    modelsDirectory,
    // llama.cpp's threads spin while they wait: more threads than free cores collapses
    // throughput (on a busy 2-core machine, 2 threads were 50x slower than 1, and 4 were 400x).
    // Half the logical cores: the physical cores on most machines, and room for everything else.
    threads: local?.threads ?? Math.max(1, Math.floor(os.availableParallelism() / 2)),
    contextSize: local?.contextSize ?? 4096,
    gpu: local?.gpu ?? 'auto',
    gpuLayers: local?.gpuLayers ?? 'auto',
    idleUnloadMs: local?.idleUnloadMs ?? 300_000,
    usdPerCpuHour: local?.usdPerCpuHour,
    usdPerGpuHour: local?.usdPerGpuHour,
  };
}

/** Workspace-relative patterns for the host's own files (journal, cache) that lie inside the workspace. */
function hostFilesInside(workspace: string, files: ReadonlyArray<string | undefined>): string[] {
  const patterns: string[] = [];
  for (const file of files) {
    if (file === undefined) continue;
    const relation = path.relative(workspace, file);
    if (relation === '' || relation.startsWith('..') || path.isAbsolute(relation)) continue;
    const pattern = relation.split(path.sep).join('/');
    // A SQLite journal has companions (`-wal`, `-shm`, `-journal`) beside it.
    patterns.push(`${pattern}*`);
  }
  return patterns;
}

/** `HATARAKU_DATABASE_URL` wins over the file's `journal.url`; the value is never echoed (it may hold a password). */
function resolveDatabaseUrl(fromEnvironment: string | undefined, fromFile: string | undefined): string | undefined {
  if (fromEnvironment === undefined) return fromFile;
  if (!/^postgres(ql)?:\/\/\S+$/i.test(fromEnvironment)) {
    throw configError('HATARAKU_DATABASE_URL', `must be ${postgresUrlExpected} (value hidden)`);
  }
  return fromEnvironment;
}

function readConfigText(configPath: string, source: string, required: boolean): string | undefined {
  try {
    return readFileSync(configPath, 'utf8');
  } catch (caught) {
    const code = (caught as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    if (code === 'ENOENT') throw configError(source, 'config file not found');
    if (code === 'EISDIR') throw configError(source, 'is a directory, not a config file');
    throw configError(source, `cannot read config file: ${(caught as Error).message}`);
  }
}

function parseConfigFile(text: string, source: string): ConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (caught) {
    throw configError(source, `invalid JSON ${describeJsonError(text, (caught as Error).message)}`);
  }
  const result = configFileSchema.safeParse(json);
  if (!result.success) throw configIssuesError(source, result.error.issues, json);
  return result.data;
}

/** `at line 3, column 5: Expected ',' or '}' after property value`, from V8's message. */
function describeJsonError(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message);
  const offset = position?.[1] === undefined ? text.length : Number(position[1]);
  const before = text.slice(0, offset).split('\n');
  const line = before.length;
  const column = (before.at(-1)?.length ?? 0) + 1;
  const reason = message
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/ \(line \d+ column \d+\)$/, '')
    .trim();
  return `at line ${line}, column ${column}: ${reason}`;
}

function resolveProviders(
  entries: Readonly<Record<string, ProviderEntry>>,
  env: Environment,
  source: string,
): Record<string, ProviderSettings> {
  const providers: Record<string, ProviderSettings> = {};
  for (const id of new Set([...Object.keys(providerPresets), ...Object.keys(entries)])) {
    if (!providerIdPattern.test(id)) {
      throw configError(
        source,
        `providers has an invalid provider id ${JSON.stringify(id)}; use lowercase letters, digits, ".", "_" and "-" (a colon would split model names)`,
      );
    }
    providers[id] = resolveProvider(id, providerPresets[id], entries[id] ?? {}, env, source);
  }
  return providers;
}

function resolveProvider(
  id: string,
  preset: ProviderPreset | undefined,
  entry: ProviderEntry,
  env: Environment,
  source: string,
): ProviderSettings {
  const entryPath = ['providers', id];
  if (preset === undefined && entry.type === undefined) {
    throw configFieldError(
      source,
      [...entryPath, 'type'],
      '"openai" or "anthropic" for a provider that is not built in',
      undefined,
    );
  }
  if (preset !== undefined && entry.type !== undefined && entry.type !== preset.type) {
    throw configFieldError(
      source,
      [...entryPath, 'type'],
      `"${preset.type}" for the built-in provider ${id}; use a new provider id for a different endpoint`,
      entry.type,
    );
  }
  const baseURLFromEnv = preset?.baseURLEnv === undefined ? undefined : env[preset.baseURLEnv];
  if (baseURLFromEnv !== undefined && !isHttpURL(baseURLFromEnv)) {
    throw configError(preset?.baseURLEnv ?? '', `must be an http(s) URL (got ${JSON.stringify(baseURLFromEnv)})`);
  }
  const baseURL = baseURLFromEnv ?? entry.baseURL ?? preset?.baseURL;
  if (baseURL === undefined) {
    throw configFieldError(
      source,
      [...entryPath, 'baseURL'],
      'an http(s) URL for a provider that is not built in',
      undefined,
    );
  }
  const apiKeyEnv = entry.apiKeyEnv ?? preset?.apiKeyEnv;
  return {
    id,
    type: entry.type ?? preset?.type ?? 'openai',
    baseURL: baseURL.replace(/\/+$/, ''),
    apiKey: apiKeyEnv === undefined ? undefined : env[apiKeyEnv],
    apiKeyEnv,
    headers: entry.headers ?? {},
    timeoutMs: entry.timeoutMs ?? defaultTimeoutMs,
    maxRetries: entry.maxRetries ?? defaultMaxRetries,
    ...(entry.thinkingBudgetTokens !== undefined ? { thinkingBudgetTokens: entry.thinkingBudgetTokens } : {}),
  };
}

function resolveModel(
  fileModel: string | undefined,
  envModel: string | undefined,
  knownProviders: readonly string[],
  fileSource: string,
): string | undefined {
  // The file's model is checked even when the environment overrides it: the file is wrong either way.
  if (fileModel !== undefined) checkModelName(fileModel, knownProviders, fileSource);
  if (envModel === undefined) return fileModel;
  checkModelName(envModel, knownProviders, 'HATARAKU_MODEL');
  return envModel;
}

/** Reject a model name that does not parse or names no known provider, as a config error. */
function checkModelName(name: string, knownProviders: readonly string[], source: string): void {
  const { provider } = parseModelNameAt(name, knownProviders, source, undefined);
  if (!knownProviders.includes(provider)) {
    throw configError(
      source,
      `model ${JSON.stringify(name)} names unknown provider "${provider}"; known providers: ${knownProviders.join(', ')}`,
    );
  }
}

/** `parseModelName`, its error reworded as a config error naming `source` and `field`. */
function parseModelNameAt(
  name: string,
  knownProviders: readonly string[],
  source: string,
  field: string | undefined,
): ModelName {
  try {
    return parseModelName(name, knownProviders);
  } catch (caught) {
    if (!(caught instanceof HatarakuError)) throw caught;
    throw configError(source, field === undefined ? caught.message : `${field}: ${caught.message}`);
  }
}

function isHttpURL(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const protocol = new URL(text).protocol;
  return protocol === 'http:' || protocol === 'https:';
}

/** The path as a user would type it: relative when inside `cwd`, absolute otherwise. */
function displayPath(cwd: string, file: string): string {
  const relative = path.relative(cwd, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** Empty variables count as unset, as a shell's `VAR=` is usually meant. */
function nonEmpty(env: Environment): Environment {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
}

/** Drop keys whose value is undefined, as `exactOptionalPropertyTypes` types require. */
function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

/** A route as configured. */
export type RouteConfig = NonNullable<ConfigFile['routes']>[string];

/** Built-in tool settings, resolved. */
export interface ToolsConfig {
  /** Tool groups the CLI agent gets; undefined: every group that works on this machine. */
  enabled: Array<(typeof toolGroupNames)[number]> | undefined;
  /**
   * Workspace entries no tool may read or write, in addition to the built-in defaults
   * (`.hataraku`, `hataraku.config.json`, `.git`, `.env*`, which cannot be removed):
   * `tools.protectedPaths`, then the journal, cache and config files when they lie inside the
   * workspace.
   */
  protectedPaths: string[];
  http: {
    allowHosts?: string[];
    denyHosts?: string[];
    /** Hosts requests may send data to (non-GET/HEAD, or a body) without a person's approval. */
    sendAllowHosts?: string[];
    allowedPrivateAddresses?: string[];
    timeoutMs?: number;
    maxResponseBytes?: number;
    secrets: Record<string, { value: string; header: string; format?: string; hosts?: string[] }>;
  };
  data: {
    readOnly?: boolean;
    maxRows?: number;
    memoryLimit?: string;
    maxTempDirectorySize?: string;
    maxWriteBytes?: number;
  };
  code: { tier?: 'auto' | 'wasm' | 'process'; timeoutMs?: number; maxWriteBytes?: number };
}

function resolveTools(tools: ConfigFile['tools'], env: Environment, source: string): ToolsConfig {
  const secrets: ToolsConfig['http']['secrets'] = {};
  for (const [name, secret] of Object.entries(tools?.http?.secrets ?? {})) {
    const value = env[secret.env];
    if (value === undefined || value === '') {
      throw configError(
        source,
        `tools.http.secrets.${name}: the environment variable ${secret.env} is not set; set it or remove the secret`,
      );
    }
    secrets[name] = withoutUndefined({
      value,
      header: secret.header,
      format: secret.format,
      hosts: secret.hosts,
    }) as ToolsConfig['http']['secrets'][string];
  }
  const { secrets: _secrets, ...http } = tools?.http ?? {};
  return {
    enabled: tools?.enabled,
    protectedPaths: [...(tools?.protectedPaths ?? [])],
    http: { ...(withoutUndefined(http) as Omit<ToolsConfig['http'], 'secrets'>), secrets },
    data: withoutUndefined(tools?.data ?? {}) as ToolsConfig['data'],
    code: withoutUndefined(tools?.code ?? {}) as ToolsConfig['code'],
  };
}
