/** The `connectors` section of the config file: resolved values, and one-line errors for mistakes. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { loadConfig } from './load-config.js';

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(path.join(tmpdir(), 'hataraku-connectors-config-'));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function load(connectors: unknown, env: Record<string, string> = {}) {
  writeFileSync(path.join(directory, 'hataraku.config.json'), JSON.stringify({ connectors }));
  return loadConfig({ cwd: directory, env });
}

function loadError(connectors: unknown, env: Record<string, string> = {}): string {
  try {
    load(connectors, env);
  } catch (caught) {
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).code).toBe('config_invalid');
    return (caught as UserError).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('connectors in the config file', () => {
  it('is empty when not configured', () => {
    writeFileSync(path.join(directory, 'hataraku.config.json'), '{}');
    expect(loadConfig({ cwd: directory, env: {} }).connectors).toEqual({ mcp: [], openapi: [], writeHosts: [] });
  });

  it('resolves MCP servers and OpenAPI APIs, with secrets from the environment', () => {
    const config = load(
      {
        mcp: {
          files: {
            command: 'npx',
            args: ['server'],
            cwd: 'data',
            secretEnv: { TOKEN: 'FILES_TOKEN' },
            env: { MODE: 'x' },
          },
          remote: {
            transport: 'http',
            url: 'https://mcp.example.com/mcp',
            secretHeaders: { Authorization: { env: 'REMOTE_TOKEN', format: 'Bearer {value}' } },
            destructive: 'deny',
          },
        },
        openapi: {
          github: {
            spec: 'specs/github.json',
            auth: { type: 'bearer', env: 'GITHUB_TOKEN' },
            include: { tags: ['issues'] },
          },
          billing: {
            spec: 'https://billing.example.com/openapi.yaml',
            auth: {
              type: 'oauth2',
              tokenUrl: 'https://billing.example.com/token',
              clientIdEnv: 'ID',
              clientSecretEnv: 'SECRET',
            },
          },
        },
        writeHosts: ['API.example.com'],
      },
      {
        FILES_TOKEN: 'files-secret',
        REMOTE_TOKEN: 'remote-secret',
        GITHUB_TOKEN: 'gh-secret',
        ID: 'id',
        SECRET: 'shh',
      },
    );
    const [files, remote] = config.connectors.mcp;
    expect(files).toMatchObject({
      name: 'files',
      transport: 'stdio',
      command: 'npx',
      args: ['server'],
      cwd: path.join(directory, 'data'),
      env: { MODE: 'x', TOKEN: 'files-secret' },
      secretValues: ['files-secret'],
      destructive: 'ask',
      timeoutMs: 60_000,
    });
    expect(remote).toMatchObject({
      transport: 'http',
      url: 'https://mcp.example.com/mcp',
      headers: { Authorization: 'Bearer remote-secret' },
      destructive: 'deny',
    });
    const [github, billing] = config.connectors.openapi;
    expect(github).toMatchObject({
      spec: path.join(directory, 'specs/github.json'),
      auth: { type: 'bearer', token: 'gh-secret' },
      include: { tags: ['issues'] },
    });
    expect(billing?.spec).toBe('https://billing.example.com/openapi.yaml');
    expect(billing?.auth).toEqual({
      type: 'oauth2',
      tokenUrl: 'https://billing.example.com/token',
      clientId: 'id',
      clientSecret: 'shh',
      scopes: [],
    });
    expect(config.connectors.writeHosts).toEqual(['api.example.com']);
  });

  it('names the missing environment variable of a secret', () => {
    expect(loadError({ openapi: { github: { spec: 'x.json', auth: { type: 'bearer', env: 'GITHUB_TOKEN' } } } })).toBe(
      'hataraku.config.json: connectors.openapi.github.auth: the environment variable GITHUB_TOKEN is not set; set it or remove the entry',
    );
  });

  it('refuses names that cannot prefix tool names, and clashing names', () => {
    expect(loadError({ mcp: { 'my server': { command: 'x' } } })).toMatch(
      /^hataraku\.config\.json: connectors\.mcp.*letters, digits/,
    );
    expect(loadError({ mcp: { shop: { command: 'x' } }, openapi: { shop: { spec: 'x.json' } } })).toMatch(
      /the name shop is used by an MCP server and an OpenAPI API/,
    );
  });

  it('says what a server entry should look like', () => {
    expect(loadError({ mcp: { remote: { transport: 'http' } } })).toMatch(
      /^hataraku\.config\.json: connectors\.mcp\.remote/,
    );
    expect(loadError({ openapi: { shop: { spec: 'x.json', auth: { type: 'magic' } } } })).toMatch(
      /connectors\.openapi\.shop\.auth.*bearer, apiKey, basic, oauth2/,
    );
    expect(loadError({ mcpServers: {} })).toBe(
      'hataraku.config.json: unknown key in connectors: "mcpServers"; known keys: mcp, openapi, writeHosts',
    );
  });
});
