/**
 * The connectors of a configuration, opened together: MCP servers (started on first use, shared
 * by the runs of this process, stopped by `close`) and OpenAPI documents (read on first use).
 * `load` gives their tools, with the default policies that make destructive MCP tools and
 * OpenAPI writes ask a person first; policies from the config file come before these, so a user
 * can allow or deny any tool explicitly.
 */
import type { ToolPolicy } from '../agent/policy.js';
import type { ConnectorsConfig } from '../config/connectors-settings.js';
import type { Tool } from '../tools/tool.js';
import { ConnectorError } from './connector-error.js';
import type { ConnectorTool, SkippedOperation } from './connector-tool.js';
import { createMcpConnection, type McpConnection, type McpConnectionStatus } from './mcp/mcp-connection.js';
import { createMcpTools } from './mcp/mcp-tools.js';
import { createOpenApiTools } from './openapi/openapi-tools.js';

export interface ConnectorReport {
  name: string;
  kind: 'mcp' | 'openapi';
  /** Transport (MCP) or base URL (OpenAPI). */
  target: string;
  tools: ConnectorTool[];
  skipped: SkippedOperation[];
  /** Why the connector gave no tools, when it failed. */
  error: string | undefined;
  /** OpenAPI: operations in the document and how many the filters left out. */
  operations?: { total: number; filteredOut: number };
  status?: McpConnectionStatus;
}

export interface LoadedConnectors {
  reports: ConnectorReport[];
  tools: ConnectorTool[];
  /** Default policies for the connector tools (ask before destructive calls). */
  policies: ToolPolicy[];
}

export interface Connectors {
  readonly config: ConnectorsConfig;
  /** Start the MCP servers and read the OpenAPI documents (once; later calls reuse the result). */
  load(): Promise<LoadedConnectors>;
  /** Like `load`, but a connector that failed is an error naming it. */
  loadAll(): Promise<LoadedConnectors>;
  close(): Promise<void>;
}

export interface ConnectorsOptions {
  resolve?: (hostname: string) => Promise<string[]>;
  clientVersion?: string;
}

export function openConnectors(config: ConnectorsConfig, options: ConnectorsOptions = {}): Connectors {
  const connections = new Map<string, McpConnection>();
  let loading: Promise<LoadedConnectors> | undefined;

  async function loadMcp(settings: ConnectorsConfig['mcp'][number]): Promise<ConnectorReport> {
    const connection = createMcpConnection(
      settings,
      options.clientVersion ? { clientVersion: options.clientVersion } : {},
    );
    connections.set(settings.name, connection);
    const target =
      settings.transport === 'stdio'
        ? `stdio: ${settings.command} ${settings.args.join(' ')}`.trim()
        : `${settings.transport}: ${settings.url}`;
    try {
      const set = await createMcpTools(connection);
      return { name: settings.name, kind: 'mcp', target, ...set, error: undefined, status: connection.status() };
    } catch (error) {
      return {
        name: settings.name,
        kind: 'mcp',
        target,
        tools: [],
        skipped: [],
        error: error instanceof Error ? error.message : String(error),
        status: connection.status(),
      };
    }
  }

  async function loadOpenApi(settings: ConnectorsConfig['openapi'][number]): Promise<ConnectorReport> {
    try {
      const set = await createOpenApiTools(settings, {
        writeHosts: config.writeHosts,
        ...(options.resolve ? { resolve: options.resolve } : {}),
      });
      return {
        name: settings.name,
        kind: 'openapi',
        target: set.baseURL,
        tools: set.tools,
        skipped: set.skipped,
        error: undefined,
        operations: { total: set.total, filteredOut: set.filteredOut },
      };
    } catch (error) {
      return {
        name: settings.name,
        kind: 'openapi',
        target: settings.baseURL ?? settings.spec,
        tools: [],
        skipped: [],
        error: error instanceof Error ? error.message : String(error),
      };
    }
  }

  function load(): Promise<LoadedConnectors> {
    loading ??= (async () => {
      const reports = await Promise.all([...config.mcp.map(loadMcp), ...config.openapi.map(loadOpenApi)]);
      const tools = reports.flatMap((report) => report.tools);
      return { reports, tools, policies: defaultPolicies(config, tools) };
    })();
    return loading;
  }

  return {
    config,
    load,
    async loadAll() {
      const loaded = await load();
      const failed = loaded.reports.find((report) => report.error !== undefined);
      if (failed !== undefined) {
        throw new ConnectorError(
          'connector_failed',
          `connector ${failed.name} is unavailable: ${failed.error} (see \`hataraku mcp list\` or \`hataraku tools list\`)`,
        );
      }
      return loaded;
    },
    async close() {
      await Promise.all([...connections.values()].map((connection) => connection.close()));
    },
  };
}

function defaultPolicies(config: ConnectorsConfig, tools: ConnectorTool[]): ToolPolicy[] {
  const policies: ToolPolicy[] = [];
  for (const entry of tools) {
    if (!entry.destructive) continue;
    if (entry.source.startsWith('mcp:')) {
      const server = config.mcp.find((candidate) => `mcp:${candidate.name}` === entry.source);
      const action = server?.destructive ?? 'ask';
      if (action === 'allow') continue;
      policies.push({
        tool: entry.tool.name,
        action,
        reason: `${entry.tool.name} is an MCP tool that may change or delete things (connectors.mcp.${server?.name}.destructive is "${action}")`,
      });
    } else {
      policies.push({
        tool: entry.tool.name,
        action: 'ask',
        reason: `${entry.tool.name} writes to an API (${entry.operation}); add its host to connectors.writeHosts to run writes without asking`,
      });
    }
  }
  return policies;
}

/** Built-in tools and connector tools together, refusing two tools of one name. */
export function combineTools(builtin: readonly Tool[], connectorTools: readonly ConnectorTool[]): Tool[] {
  const names = new Set(builtin.map((entry) => entry.name));
  for (const entry of connectorTools) {
    if (names.has(entry.tool.name)) {
      throw new ConnectorError(
        'connector_failed',
        `the connector tool ${entry.tool.name} has the name of another tool; rename the connector (${entry.source}).`,
      );
    }
    names.add(entry.tool.name);
  }
  return [...builtin, ...connectorTools.map((entry) => entry.tool)];
}
