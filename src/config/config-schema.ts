/**
 * The schema of `hataraku.config.json`. Every object is strict, so a misspelt key is reported
 * rather than ignored, and every field carries the phrase that completes "<field> must be …"
 * in the one-line error a user sees.
 */
import { z } from 'zod';
import { connectorsSchema } from './connectors-schema.js';

const positiveInteger = 'a positive integer';

function positiveIntegerSchema() {
  return z.int({ error: positiveInteger }).positive({ error: positiveInteger });
}

function nonNegativeNumberSchema() {
  const expected = 'a non-negative number';
  return z.number({ error: expected }).nonnegative({ error: expected });
}

function httpURLSchema() {
  return z.url({ protocol: /^https?$/, error: 'an http(s) URL' });
}

/** Provider ids cannot contain a colon: the first colon of a model name ends the provider. */
export const providerIdPattern = /^[a-z0-9][a-z0-9._-]*$/;

const apiKeyEnvExpected = 'the name of an environment variable such as OPENAI_API_KEY, not the key itself';
const retriesExpected = 'an integer from 0 to 10';
const providerEntryExpected = 'an object such as { "baseURL": "http://localhost:8000/v1" }';

export const providerEntrySchema = z.strictObject(
  {
    /** Wire protocol; required for a provider id that is not built in. */
    type: z.enum(['openai', 'anthropic'], { error: '"openai" or "anthropic"' }).optional(),
    baseURL: httpURLSchema().optional(),
    /** Name of the environment variable holding the API key (never the key itself). */
    apiKeyEnv: z
      .string({ error: apiKeyEnvExpected })
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: apiKeyEnvExpected })
      .optional(),
    headers: z
      .record(z.string(), z.string({ error: 'a string' }), { error: 'an object of header names to strings' })
      .optional(),
    timeoutMs: positiveIntegerSchema().optional(),
    maxRetries: z
      .int({ error: retriesExpected })
      .min(0, { error: retriesExpected })
      .max(10, { error: retriesExpected })
      .optional(),
    /** Anthropic extended thinking: the thinking budget in tokens (at least 1024); off when absent. */
    thinkingBudgetTokens: z
      .int({ error: 'an integer of at least 1024' })
      .min(1024, { error: 'an integer of at least 1024' })
      .optional(),
  },
  { error: providerEntryExpected },
);

export const priceEntryExpected =
  'an object such as { "inputPerMillion": 0.15, "outputPerMillion": 0.6 } or { "usdPerGpuHour": 2.5, "tokensPerSecond": 1500 }';

export const tokenPriceSchema = z.strictObject(
  {
    inputPerMillion: nonNegativeNumberSchema(),
    outputPerMillion: nonNegativeNumberSchema(),
    cachedInputPerMillion: nonNegativeNumberSchema().optional(),
    cacheWritePerMillion: nonNegativeNumberSchema().optional(),
  },
  { error: priceEntryExpected },
);

export const selfHostedPriceSchema = z.strictObject(
  {
    usdPerGpuHour: nonNegativeNumberSchema(),
    tokensPerSecond: z.number({ error: 'a positive number' }).positive({ error: 'a positive number' }),
  },
  { error: priceEntryExpected },
);

export const postgresUrlExpected = 'a PostgreSQL URL such as "postgres://hataraku@db.internal:5432/hataraku"';

export const journalSchema = z.strictObject(
  {
    path: z.string({ error: 'a file path' }).min(1, { error: 'a file path' }).optional(),
    /** A PostgreSQL journal shared by workers on many machines (docs/scale-out.md); wins over `path`. */
    url: z
      .string({ error: postgresUrlExpected })
      .regex(/^postgres(ql)?:\/\/\S+$/i, { error: postgresUrlExpected })
      .optional(),
    /** What a committed step survives: `process` (default) or also a `power` cut (docs/durability.md). */
    durability: z.enum(['process', 'power'], { error: '"process" or "power"' }).optional(),
  },
  { error: 'an object such as { "path": ".hataraku/hataraku.db" } or { "url": "postgres://…" }' },
);

export const limitsSchema = z.strictObject(
  {
    maxSteps: positiveIntegerSchema().optional(),
    maxTokens: positiveIntegerSchema().optional(),
    maxCostUsd: z.number({ error: 'a positive number' }).positive({ error: 'a positive number' }).optional(),
    maxWallTimeMs: positiveIntegerSchema().optional(),
  },
  { error: 'an object such as { "maxSteps": 20 }' },
);

const policyScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const policyConditionSchema = z.strictObject(
  {
    path: z.string({ error: 'an argument path such as "amount"' }).min(1),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    eq: policyScalar.optional(),
    ne: policyScalar.optional(),
    in: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
    matches: z.string().optional(),
  },
  { error: 'a condition such as { "path": "amount", "gt": 100 }' },
);

export const policySchema = z.strictObject(
  {
    tool: z.string({ error: 'a tool name, or "*" for every tool' }).min(1),
    action: z.enum(['allow', 'deny', 'ask'], { error: '"allow", "deny" or "ask"' }),
    when: policyConditionSchema.optional(),
    reason: z.string().optional(),
    deadlineMs: positiveIntegerSchema().optional(),
    defaultOutcome: z.enum(['approve', 'deny'], { error: '"approve" or "deny"' }).optional(),
  },
  { error: 'a policy such as { "tool": "payments.send", "action": "ask", "when": { "path": "amount", "gt": 100 } }' },
);

export const budgetSchema = z.strictObject(
  {
    scope: z.enum(['run', 'agent', 'tenant', 'global'], { error: '"run", "agent", "tenant" or "global"' }),
    period: z.enum(['day', 'all'], { error: '"day" or "all"' }).optional(),
    limitUsd: z.number({ error: 'a positive number' }).positive({ error: 'a positive number' }),
    softLimitUsd: z.number({ error: 'a positive number' }).positive({ error: 'a positive number' }).optional(),
  },
  { error: 'a budget such as { "scope": "tenant", "period": "day", "limitUsd": 5 }' },
);

/** A size DuckDB reads, such as "512MB" or "2GB". */
const sizeSchema = () =>
  z
    .string({ error: 'a size such as "512MB" or "2GB"' })
    .regex(/^\s*\d+(?:\.\d+)?\s*[KMGT]i?B\s*$/i, { error: 'a size such as "512MB" or "2GB"' });

export const toolGroupNames = ['files', 'data', 'documents', 'http', 'charts', 'code'] as const;

export const httpSecretSchema = z.strictObject(
  {
    env: z.string({ error: 'the name of the environment variable holding the secret' }).min(1),
    header: z.string({ error: 'a header name such as "Authorization"' }).min(1),
    format: z.string().optional(),
    hosts: z.array(z.string()).optional(),
  },
  {
    error:
      'a secret such as { "env": "GITHUB_TOKEN", "header": "Authorization", "format": "Bearer {value}", "hosts": ["api.github.com"] }',
  },
);

export const toolsSchema = z.strictObject(
  {
    enabled: z.array(z.enum(toolGroupNames, { error: `one of ${toolGroupNames.join(', ')}` })).optional(),
    /** Workspace entries no tool may read or write, added to the defaults (which cannot be removed). */
    protectedPaths: z
      .array(
        z
          .string()
          .min(1)
          .refine((pattern) => !pattern.startsWith('/') && !pattern.split('/').includes('..'), {
            error: 'a path pattern relative to the workspace, without ".." (e.g. "secrets/" or "*.pem")',
          }),
        { error: 'a list of path patterns such as ["secrets/", "*.pem"]' },
      )
      .optional(),
    http: z
      .strictObject({
        allowHosts: z.array(z.string()).optional(),
        denyHosts: z.array(z.string()).optional(),
        sendAllowHosts: z.array(z.string()).optional(),
        allowedPrivateAddresses: z.array(z.string()).optional(),
        timeoutMs: positiveIntegerSchema().optional(),
        maxResponseBytes: positiveIntegerSchema().optional(),
        secrets: z.record(z.string(), httpSecretSchema).optional(),
      })
      .optional(),
    data: z
      .strictObject({
        readOnly: z.boolean().optional(),
        maxRows: positiveIntegerSchema().optional(),
        memoryLimit: sizeSchema().optional(),
        maxTempDirectorySize: sizeSchema().optional(),
        maxWriteBytes: positiveIntegerSchema().optional(),
      })
      .optional(),
    code: z
      .strictObject({
        tier: z.enum(['auto', 'wasm', 'process'], { error: '"auto", "wasm" or "process"' }).optional(),
        timeoutMs: positiveIntegerSchema().optional(),
        maxWriteBytes: positiveIntegerSchema().optional(),
      })
      .optional(),
  },
  { error: 'an object such as { "enabled": ["files", "data"], "http": { "allowHosts": ["api.example.com"] } }' },
);

export const localModelsSchema = z.strictObject(
  {
    /** The model cache folder (default `~/.cache/hataraku/models`); `HATARAKU_MODELS_DIR` overrides. */
    modelsDir: z.string({ error: 'a directory path' }).min(1, { error: 'a directory path' }).optional(),
    threads: positiveIntegerSchema().optional(),
    contextSize: positiveIntegerSchema().optional(),
    gpu: z.enum(['auto', 'cpu'], { error: '"auto" or "cpu"' }).optional(),
    gpuLayers: z
      .union([z.int().min(0), z.enum(['auto', 'max'])], { error: 'a number of layers, "auto" or "max"' })
      .optional(),
    idleUnloadMs: positiveIntegerSchema().optional(),
    /** What an hour of this machine costs, to price local models from their measured throughput. */
    usdPerCpuHour: nonNegativeNumberSchema().optional(),
    usdPerGpuHour: nonNegativeNumberSchema().optional(),
  },
  { error: 'an object such as { "threads": 4, "usdPerCpuHour": 0.05 }' },
);

const modelNameSchema = z.string({ error: 'a model name such as "openai:gpt-4o-mini"' }).min(3);

export const verifierSchema = z.union(
  [
    z.enum(['valid-tool-call', 'non-empty', 'valid-json-output']),
    z.strictObject({ 'matches-format': z.string({ error: 'a regular expression' }) }),
    z.strictObject({ learned: z.string({ error: 'the path of a router from `hataraku routes train`' }).min(1) }),
  ],
  {
    error:
      '"valid-tool-call", "non-empty", "valid-json-output", { "matches-format": "regex" } or { "learned": "path/to/router.json" }',
  },
);

export const routeSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('fallback'),
      models: z.array(modelNameSchema).min(1),
      circuitBreaker: z
        .strictObject({
          failureThreshold: positiveIntegerSchema().optional(),
          cooldownMs: positiveIntegerSchema().optional(),
        })
        .optional(),
    }),
    z.strictObject({
      type: z.literal('cascade'),
      models: z.array(modelNameSchema).min(2),
      verify: z.array(verifierSchema).min(1),
    }),
    z.strictObject({
      type: z.literal('budget'),
      models: z
        .array(z.strictObject({ model: modelNameSchema, minRemainingFraction: z.number().min(0).max(1) }))
        .min(1),
    }),
    z.strictObject({ type: z.literal('step'), planning: modelNameSchema, tools: modelNameSchema }),
    z.strictObject({
      type: z.literal('self-consistency'),
      models: z.tuple([modelNameSchema, modelNameSchema], { error: 'two model names: [cheap, strong]' }),
      samples: z.number().int().min(2),
      answer: z.string({ error: 'an answer format: number, integer, choice:ABCD, json:<field> or regex:<pattern>' }),
      minAgreement: z.number().min(0).max(1),
    }),
  ],
  { error: 'a route with "type": "fallback", "cascade", "budget", "step" or "self-consistency"' },
);

export const cacheSchema = z.strictObject(
  {
    enabled: z.boolean(),
    ttlMs: positiveIntegerSchema().optional(),
    mode: z.enum(['deterministic-only', 'always']).optional(),
    path: z.string().min(1).optional(),
  },
  { error: 'an object such as { "enabled": true, "ttlMs": 86400000 }' },
);

export const contextSchema = z.strictObject(
  {
    offload: z
      .strictObject({
        maxCharacters: positiveIntegerSchema().optional(),
        previewCharacters: z.int().min(0).optional(),
      })
      .optional(),
    mask: z
      .strictObject({ keepLast: z.int().min(0).optional(), batchCharacters: z.int().min(0).optional() })
      .optional(),
    maxInputTokens: positiveIntegerSchema().optional(),
  },
  { error: 'an object such as { "offload": { "maxCharacters": 8000 }, "mask": { "keepLast": 3 } }' },
);

export const agentEntrySchema = z.strictObject(
  {
    /** The system prompt (default: the CLI agent's instructions). */
    instructions: z.string({ error: 'a string' }).optional(),
    /** Model or route name (default: the configured model). */
    model: modelNameSchema.optional(),
    /** Built-in tools by name, e.g. "files.read" (default: none). */
    tools: z.array(z.string({ error: 'a tool name such as "files.read"' })).optional(),
    limits: limitsSchema.optional(),
    description: z.string().optional(),
  },
  { error: 'an agent such as { "instructions": "You answer questions.", "tools": ["files.read"] }' },
);

export const configFileSchema = z.strictObject(
  {
    /** Default model name, `provider:modelId`. */
    model: z.string({ error: 'a model name such as "openai:gpt-4o-mini"' }).optional(),
    providers: z.record(z.string(), providerEntrySchema, { error: 'an object keyed by provider id' }).optional(),
    /** Keyed by full model name. */
    prices: z
      .record(z.string(), z.union([tokenPriceSchema, selfHostedPriceSchema], { error: priceEntryExpected }), {
        error: 'an object keyed by model name',
      })
      .optional(),
    journal: journalSchema.optional(),
    limits: limitsSchema.optional(),
    /** Named routes, used as model names `route:<name>`. */
    routes: z.record(z.string(), routeSchema, { error: 'an object keyed by route name' }).optional(),
    /** What of the history each call sends: offload large tool results, mask used ones. */
    context: contextSchema.optional(),
    /** Exact cache of model calls. */
    cache: cacheSchema.optional(),
    /** Built-in tools the CLI agent gets, and their settings. */
    tools: toolsSchema.optional(),
    /** Spend limits shared across runs. */
    budgets: z.array(budgetSchema, { error: 'a list of budgets' }).optional(),
    /** Tool policies (allow, deny, ask), the first match deciding. */
    policies: z.array(policySchema, { error: 'a list of policies' }).optional(),
    workspace: z.string({ error: 'a directory path' }).min(1, { error: 'a directory path' }).optional(),
    /** MCP servers and OpenAPI-described APIs whose operations become tools. */
    connectors: connectorsSchema.optional(),
    /** GGUF models run in process (`local:<file.gguf>` or `local:<alias>`). */
    local: localModelsSchema.optional(),
    /** Named agents the server (`hataraku serve`, `hataraku mcp serve`) can run. */
    agents: z.record(z.string(), agentEntrySchema, { error: 'an object keyed by agent name' }).optional(),
  },
  { error: 'a JSON object' },
);

/** The contents of `hataraku.config.json`, as validated. */
export type ConfigFile = z.infer<typeof configFileSchema>;
export type ProviderEntry = z.infer<typeof providerEntrySchema>;

/** Known keys of each strict object, by the path pattern of the object (`*` for a record key). */
export const knownKeysByPath: ReadonlyArray<{ path: readonly string[]; keys: readonly string[] }> = [
  { path: [], keys: Object.keys(configFileSchema.shape) },
  { path: ['providers', '*'], keys: Object.keys(providerEntrySchema.shape) },
  { path: ['journal'], keys: Object.keys(journalSchema.shape) },
  { path: ['limits'], keys: Object.keys(limitsSchema.shape) },
  { path: ['policies', '*'], keys: Object.keys(policySchema.shape) },
  { path: ['budgets', '*'], keys: Object.keys(budgetSchema.shape) },
  { path: ['tools'], keys: Object.keys(toolsSchema.shape) },
  { path: ['cache'], keys: Object.keys(cacheSchema.shape) },
  { path: ['context'], keys: Object.keys(contextSchema.shape) },
  { path: ['local'], keys: Object.keys(localModelsSchema.shape) },
  { path: ['agents', '*'], keys: Object.keys(agentEntrySchema.shape) },
  { path: ['tools', 'http', 'secrets', '*'], keys: Object.keys(httpSecretSchema.shape) },
  { path: ['policies', '*', 'when'], keys: Object.keys(policyConditionSchema.shape) },
  { path: ['connectors'], keys: Object.keys(connectorsSchema.shape) },
  {
    path: ['prices', '*'],
    keys: [...Object.keys(tokenPriceSchema.shape), ...Object.keys(selfHostedPriceSchema.shape)],
  },
];
