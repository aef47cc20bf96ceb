/**
 * What the gateway benchmark (run.mjs) and its profiler (profile.mjs) both set up: the fake
 * upstreams in their own processes, a work directory whose Hataraku config puts a provider in
 * front of each, an API key, `hataraku serve` (from dist/), and one call to an OpenAI-compatible
 * `POST /v1/chat/completions`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDirectory = dirname(fileURLToPath(import.meta.url));
export const repositoryRoot = join(benchDirectory, '..', '..');
const cli = join(repositoryRoot, 'dist', 'cli', 'main.js');
const environment = { ...process.env, UP_KEY: 'sk-bench', NO_COLOR: '1' };

/** Node processes that go with this one, however it ends. */
export function createProcessGroup() {
  const children = [];
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  return {
    /**
     * Starts `node ...args`; resolves with the child and the match of `ready` in its output, and
     * rejects if it exits first or has not printed it within 30 s.
     */
    start(args, options, ready) {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
      children.push(child);
      return new Promise((resolve, reject) => {
        let output = '';
        const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start:\n${output}`)), 30_000);
        const read = (chunk) => {
          output += chunk.toString();
          const match = ready.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve({ child, match });
          }
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)));
      });
    },
    /** Asks every process started here to stop. */
    stopAll() {
      for (const child of children) child.kill('SIGTERM');
    },
  };
}

/** Starts `upstream.mjs` (with its `--latency-ms`… arguments, if any); resolves with its process and port. */
export async function startUpstream(processes, upstreamArguments = []) {
  const { child, match } = await processes.start(
    [join(benchDirectory, 'upstream.mjs'), ...upstreamArguments],
    {},
    /listening on (\d+)/,
  );
  return { child, port: Number(match[1]) };
}

/**
 * A new temporary directory (named from `prefix`) with a Hataraku config: for each entry of
 * `upstreamPorts` (provider name to port), an OpenAI provider of that name in front of the
 * upstream on that port, and a price for its model `gpt-bench`. It is removed when this process
 * exits (its journal grows to about 90 MB in a run), unless `keep` is set.
 */
export function createWorkDirectory(prefix, upstreamPorts, { keep = false } = {}) {
  const workDirectory = mkdtempSync(join(os.tmpdir(), prefix));
  if (!keep) process.on('exit', () => rmSync(workDirectory, { recursive: true, force: true }));
  const names = Object.keys(upstreamPorts);
  writeFileSync(
    join(workDirectory, 'hataraku.config.json'),
    JSON.stringify({
      providers: Object.fromEntries(
        names.map((name) => [
          name,
          {
            type: 'openai',
            baseURL: `http://127.0.0.1:${upstreamPorts[name]}/v1`,
            apiKeyEnv: 'UP_KEY',
            maxRetries: 0,
          },
        ]),
      ),
      prices: Object.fromEntries(
        names.map((name) => [`${name}:gpt-bench`, { inputPerMillion: 0.15, outputPerMillion: 0.6 }]),
      ),
    }),
  );
  return workDirectory;
}

/** Creates an API key with `hataraku keys create` in `workDirectory`; returns its secret. */
export function createKey(workDirectory) {
  const created = spawnSync(process.execPath, [cli, 'keys', 'create', 'bench', '--tenant', 'bench', '--json'], {
    cwd: workDirectory,
    env: environment,
    encoding: 'utf8',
  });
  if (created.status !== 0) throw new Error(`keys create failed: ${created.stderr}`);
  return JSON.parse(created.stdout).secret;
}

/** Starts `hataraku serve` on a free port in `workDirectory`, with `nodeFlags` given to node; resolves with its process and URL. */
export async function startHatarakuServe(processes, workDirectory, nodeFlags = []) {
  const { child, match } = await processes.start(
    [...nodeFlags, cli, 'serve', '--port', '0', '--max-concurrent-requests', '1024'],
    { cwd: workDirectory, env: environment },
    /listening on (http:\/\/[^\s]+)/,
  );
  return { child, url: new URL(match[1]) };
}

/**
 * One `POST /v1/chat/completions` to `target` ({ port, headers, model }), streamed or not;
 * resolves with the answer's text and when the request was sent and its last byte read
 * (`process.hrtime.bigint()`, ns), or rejects unless it answered 200 with the upstream's whole
 * answer.
 */
export function chatCall(agent, target, streamed) {
  const body = JSON.stringify({
    model: target.model,
    messages: [{ role: 'user', content: 'Say hello' }],
    ...(streamed ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
  return new Promise((resolve, reject) => {
    const sent = process.hrtime.bigint();
    const request = http.request(
      {
        agent,
        host: '127.0.0.1',
        port: target.port,
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...target.headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (piece) => {
          text += piece;
        });
        response.on('end', () => {
          const read = process.hrtime.bigint();
          const complete = streamed
            ? text.includes('[DONE]') && text.includes('upstream')
            : text.includes('Hello from the upstream');
          if (response.statusCode !== 200 || !complete)
            reject(new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
          else resolve({ text, sent, read });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** `chatCall`'s latency in ms, to the last byte. */
export async function requestOnce(agent, target, streamed) {
  const { sent, read } = await chatCall(agent, target, streamed);
  return Number(read - sent) / 1e6;
}

/** A TCP port free on loopback now. */
export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
