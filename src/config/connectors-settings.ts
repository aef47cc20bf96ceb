/**
 * The `connectors` section resolved: paths made absolute, secrets read from the environment
 * (a missing variable is a one-line config error), defaults filled in.
 */
import path from 'node:path';
import { configError } from './config-error.js';
import { type ConnectorsFile, connectorNamePattern } from './connectors-schema.js';

export interface McpServerSettings {
  name: string;
  transport: 'stdio' | 'http' | 'sse';
  /** stdio: the program and its arguments. */
  command: string | undefined;
  args: string[];
  /** stdio: variables given to the server (on top of a minimal PATH/HOME set), secrets resolved. */
  env: Record<string, string>;
  cwd: string | undefined;
  /** http/sse: the endpoint and its headers, secrets resolved. */
  url: string | undefined;
  headers: Record<string, string>;
  /** Values to redact from what the server returns (the secrets given to it). */
  secretValues: string[];
  timeoutMs: number;
  destructive: 'ask' | 'allow' | 'deny';
  include: string[] | undefined;
  exclude: string[] | undefined;
}

export type OpenApiAuthSettings =
  | { type: 'bearer'; token: string }
  | { type: 'apiKey'; in: 'header' | 'query'; name: string; value: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'oauth2'; tokenUrl: string; clientId: string; clientSecret: string; scopes: string[] };

export interface OperationFilter {
  tags?: string[] | undefined;
  paths?: string[] | undefined;
  operations?: string[] | undefined;
}

export interface OpenApiSettings {
  name: string;
  /** Absolute file path or http(s) URL. */
  spec: string;
  baseURL: string | undefined;
  auth: OpenApiAuthSettings | undefined;
  include: OperationFilter | undefined;
  exclude: OperationFilter | undefined;
  timeoutMs: number;
  maxResponseBytes: number;
  allowedPrivateAddresses: string[];
}

export interface ConnectorsConfig {
  mcp: McpServerSettings[];
  openapi: OpenApiSettings[];
  /** Hosts whose OpenAPI writes run without asking. */
  writeHosts: string[];
}

export const emptyConnectors: ConnectorsConfig = Object.freeze({ mcp: [], openapi: [], writeHosts: [] });

type Environment = Readonly<Record<string, string | undefined>>;

export function resolveConnectors(
  file: ConnectorsFile | undefined,
  env: Environment,
  configDirectory: string,
  source: string,
): ConnectorsConfig {
  if (file === undefined) return emptyConnectors;
  for (const [section, entries] of [
    ['mcp', file.mcp],
    ['openapi', file.openapi],
  ] as const) {
    for (const name of Object.keys(entries ?? {})) {
      if (!connectorNamePattern.test(name)) {
        throw configError(
          source,
          `connectors.${section} has an invalid name ${JSON.stringify(name)}; it prefixes tool names, so use letters, digits, "_" and "-" (at most 24, starting with a letter)`,
        );
      }
    }
  }
  const secret = (field: string, name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw configError(source, `${field}: the environment variable ${name} is not set; set it or remove the entry`);
    }
    return value;
  };
  const mcp = Object.entries(file.mcp ?? {}).map(([name, entry]): McpServerSettings => {
    const field = `connectors.mcp.${name}`;
    const common = {
      name,
      timeoutMs: entry.timeoutMs ?? 60_000,
      destructive: entry.destructive ?? 'ask',
      include: entry.include,
      exclude: entry.exclude,
    };
    if ('command' in entry) {
      const secrets = Object.entries(entry.secretEnv ?? {}).map(
        ([variable, from]) => [variable, secret(`${field}.secretEnv.${variable}`, from)] as const,
      );
      return {
        ...common,
        transport: 'stdio',
        command: entry.command,
        args: entry.args ?? [],
        env: { ...(entry.env ?? {}), ...Object.fromEntries(secrets) },
        cwd: entry.cwd === undefined ? undefined : path.resolve(configDirectory, entry.cwd),
        url: undefined,
        headers: {},
        secretValues: secrets.map(([, value]) => value),
      };
    }
    const secretHeaders = Object.entries(entry.secretHeaders ?? {}).map(([header, from]) => {
      const value = secret(`${field}.secretHeaders.${header}`, from.env);
      return [header, (from.format ?? '{value}').replaceAll('{value}', value), value] as const;
    });
    return {
      ...common,
      transport: entry.transport,
      command: undefined,
      args: [],
      env: {},
      cwd: undefined,
      url: entry.url,
      headers: {
        ...(entry.headers ?? {}),
        ...Object.fromEntries(secretHeaders.map(([header, value]) => [header, value])),
      },
      secretValues: secretHeaders.flatMap(([, headerValue, value]) => [headerValue, value]),
    };
  });
  const openapi = Object.entries(file.openapi ?? {}).map(([name, entry]): OpenApiSettings => {
    const field = `connectors.openapi.${name}.auth`;
    const auth = entry.auth;
    let resolvedAuth: OpenApiAuthSettings | undefined;
    if (auth?.type === 'bearer') resolvedAuth = { type: 'bearer', token: secret(field, auth.env) };
    else if (auth?.type === 'apiKey')
      resolvedAuth = { type: 'apiKey', in: auth.in, name: auth.name, value: secret(field, auth.env) };
    else if (auth?.type === 'basic')
      resolvedAuth = {
        type: 'basic',
        username: secret(field, auth.usernameEnv),
        password: secret(field, auth.passwordEnv),
      };
    else if (auth?.type === 'oauth2')
      resolvedAuth = {
        type: 'oauth2',
        tokenUrl: auth.tokenUrl,
        clientId: secret(field, auth.clientIdEnv),
        clientSecret: secret(field, auth.clientSecretEnv),
        scopes: auth.scopes ?? [],
      };
    return {
      name,
      spec: /^https?:\/\//i.test(entry.spec) ? entry.spec : path.resolve(configDirectory, entry.spec),
      baseURL: entry.baseURL,
      auth: resolvedAuth,
      include: entry.include,
      exclude: entry.exclude,
      timeoutMs: entry.timeoutMs ?? 30_000,
      maxResponseBytes: entry.maxResponseBytes ?? 5 * 1024 * 1024,
      allowedPrivateAddresses: entry.allowedPrivateAddresses ?? [],
    };
  });
  const names = [...mcp.map((server) => server.name), ...openapi.map((api) => api.name)];
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate !== undefined) {
    throw configError(
      source,
      `connectors: the name ${duplicate} is used by an MCP server and an OpenAPI API; tool names would clash, rename one`,
    );
  }
  return { mcp, openapi, writeHosts: (file.writeHosts ?? []).map((host) => host.toLowerCase()) };
}
