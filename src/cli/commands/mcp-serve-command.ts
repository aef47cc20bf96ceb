/**
 * `hataraku mcp serve`: the configured agents (and, with --tools, the built-in tools) as an MCP
 * server, over stdio (default: for desktop assistants and IDEs that start it) or Streamable
 * HTTP (`--http`, at /mcp, behind API keys). Its flags are registered in `main.ts` by
 * `registerMcpServe` (`mcp-serve-options.ts`).
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { sqliteConnectionOf } from '../../engine/sqlite/sqlite-engine.js';
import { UserError } from '../../errors.js';
import { createAgentCatalog } from '../../server/agent-catalog.js';
import { openEventLog } from '../../server/event-log.js';
import { mountMcp } from '../../server/mcp/mcp-http.js';
import { createMcpServer } from '../../server/mcp/mcp-server.js';
import { createRunService } from '../../server/run-service.js';
import { createServer, isLoopback, startServer } from '../../server/server.js';
import { type CliIo, openHataraku } from '../cli-context.js';
import type { McpServeFlags } from './mcp-serve-options.js';
import { cliVersion } from './serve-command.js';

export async function mcpServeCommand(flags: McpServeFlags, io: CliIo): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  const workspace = flags.tools ? hataraku.config.workspace : undefined;
  try {
    if (flags.http) {
      const host = flags.host ?? '127.0.0.1';
      const port = Number(flags.port ?? '8788');
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UserError(
          'usage',
          `--port must be a port number from 0 to 65535 (got ${JSON.stringify(flags.port)}).`,
        );
      }
      if (flags.dev && !isLoopback(host)) {
        throw new UserError(
          'usage',
          `--dev serves requests without a key, so only on a loopback address (got ${host}).`,
        );
      }
      const server = createServer({
        hataraku,
        development: flags.dev === true,
        log: (line) => io.stderr.write(`hataraku mcp: ${line}\n`),
      });
      mountMcp(server, { version: cliVersion(), ...(workspace ? { builtinToolsWorkspace: workspace } : {}) });
      const listening = await startServer(server, { host, port });
      io.stdout.write(`hataraku mcp: Streamable HTTP on ${listening.url}/mcp\n`);
      await untilAborted(io.signal);
      await listening.close();
      await server.close();
      return 0;
    }
    // Over stdio, stdout carries the protocol: nothing else may be written to it.
    const journalPath = hataraku.config.journal.path;
    const journalConnection = sqliteConnectionOf(hataraku.engine, journalPath);
    const events = openEventLog(journalConnection ? { connection: journalConnection } : { path: journalPath });
    const agents = createAgentCatalog(hataraku.config);
    // Over stdio the host is the user's own program: runs work in the configured workspace.
    const runs = createRunService({ hataraku, agents, events, sharedWorkspace: true });
    const server = createMcpServer({
      hataraku,
      agents,
      runs,
      tenant: flags.tenant,
      version: cliVersion(),
      ...(workspace ? { builtinToolsWorkspace: workspace } : {}),
    });
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => {
      transport.onclose = () => resolve();
    });
    await server.connect(transport);
    io.stderr.write(`hataraku mcp: serving ${agents.names().length} agents over stdio\n`);
    await Promise.race([
      closed,
      untilAborted(io.signal),
      new Promise<void>((resolve) => process.stdin.once('end', resolve)),
    ]);
    await server.close();
    await runs.close();
    events.close();
    return 0;
  } finally {
    await hataraku.close();
  }
}

function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
