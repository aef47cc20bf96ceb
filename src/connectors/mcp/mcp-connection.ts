/**
 * One MCP server, as a connection that starts on first use and is shared by every run of the
 * process that opened it (starting a server costs seconds, and its tool list is needed before
 * a run can begin; state a server keeps between calls is the server's own business).
 *
 * A server that exits or closes the connection is started again on the next call; after
 * `maxConsecutiveFailures` failures in a row the connection gives up with an error that says so.
 * A call that passes its deadline restarts the server (a hung server would hang every call).
 * `tools/list_changed` refreshes the tool list; calls to a tool the server removed are refused.
 */
import type { Readable } from 'node:stream';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type CallToolResult, ErrorCode, McpError, type Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerSettings } from '../../config/connectors-settings.js';
import { ConnectorError } from '../connector-error.js';
import { withoutPatterns } from '../schema-patterns.js';
import { boundedMessageFetch } from './bounded-message-fetch.js';

/** Where a connection stands, for `hataraku mcp list`. */
export type McpConnectionStatus =
  | { state: 'idle' }
  | { state: 'connected'; serverName: string | undefined; serverVersion: string | undefined }
  | { state: 'failed'; error: string }
  | { state: 'closed' };

export interface McpCallOptions {
  signal: AbortSignal;
  /** Whether the call only reads: a read is tried again once after a crash, a write never. */
  readOnly: boolean;
  /**
   * Sent in the request's `_meta` as `hataraku/idempotency-key` (the same after a crash and
   * resume), for servers that deduplicate writes; servers that do not know it ignore it.
   */
  idempotencyKey?: string | undefined;
}

/** The `_meta` key that carries a write's idempotency key to an MCP server. */
export const idempotencyMetaKey = 'hataraku/idempotency-key';

export interface McpConnection {
  readonly settings: McpServerSettings;
  status(): McpConnectionStatus;
  /** The server's tools; starts the server when it is not running. */
  listTools(): Promise<McpTool[]>;
  callTool(name: string, args: Record<string, unknown>, options: McpCallOptions): Promise<CallToolResult>;
  /** Stop the server (or close the HTTP session); later calls fail. */
  close(): Promise<void>;
}

export interface McpConnectionOptions {
  /** Failures in a row (crashes, failed starts) after which calls stop restarting the server; default 3. */
  maxConsecutiveFailures?: number;
  /** Deadline of the start handshake, and of the whole tool listing, in milliseconds; default 30 000. */
  startTimeoutMs?: number;
  /**
   * Most tools taken from one server (default 1 000); a server that lists more fails to start
   * with an error that says so. A listing whose pages never end is stopped here.
   */
  maxTools?: number;
  /**
   * Most bytes of one message from a server over HTTP (a JSON answer, or one event of a stream);
   * default 16 MiB. Over stdio the SDK's own bound (10 MiB) holds.
   */
  maxMessageBytes?: number;
  clientVersion?: string;
}

const stderrTailCharacters = 1_000;

export function createMcpConnection(settings: McpServerSettings, options: McpConnectionOptions = {}): McpConnection {
  const maxFailures = options.maxConsecutiveFailures ?? 3;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const maxTools = options.maxTools ?? 1_000;
  const boundedFetch = boundedMessageFetch(options.maxMessageBytes ?? 16 * 1024 * 1024);
  let client: Client | undefined;
  let connecting: Promise<Client> | undefined;
  let tools: McpTool[] = [];
  let failures = 0;
  let lastError: string | undefined;
  let closed = false;
  let stderrTail = '';
  /** The last error the transport reported (a stream it stopped reading, say), shown with a timeout. */
  let transportError: string | undefined;

  const label = `MCP server ${settings.name}`;

  // The SDK is loaded when a server is first started: its client brings Ajv and an HTTP stack
  // that a process with no MCP servers never needs.
  async function makeTransport(): Promise<Transport> {
    if (settings.transport === 'stdio') {
      const { getDefaultEnvironment, StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
      const transport = new StdioClientTransport({
        command: settings.command ?? '',
        args: settings.args,
        // Only a minimal PATH/HOME set is inherited: Hataraku's own secrets stay out of the server.
        env: { ...getDefaultEnvironment(), ...settings.env },
        stderr: 'pipe',
        ...(settings.cwd === undefined ? {} : { cwd: settings.cwd }),
      });
      const stream = transport.stderr as Readable | null;
      stream?.on('data', (chunk: Buffer) => {
        stderrTail = (stderrTail + chunk.toString('utf8')).slice(-stderrTailCharacters);
      });
      return transport;
    }
    const url = new URL(settings.url ?? '');
    const requestInit = { headers: settings.headers };
    if (settings.transport === 'sse') {
      const { SSEClientTransport } = await import('@modelcontextprotocol/sdk/client/sse.js');
      return new SSEClientTransport(url, { requestInit, fetch: boundedFetch });
    }
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    return new StreamableHTTPClientTransport(url, { requestInit, fetch: boundedFetch });
  }

  /** What the transport reported during the call, as words for a timeout's message ('' when nothing). */
  function reportedByConnection(): string {
    if (transportError === undefined) return '';
    return ` (the connection reported: ${redact(transportError.replace(/\s+/g, ' ').trim().slice(0, 300))})`;
  }

  function describe(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    const tail = stderrTail.trim().split('\n').slice(-3).join(' | ');
    return redact(tail === '' ? message : `${message} (server said: ${tail})`);
  }

  function redact(text: string): string {
    let result = text;
    for (const value of settings.secretValues) if (value.length >= 4) result = result.split(value).join('[secret]');
    return result;
  }

  /**
   * Every page of the server's tool list, within one deadline and at most `maxTools` tools: a
   * server whose pages each name a next one held 3.8 GB after 30 s and never finished.
   */
  async function listAll(current: Client): Promise<McpTool[]> {
    const all: McpTool[] = [];
    const deadline = Date.now() + startTimeoutMs;
    let cursor: string | undefined;
    do {
      const page = await current.listTools(cursor === undefined ? {} : { cursor }, {
        timeout: Math.max(1, deadline - Date.now()),
      });
      all.push(...page.tools);
      if (all.length > maxTools) {
        throw new Error(
          `it lists more than ${maxTools} tools${page.nextCursor === undefined ? '' : ' and its list goes on'}; Hataraku takes at most ${maxTools} tools from one server; fix the server's tools/list or give it fewer tools`,
        );
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return all;
  }

  function connect(): Promise<Client> {
    if (closed) return Promise.reject(new ConnectorError('connector_closed', `${label} is shut down.`));
    if (client !== undefined) return Promise.resolve(client);
    if (failures >= maxFailures) {
      return Promise.reject(
        new ConnectorError(
          'connector_failed',
          `${label} failed ${failures} times in a row (last: ${lastError ?? 'unknown'}); fix the server or its config and start a new run.`,
        ),
      );
    }
    connecting ??= (async () => {
      const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
      const { AjvJsonSchemaValidator } = await import('@modelcontextprotocol/sdk/validation/ajv');
      const ajv = new AjvJsonSchemaValidator();
      const candidate = new Client(
        { name: 'hataraku', version: options.clientVersion ?? '0' },
        {
          capabilities: {},
          // The SDK checks a structured result against the tool's output schema, in this thread:
          // a server's own pattern (^(a+)+$) against its own result (40 letters and a "!") held
          // the host for hours. Its patterns are left to it (see schema-patterns.ts).
          jsonSchemaValidator: {
            getValidator: (schema) => ajv.getValidator(withoutPatterns(schema)),
          },
          listChanged: {
            tools: {
              debounceMs: 0,
              onChanged: (error, changed) => {
                if (error === null && changed !== null && client === candidate) tools = changed;
              },
            },
          },
        },
      );
      stderrTail = '';
      candidate.onerror = (error) => {
        transportError = error.message;
      };
      try {
        await candidate.connect(await makeTransport(), { timeout: startTimeoutMs });
        tools = await listAll(candidate);
      } catch (error) {
        await candidate.close().catch(() => undefined);
        failures++;
        lastError = describe(error);
        throw new ConnectorError('connector_failed', `${label} could not be started: ${lastError}`);
      }
      candidate.onclose = () => {
        if (client !== candidate) return;
        client = undefined;
        connecting = undefined;
        if (!closed) {
          failures++;
          lastError = describe(new Error('the server closed the connection'));
        }
      };
      client = candidate;
      return candidate;
    })().finally(() => {
      if (client === undefined) connecting = undefined;
    });
    return connecting;
  }

  async function restart(current: Client): Promise<void> {
    if (client === current) {
      client = undefined;
      connecting = undefined;
    }
    await current.close().catch(() => undefined);
  }

  async function callOnce(name: string, args: Record<string, unknown>, options: McpCallOptions) {
    const current = await connect();
    if (!tools.some((tool) => tool.name === name)) {
      throw new ConnectorError(
        'connector_tool_missing',
        `${label} no longer offers the tool ${name}; its tool list changed. Use another tool.`,
      );
    }
    transportError = undefined;
    try {
      const meta =
        options.idempotencyKey === undefined ? {} : { _meta: { [idempotencyMetaKey]: options.idempotencyKey } };
      const result = (await current.callTool({ name, arguments: args, ...meta }, undefined, {
        signal: options.signal,
        timeout: settings.timeoutMs,
      })) as CallToolResult;
      failures = 0;
      return { ok: true as const, result };
    } catch (error) {
      if (options.signal.aborted) throw error;
      if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
        failures++;
        lastError = `no answer within ${settings.timeoutMs} ms`;
        // An answer the transport stopped reading (over the message bound) ends as a timeout too.
        const reported = reportedByConnection();
        await restart(current);
        throw new ConnectorError(
          'connector_timeout',
          `${label} did not answer ${name} within ${settings.timeoutMs} ms${reported}; the server was restarted.${options.readOnly ? '' : ' The call may or may not have taken effect.'}`,
        );
      }
      if (client !== current || (error instanceof McpError && error.code === ErrorCode.ConnectionClosed)) {
        await restart(current);
        return { ok: false as const, error: describe(error) };
      }
      // The server answered with a protocol error (invalid params, a malformed result…).
      throw new ConnectorError('connector_bad_result', `${label} failed on ${name}: ${describe(error)}`);
    }
  }

  return {
    settings,
    status() {
      if (closed) return { state: 'closed' };
      if (client !== undefined) {
        const info = client.getServerVersion();
        return { state: 'connected', serverName: info?.name, serverVersion: info?.version };
      }
      if (lastError !== undefined) return { state: 'failed', error: lastError };
      return { state: 'idle' };
    },
    async listTools() {
      await connect();
      return tools;
    },
    async callTool(name, args, callOptions) {
      const first = await callOnce(name, args, callOptions);
      if (first.ok) return first.result;
      if (!callOptions.readOnly) {
        throw new ConnectorError(
          'connector_crashed',
          `${label} stopped during ${name} (${first.error}); the call may or may not have taken effect, so it was not repeated. Check before trying again.`,
        );
      }
      const second = await callOnce(name, args, callOptions);
      if (second.ok) return second.result;
      throw new ConnectorError('connector_crashed', `${label} stopped twice during ${name} (${second.error}).`);
    },
    async close() {
      closed = true;
      const current = client;
      client = undefined;
      const pending = connecting;
      connecting = undefined;
      await current?.close().catch(() => undefined);
      if (pending !== undefined && current === undefined) {
        await pending.then((started) => started.close()).catch(() => undefined);
      }
    },
  };
}
