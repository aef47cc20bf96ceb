/**
 * A remote MCP server over Streamable HTTP whose tool answers with a message far larger than any
 * tool result: the host stops reading it at the bound and the call fails with one line, where
 * before it read and held the whole answer. The server is a real HTTP server on loopback that
 * answers JSON-RPC with `application/json`, as the Streamable HTTP transport allows, or with a
 * stream of events.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { McpServerSettings } from '../../config/connectors-settings.js';
import { createMcpConnection, type McpConnection } from './mcp-connection.js';

/** Bytes of the flood answer's text: past the 1 MB bound the tests set. */
const floodBytes = 3_000_000;

const servers: Server[] = [];
const connections: McpConnection[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A Streamable HTTP MCP server with one tool, `flood`, that answers in JSON or as an event stream. */
async function startFloodServer(answer: 'json' | 'events'): Promise<number> {
  const server = createServer((request, response) => {
    if (request.method !== 'POST') {
      response.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        id?: number;
        method: string;
        params?: { protocolVersion?: string; name?: string };
      };
      if (message.id === undefined) {
        response.writeHead(202).end();
        return;
      }
      let result: unknown;
      if (message.method === 'initialize') {
        result = {
          protocolVersion: message.params?.protocolVersion,
          capabilities: { tools: {} },
          serverInfo: { name: 'flood', version: '1.0.0' },
        };
      } else if (message.method === 'tools/list') {
        result = {
          tools: [
            { name: 'flood', inputSchema: { type: 'object', properties: {} }, annotations: { readOnlyHint: true } },
          ],
        };
      } else if (message.method === 'tools/call') {
        result = { content: [{ type: 'text', text: 'x'.repeat(floodBytes) }] };
      } else {
        result = {};
      }
      const body = JSON.stringify({ jsonrpc: '2.0', id: message.id, result });
      if (answer === 'json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        // In pieces, as a server streaming a long answer would.
        for (let offset = 0; offset < body.length; offset += 65_536)
          response.write(body.slice(offset, offset + 65_536));
        response.end();
      } else {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end(`event: message\ndata: ${body}\n\n`);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function connectTo(port: number): McpConnection {
  const settings: McpServerSettings = {
    name: 'flood',
    transport: 'http',
    command: undefined,
    args: [],
    env: {},
    cwd: undefined,
    url: `http://127.0.0.1:${port}/mcp`,
    headers: {},
    secretValues: [],
    timeoutMs: 2_000,
    destructive: 'ask',
    include: undefined,
    exclude: undefined,
  };
  const connection = createMcpConnection(settings, { maxMessageBytes: 1_000_000 });
  connections.push(connection);
  return connection;
}

describe('a remote MCP server answering with a message over the bound', () => {
  it.each(['json', 'events'] as const)(
    'as %s: the call fails with one line, and small messages pass',
    async (answer) => {
      const connection = connectTo(await startFloodServer(answer));
      // initialize and tools/list are small: they pass.
      expect((await connection.listTools()).map((tool) => tool.name)).toEqual(['flood']);
      const failure = await connection
        .callTool('flood', {}, { signal: new AbortController().signal, readOnly: true })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/the MCP server sent a message over 1000000 bytes/);
      expect((failure as Error).message).not.toContain('\n');
    },
  );
});
