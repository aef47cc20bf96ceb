/** `hataraku mcp list`: the configured MCP servers, whether they start, and their tools. */
import { loadCliConnectors } from '../cli-connectors.js';
import { type CliIo, openHataraku } from '../cli-context.js';

export async function mcpListCommand(flags: { json?: boolean; config?: string }, io: CliIo): Promise<number> {
  const hataraku = openHataraku(io, flags.config);
  const servers = hataraku.config.connectors.mcp;
  try {
    if (servers.length === 0) {
      io.stdout.write(
        flags.json
          ? ''
          : 'No MCP servers configured; add them under "connectors": { "mcp": { ... } } in hataraku.config.json.\n',
      );
      return 0;
    }
    // Only the MCP servers: OpenAPI documents are not read for this listing.
    const connectors = await loadCliConnectors(
      { ...hataraku.config, connectors: { ...hataraku.config.connectors, openapi: [] } },
      { strict: false },
    );
    try {
      const reports = connectors.loaded?.reports ?? [];
      let failed = false;
      for (const report of reports) {
        const state = report.error !== undefined ? 'failed' : 'running';
        if (report.error !== undefined) failed = true;
        if (flags.json) {
          io.stdout.write(
            `${JSON.stringify({
              server: report.name,
              target: report.target,
              status: state,
              ...(report.error !== undefined ? { error: report.error } : {}),
              ...(report.status?.state === 'connected'
                ? { serverName: report.status.serverName, serverVersion: report.status.serverVersion }
                : {}),
              tools: report.tools.map((entry) => ({
                name: entry.tool.name,
                mcpName: entry.operation,
                effect: entry.tool.effect,
                destructive: entry.destructive,
              })),
              skipped: report.skipped,
            })}\n`,
          );
          continue;
        }
        const version =
          report.status?.state === 'connected' && report.status.serverName
            ? ` (${report.status.serverName} ${report.status.serverVersion ?? ''})`.replace(' )', ')')
            : '';
        io.stdout.write(`${report.name}  ${state}${version}  ${report.target}\n`);
        if (report.error !== undefined) io.stdout.write(`  error: ${report.error}\n`);
        for (const entry of report.tools) {
          io.stdout.write(`  ${entry.tool.name}  ${entry.tool.effect}${entry.destructive ? ', destructive' : ''}\n`);
        }
        for (const skipped of report.skipped)
          io.stdout.write(`  (left out: ${skipped.operation}: ${skipped.reason})\n`);
      }
      return failed ? 1 : 0;
    } finally {
      await connectors.close();
    }
  } finally {
    await hataraku.close();
  }
}
