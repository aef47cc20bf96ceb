/**
 * MCP over Streamable HTTP at `/mcp` of the server, behind the same API keys: a key's tenant
 * records the runs and its agent list limits the tools. Sessions are kept (the `mcp-session-id`
 * header), so that a client's cancellation or a later request reaches the server instance
 * that runs its tool call; a session belongs to the key that opened it.
 */
import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { ApiError } from '../api-error.js';
import type { HatarakuServer } from '../server.js';
import { createMcpServer } from './mcp-server.js';

interface Session {
  keyId: string;
  transport: WebStandardStreamableHTTPServerTransport;
}

/** Most MCP sessions kept at once; the oldest is closed to make room. */
const maxSessions = 1000;

export function mountMcp(server: HatarakuServer, options: { version: string; builtinToolsWorkspace?: string }): void {
  const sessions = new Map<string, Session>();
  server.app.all('/mcp', async (context) => {
    const key = context.get('key');
    const sessionId = context.req.header('mcp-session-id');
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session || session.keyId !== key.id) {
        throw new ApiError(404, 'not_found', `no MCP session ${sessionId} for this key; initialize a new session.`);
      }
      return session.transport.handleRequest(context.req.raw);
    }
    const body: unknown = context.req.method === 'POST' ? await context.req.json().catch(() => undefined) : undefined;
    if (!isInitializeRequest(body)) {
      throw new ApiError(
        400,
        'invalid_request',
        'send an MCP initialize request first, then the mcp-session-id header it returns with every request.',
      );
    }
    if (sessions.size >= maxSessions) {
      const [oldest] = sessions;
      if (oldest) {
        sessions.delete(oldest[0]);
        await oldest[1].transport.close();
      }
    }
    const mcp = createMcpServer({
      hataraku: server.hataraku,
      agents: server.agents,
      runs: server.runs,
      tenant: key.tenant,
      allowedAgents: key.agents,
      version: options.version,
      // The built-in tools bypass the agent list (files, code, http in one shared workspace): only a
      // key that may run every agent gets them.
      ...(options.builtinToolsWorkspace && key.agents === undefined
        ? { builtinToolsWorkspace: options.builtinToolsWorkspace }
        : {}),
    });
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { keyId: key.id, transport });
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await mcp.connect(transport);
    return transport.handleRequest(context.req.raw, { parsedBody: body });
  });
}
