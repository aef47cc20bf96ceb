/**
 * The Hataraku server: the Runs API, the OpenAI-compatible gateway under `/v1`, and the OpenAPI
 * document at `/openapi.json`, behind API keys, with limits on body size and requests in
 * flight, and the worker's recovery built in (on start and then periodically).
 *
 * Tests call `server.app.request(...)` in process; `startServer` listens on a port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenAPIHono } from '@hono/zod-openapi';
import { sqliteConnectionOf } from '../engine/sqlite/sqlite-engine.js';
import { UserError } from '../errors.js';
import type { Hataraku } from '../hataraku.js';
import { type AgentCatalog, createAgentCatalog } from './agent-catalog.js';
import { createRedactor, errorBody, respondWithError } from './api-error.js';
import { type AuthVariables, authenticate, isLoopbackName } from './auth.js';
import { consoleRoutes } from './console/console-routes.js';
import { createSessionStore, type SessionLifetimes } from './console/session-store.js';
import { type EventLog, openEventLog } from './event-log.js';
import { createRequestListener, type NodeRequestListener } from './fast-lane.js';
import { createGatewayRecorder } from './gateway/gateway-ledger.js';
import { gatewayRoutes } from './gateway/gateway-routes.js';
import { createChatRelay } from './gateway/relay.js';
import { type KeyStore, openKeyStore } from './keys/key-store.js';
import { openPostgresKeyStore } from './keys/postgres-key-store.js';
import { concurrencyLimit, createRateLimiter, createRequestGate, limitBodySize } from './request-limits.js';
import { createRunService, type RunService } from './run-service.js';
import { runsRoutes } from './runs-routes.js';

export interface ServerOptions {
  hataraku: Hataraku;
  /** Answer requests without a key as the `dev` key. Only for a server on a loopback address. */
  development?: boolean;
  /** Largest request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Most requests handled at once; more get 503 (default 256). */
  maxConcurrentRequests?: number;
  /** How often to recover runs (default 5 s); 0 recovers only on start. */
  recoverIntervalMs?: number;
  /** Runs work in the configured workspace instead of a new directory each (default false). */
  sharedWorkspace?: boolean;
  /** How often gateway calls are written to the ledger, in batches (default 100 ms; under `power`, one fsync a second). */
  gatewayFlushMs?: number;
  /** Refuse gateway calls while this many bytes of recorded calls wait to be written (default 64 MiB). */
  maxLedgerBacklogBytes?: number;
  /**
   * Pass chat completions for OpenAI-compatible models through to their provider (default true;
   * see `gateway/relay.ts`); false translates every call through the model layer.
   */
  relay?: boolean;
  /** Where the server reports what no client sees (bugs, failures to record). */
  log?: (line: string) => void;
  /** How long console sessions last (default: 12 hours idle, 24 hours in all). */
  consoleSessions?: SessionLifetimes;
}

export interface HatarakuServer {
  app: OpenAPIHono<{ Variables: AuthVariables }>;
  /** The Node request listener serving `app`, with the fast lane for relayed chat completions. */
  listener: NodeRequestListener;
  hataraku: Hataraku;
  runs: RunService;
  keys: KeyStore;
  events: EventLog;
  agents: AgentCatalog;
  /** Recover once now (also done on start and periodically); returns how many runs started. */
  recover(): Promise<number>;
  /** Stop recovering and executing; runs in progress stay pending, to be recovered. */
  close(): Promise<void>;
}

export function createServer(options: ServerOptions): HatarakuServer {
  const { hataraku } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`hataraku serve: ${line}\n`));
  const journalPath = hataraku.config.journal.path;
  // Open the engine first: it creates the database file and its schema. The run events (and,
  // with a SQLite journal, the API keys) live in the journal's SQLite file, over the journal's
  // own connection when the engine is SQLite on that file; with a PostgreSQL journal there is no
  // such connection, and the event log opens the file (docs/architecture.md).
  const journalConnection = sqliteConnectionOf(hataraku.engine, journalPath);
  // With a PostgreSQL journal the keys live there too, shared by every server (postgres-key-store.ts).
  const keys = hataraku.config.journal.url
    ? openPostgresKeyStore({ url: hataraku.config.journal.url, log })
    : openKeyStore(journalConnection ? { connection: journalConnection } : { path: journalPath });
  const events = openEventLog(journalConnection ? { connection: journalConnection } : { path: journalPath });
  const agents = createAgentCatalog(hataraku.config);
  const runs = createRunService({
    hataraku,
    agents,
    events,
    ...(options.sharedWorkspace ? { sharedWorkspace: true } : {}),
  });
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;

  // What the server holds for its providers never reaches a client, even quoted by an upstream.
  const redact = createRedactor(
    Object.values(hataraku.config.providers).flatMap((provider) => [
      provider.apiKey,
      ...Object.values(provider.headers),
    ]),
  );
  const app = new OpenAPIHono<{ Variables: AuthVariables }>();
  app.onError((error, context) => respondWithError(context, error, log, redact));
  app.notFound((context) =>
    context.json(
      errorBody(
        'not_found',
        `no route ${context.req.method} ${context.req.path}; see /openapi.json for the Runs API and /v1 for the gateway.`,
        404,
      ),
      404,
    ),
  );
  const gate = createRequestGate(options.maxConcurrentRequests ?? 256);
  app.use('*', concurrencyLimit(gate));
  app.use('*', limitBodySize(maxBodyBytes));
  app.get('/health', (context) => context.json({ status: 'ok' }));
  // Sessions live in the journal: they outlive a restart, and every server on it shares them.
  const sessions = createSessionStore({ journal: hataraku.engine, keys, ...options.consoleSessions });
  const rateLimiter = createRateLimiter();
  const auth = authenticate({
    keys,
    rateLimiter,
    development: options.development === true,
    sessions,
  });
  for (const path of ['/runs', '/runs/*', '/costs', '/costs/*', '/approvals', '/v1/*', '/mcp']) app.use(path, auth);
  app.route('/', consoleRoutes({ keys, sessions, development: options.development === true }));

  const runsApp = runsRoutes({ hataraku, runs, events });
  app.route('/', runsApp);
  const recorder = createGatewayRecorder({
    engine: () => hataraku.engine,
    // A SQLite journal is written by a worker thread with its own connection to the file.
    sqlitePath: hataraku.config.journal.url ? undefined : journalPath,
    durability: hataraku.config.journal.durability,
    log,
    ...(options.gatewayFlushMs !== undefined ? { flushIntervalMs: options.gatewayFlushMs } : {}),
    ...(options.maxLedgerBacklogBytes !== undefined ? { maxBacklogBytes: options.maxLedgerBacklogBytes } : {}),
  });
  const relay =
    options.relay === false
      ? undefined
      : createChatRelay({
          config: hataraku.config,
          prices: hataraku.prices,
          record: (call) => recorder.record(call),
          redact,
        });
  app.route('/v1', gatewayRoutes({ hataraku, runs, agents, recorder, log, redact, ...(relay ? { relay } : {}) }));
  const listener = createRequestListener({
    app,
    hataraku,
    recorder,
    relay,
    keys,
    rateLimiter,
    gate,
    maxBodyBytes,
    log,
    redact,
  });
  const openApiDocument = runsApp.getOpenAPIDocument({
    openapi: '3.0.3',
    info: {
      title: 'Hataraku Runs API',
      version: '1',
      description:
        'Durable agent runs over HTTP. Authenticate with `Authorization: Bearer hk_…`. The OpenAI-compatible gateway is under /v1.',
    },
  });
  app.get('/openapi.json', (context) => context.json(openApiDocument));

  let lastPrune = 0;
  const recover = async () => {
    try {
      // Alongside recovery, at most hourly: forget the events of runs quiet for a week, and
      // expired console sessions.
      if (Date.now() - lastPrune > 3_600_000) {
        lastPrune = Date.now();
        events.prune(Date.now() - 7 * 86_400_000);
        await sessions.purgeExpired();
      }
      return await runs.recover();
    } catch (error) {
      log(`recovery failed: ${error instanceof Error ? error.message : String(error)}`);
      return 0;
    }
  };
  void recover();
  const interval = options.recoverIntervalMs ?? 5000;
  const timer = interval > 0 ? setInterval(() => void recover(), interval) : undefined;
  timer?.unref();

  return {
    app,
    listener,
    hataraku,
    runs,
    keys,
    events,
    agents,
    recover,
    async close() {
      if (timer) clearInterval(timer);
      relay?.close();
      await recorder.close();
      await runs.close();
      keys.close();
      events.close();
    },
  };
}

/** A failure to listen as one line saying what to change; other errors as they are. */
function listenError(error: NodeJS.ErrnoException, address: { host: string; port: number }): Error {
  const where = `${address.host}:${address.port}`;
  if (error.code === 'EADDRINUSE') {
    return new UserError(
      'usage',
      `cannot listen on ${where}: the port is in use; stop what uses it or pick another --port.`,
    );
  }
  if (error.code === 'EACCES') {
    return new UserError('usage', `cannot listen on ${where}: permission denied; pick a port above 1023.`);
  }
  if (error.code === 'EADDRNOTAVAIL') {
    return new UserError('usage', `cannot listen on ${where}: this machine has no such address; check --host.`);
  }
  return error;
}

/** A loopback address to listen on: `localhost`, `::1` or an IPv4 address in 127.0.0.0/8 (not a name like `127.example.com`). */
export function isLoopback(host: string): boolean {
  return isLoopbackName(host);
}

/** Listen on `host:port` (port 0: any free port); resolves once listening. */
export async function startServer(
  server: HatarakuServer,
  address: { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  // Not before the keys are loaded: until then every key would be refused.
  try {
    await server.keys.ready();
  } catch (error) {
    await server.close();
    throw error;
  }
  const listening = await new Promise<{ node: http.Server; port: number }>((resolve, reject) => {
    const node = http.createServer(server.listener);
    node.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, address)));
    node.listen(address.port, address.host, () => {
      node.off('error', reject);
      resolve({ node, port: (node.address() as AddressInfo).port });
    });
  });
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    url: `http://${host}:${listening.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in listening.node) listening.node.closeAllConnections();
        listening.node.close(() => resolve());
      }),
  };
}
