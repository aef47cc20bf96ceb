/**
 * The flags of `hataraku mcp serve`, registered by `main.ts` without loading the server, which
 * `mcp-serve-command.ts` does when the command runs.
 */
import type { Command } from 'commander';

export interface McpServeFlags {
  http?: boolean;
  port?: string;
  host?: string;
  dev?: boolean;
  tenant?: string;
  tools?: boolean;
  config?: string;
}

/** Add `serve` under the `mcp` command (which other subcommands may share). */
export function registerMcpServe(mcp: Command, run: (flags: McpServeFlags) => Promise<void>): void {
  mcp
    .command('serve')
    .description('serve the configured agents as MCP tools, over stdio (default) or Streamable HTTP (--http)')
    .option('--http', 'serve Streamable HTTP at /mcp instead of stdio')
    .option('--port <n>', 'port for --http', '8788')
    .option('--host <address>', 'address for --http', '127.0.0.1')
    .option('--dev', 'with --http on loopback: serve requests without an API key')
    .option('--tenant <name>', 'over stdio: who the runs are for (cost roll-ups, budgets)')
    .option('--tools', 'also expose the enabled built-in tools (policies apply; "ask" tools are refused)')
    .action(run);
}
