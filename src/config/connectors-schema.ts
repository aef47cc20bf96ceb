/**
 * The `connectors` section of `hataraku.config.json`: MCP servers and OpenAPI-described APIs
 * whose operations become tools. Secrets are named by environment variable, never written here.
 */
import { z } from 'zod';

/** Connector names become tool-name prefixes (`<name>.<tool>`), so they are kept short and plain. */
export const connectorNamePattern = /^[A-Za-z][A-Za-z0-9_-]{0,23}$/;

const envNameExpected = 'the name of an environment variable such as GITHUB_TOKEN, not the value itself';
const envNameSchema = () =>
  z.string({ error: envNameExpected }).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: envNameExpected });

const positiveInteger = 'a positive integer';
const positiveIntegerSchema = () =>
  z.int({ error: positiveInteger }).positive({ error: positiveInteger }).max(86_400_000, { error: positiveInteger });

/** A header whose value comes from an environment variable, e.g. `{ "env": "TOKEN", "format": "Bearer {value}" }`. */
export const secretHeaderSchema = z.strictObject(
  {
    env: envNameSchema(),
    format: z.string().includes('{value}', { error: 'a text containing {value}' }).optional(),
  },
  { error: 'a header secret such as { "env": "MCP_TOKEN", "format": "Bearer {value}" }' },
);

const destructiveActionSchema = z.enum(['ask', 'allow', 'deny'], { error: '"ask", "allow" or "deny"' });

const mcpCommonShape = {
  /** Most milliseconds one tool call may take (default 60 000). */
  timeoutMs: positiveIntegerSchema().optional(),
  /** What happens to calls of destructive tools (and of tools with no hints): default `ask`. */
  destructive: destructiveActionSchema.optional(),
  /** Only these tools (by the server's names). */
  include: z.array(z.string()).optional(),
  /** Never these tools (by the server's names). */
  exclude: z.array(z.string()).optional(),
};

export const mcpServerSchema = z.union(
  [
    z.strictObject({
      transport: z.literal('stdio').optional(),
      command: z.string({ error: 'a program to start, such as "npx"' }).min(1),
      args: z.array(z.string()).optional(),
      /** Plain environment variables for the server. */
      env: z.record(z.string(), z.string()).optional(),
      /** Variables for the server whose values are read from Hataraku's environment: `{ "TOKEN": "MY_TOKEN" }`. */
      secretEnv: z.record(z.string(), envNameSchema()).optional(),
      /** Working folder of the server, relative to the config file. */
      cwd: z.string().min(1).optional(),
      ...mcpCommonShape,
    }),
    z.strictObject({
      transport: z.enum(['http', 'sse'], { error: '"stdio", "http" or "sse"' }),
      url: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }),
      headers: z.record(z.string(), z.string()).optional(),
      secretHeaders: z.record(z.string(), secretHeaderSchema).optional(),
      ...mcpCommonShape,
    }),
  ],
  {
    error:
      'a server such as { "command": "npx", "args": ["@modelcontextprotocol/server-filesystem", "."] } or { "transport": "http", "url": "https://mcp.example.com/mcp" }',
  },
);

export const openApiAuthSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('bearer'), env: envNameSchema() }),
    z.strictObject({
      type: z.literal('apiKey'),
      in: z.enum(['header', 'query'], { error: '"header" or "query"' }),
      name: z.string().min(1),
      env: envNameSchema(),
    }),
    z.strictObject({ type: z.literal('basic'), usernameEnv: envNameSchema(), passwordEnv: envNameSchema() }),
    z.strictObject({
      type: z.literal('oauth2'),
      tokenUrl: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }),
      clientIdEnv: envNameSchema(),
      clientSecretEnv: envNameSchema(),
      scopes: z.array(z.string()).optional(),
    }),
  ],
  { error: 'an auth such as { "type": "bearer", "env": "API_TOKEN" } (types: bearer, apiKey, basic, oauth2)' },
);

const operationFilterSchema = z.strictObject(
  {
    tags: z.array(z.string()).optional(),
    /** Path templates, with `*` matching any run of characters: `/repos/*`. */
    paths: z.array(z.string()).optional(),
    operations: z.array(z.string()).optional(),
  },
  { error: 'a filter such as { "tags": ["pets"], "paths": ["/pets/*"], "operations": ["listPets"] }' },
);

export const openApiSchema = z.strictObject(
  {
    /** A file (relative to the config file) or an http(s) URL; JSON or YAML; OpenAPI 3.0, 3.1 or Swagger 2.0. */
    spec: z.string({ error: 'a file path or URL of an OpenAPI document' }).min(1),
    /** Where requests go; default: the document's first server. */
    baseURL: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).optional(),
    auth: openApiAuthSchema.optional(),
    include: operationFilterSchema.optional(),
    exclude: operationFilterSchema.optional(),
    timeoutMs: positiveIntegerSchema().optional(),
    maxResponseBytes: positiveIntegerSchema().optional(),
    /** Non-public addresses the API may be reached at, as in `tools.http.allowedPrivateAddresses`. */
    allowedPrivateAddresses: z.array(z.string()).optional(),
  },
  { error: 'an API such as { "spec": "./petstore.yaml", "baseURL": "https://petstore.example.com/v1" }' },
);

export const connectorsSchema = z.strictObject(
  {
    mcp: z
      .record(z.string(), mcpServerSchema, {
        error: 'an object keyed by server name',
      })
      .optional(),
    openapi: z
      .record(z.string(), openApiSchema, {
        error: 'an object keyed by API name',
      })
      .optional(),
    /** Hosts whose OpenAPI write operations (POST, PUT, PATCH, DELETE) run without asking. */
    writeHosts: z.array(z.string()).optional(),
  },
  { error: 'an object such as { "mcp": { "files": { "command": "npx", "args": ["..."] } } }' },
);

export type ConnectorsFile = z.infer<typeof connectorsSchema>;
