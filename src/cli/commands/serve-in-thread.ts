/**
 * The server of `hataraku serve`, run in its thread (`serve-thread.ts`; `serve-command.ts` says
 * why): it listens until the thread is asked to stop, then closes what it opened.
 */
import { UserError } from '../../errors.js';
import { createHataraku } from '../../hataraku.js';
import { mountMcp } from '../../server/mcp/mcp-http.js';
import { createNodeHttpFetch } from '../../server/node-http-fetch.js';
import { createServer, isLoopback, startServer } from '../../server/server.js';
import { type CliIo, journalUnreachableNotice, positiveIntegerFlag } from '../cli-context.js';
import { cliVersion, type ServeFlags } from './serve-command.js';

/** Serve in this thread until `io.signal` is aborted. */
export async function serveInThisThread(flags: ServeFlags, io: CliIo): Promise<number> {
  const host = flags.host ?? '127.0.0.1';
  const port = flags.port === undefined ? 8787 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UserError('usage', `--port must be a port number from 0 to 65535 (got ${JSON.stringify(flags.port)}).`);
  }
  if (flags.dev && !isLoopback(host)) {
    throw new UserError(
      'usage',
      `--dev serves requests without a key, so it listens only on a loopback address; drop --host ${host} or drop --dev.`,
    );
  }
  const maxBodyBytes = positiveIntegerFlag('--max-body-bytes', flags.maxBodyBytes, '1048576');
  const maxConcurrentRequests = positiveIntegerFlag('--max-concurrent-requests', flags.maxConcurrentRequests, '256');
  const hataraku = createHataraku({
    cwd: io.cwd,
    env: io.env,
    fetch: createNodeHttpFetch(),
    onJournalUnreachable: journalUnreachableNotice(io),
    ...(flags.config ? { configPath: flags.config } : {}),
  });
  const server = createServer({
    hataraku,
    development: flags.dev === true,
    ...(flags.sharedWorkspace ? { sharedWorkspace: true } : {}),
    ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
    ...(maxConcurrentRequests !== undefined ? { maxConcurrentRequests } : {}),
    ...(flags.relay === false ? { relay: false } : {}),
    log: (line) => io.stderr.write(`hataraku serve: ${line}\n`),
  });
  mountMcp(server, { version: cliVersion() });
  let listening: Awaited<ReturnType<typeof startServer>>;
  try {
    listening = await startServer(server, { host, port });
  } catch (error) {
    // A port in use or a journal out of reach: release what was opened, then the one-line error.
    await server.close().catch(() => {});
    await hataraku.close().catch(() => {});
    throw error;
  }
  io.stdout.write(
    `hataraku serve: listening on ${listening.url} (Runs API, /v1 gateway, /mcp)${flags.dev ? ' in development mode: requests without a key are served' : ''}\n`,
  );
  try {
    // Ctrl-C (the CLI's signal) or SIGTERM from a process manager, passed on as the thread's
    // signal: stop cleanly.
    await new Promise<void>((resolve) => {
      if (io.signal?.aborted) resolve();
      io.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await listening.close();
    await server.close();
    await hataraku.close();
  }
  return 0;
}
