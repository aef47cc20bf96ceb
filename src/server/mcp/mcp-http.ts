/**
 * MCP over Streamable HTTP at `/mcp` of the server, stateless (each request gets its own MCP
 * server and transport), behind the same API keys: a key's tenant records the runs and its
 * agent list limits the tools.
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { HatarakuServer } from '../server.js';
import { createMcpServer } from './mcp-server.js';

export function mountMcp(server: HatarakuServer, options: { version: string; builtinToolsWorkspace?: string }): void {
  server.app.all('/mcp', async (context) => {
    const key = context.get('key');
    const mcp = createMcpServer({
      hataraku: server.hataraku,
      agents: server.agents,
      runs: server.runs,
      tenant: key.tenant,
      allowedAgents: key.agents,
      version: options.version,
      ...(options.builtinToolsWorkspace ? { builtinToolsWorkspace: options.builtinToolsWorkspace } : {}),
    });
    const transport = new WebStandardStreamableHTTPServerTransport({});
    await mcp.connect(transport);
    const response = await transport.handleRequest(context.req.raw);
    // Close once the response (possibly a stream) is done; the client's disconnect also ends it.
    context.req.raw.signal.addEventListener('abort', () => void mcp.close(), { once: true });
    return response;
  });
}
