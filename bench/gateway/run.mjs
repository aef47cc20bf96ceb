/**
 * Gateway benchmark: Hataraku's OpenAI-compatible gateway (`hataraku serve`, from dist/) and the
 * Portkey gateway (@portkey-ai/gateway, run locally), each in its own process in front of the
 * same fake upstream (its own process, answering at once) on loopback, measured in one run by
 * one load generator: latency added over calling the upstream directly (p50, p99) at
 * concurrency 1 and 16, and requests per second at saturation (concurrency 64), streamed and
 * not, with the cache off. Hataraku is called with an API key and records every call in its
 * ledger (batched after the response), as in production.
 *
 * Run: `npm run bench:gateway` (builds dist/ first). Environment: BENCH_NO_WRITE=1 to leave
 * results.json and RESULTS.md untouched; BENCH_SCALE=0.2 for a quick look with fewer requests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repositoryRoot = join(here, '..', '..');
const require = createRequire(import.meta.url);
const scale = Number(process.env.BENCH_SCALE ?? 1);
const settings = {
  sequential: { concurrency: 1, warmup: Math.round(200 * scale), requests: Math.round(1500 * scale) },
  concurrent: { concurrency: 16, warmup: Math.round(320 * scale), requests: Math.round(4000 * scale) },
  saturation: { concurrency: 64, durationMs: Math.round(3000 * Math.max(scale, 0.3)) },
  /** The whole run stops measuring after this long, whatever is left. */
  budgetMs: 150_000,
};
const started = performance.now();
const children = [];
// The gateways and the upstream go with this process, however it ends.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function startProcess(command, args, options, ready) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
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
}

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url) {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not answer`);
}

// --- the three targets -------------------------------------------------------------------------
const upstream = await startProcess(process.execPath, [join(here, 'upstream.mjs')], {}, /listening on (\d+)/);
const upstreamPort = Number(upstream.match[1]);

const workDirectory = mkdtempSync(join(os.tmpdir(), 'hataraku-bench-gateway-'));
writeFileSync(
  join(workDirectory, 'hataraku.config.json'),
  JSON.stringify({
    providers: {
      up: { type: 'openai', baseURL: `http://127.0.0.1:${upstreamPort}/v1`, apiKeyEnv: 'UP_KEY', maxRetries: 0 },
    },
    prices: { 'up:gpt-bench': { inputPerMillion: 0.15, outputPerMillion: 0.6 } },
  }),
);
const cli = join(repositoryRoot, 'dist', 'cli', 'main.js');
const environment = { ...process.env, UP_KEY: 'sk-bench', NO_COLOR: '1' };
const created = spawnSync(process.execPath, [cli, 'keys', 'create', 'bench', '--tenant', 'bench', '--json'], {
  cwd: workDirectory,
  env: environment,
  encoding: 'utf8',
});
if (created.status !== 0) throw new Error(`keys create failed: ${created.stderr}`);
const hatarakuKey = JSON.parse(created.stdout).secret;
const hataraku = await startProcess(
  process.execPath,
  [cli, 'serve', '--port', '0', '--max-concurrent-requests', '1024'],
  { cwd: workDirectory, env: environment },
  /listening on (http:\/\/[^\s]+)/,
);
const hatarakuUrl = new URL(hataraku.match[1]);

const portkeyDirectory = dirname(require.resolve('@portkey-ai/gateway/package.json'));
const portkeyVersion = JSON.parse(readFileSync(join(portkeyDirectory, 'package.json'), 'utf8')).version;
const portkeyPort = await freePort();
const portkey = await startProcess(
  process.execPath,
  [
    '--import',
    join(here, 'loopback-only.mjs'),
    join(portkeyDirectory, 'build', 'start-server.js'),
    `--port=${portkeyPort}`,
    '--headless',
  ],
  { env: { ...process.env, TRUSTED_CUSTOM_HOSTS: '127.0.0.1' } },
  /Ready for connections|running at/,
);
await waitForHttp(`http://127.0.0.1:${portkeyPort}/`);

const targets = {
  direct: { port: upstreamPort, headers: {}, model: 'gpt-bench', pid: upstream.child.pid },
  hataraku: {
    port: Number(hatarakuUrl.port),
    headers: { authorization: `Bearer ${hatarakuKey}` },
    model: 'up:gpt-bench',
    pid: hataraku.child.pid,
  },
  portkey: {
    port: portkeyPort,
    headers: {
      authorization: 'Bearer sk-bench',
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `http://127.0.0.1:${upstreamPort}/v1`,
    },
    model: 'gpt-bench',
    pid: portkey.child.pid,
  },
};

// --- the load generator ------------------------------------------------------------------------
function requestOnce(agent, target, streamed) {
  const body = JSON.stringify({
    model: target.model,
    messages: [{ role: 'user', content: 'Say hello' }],
    ...(streamed ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
  return new Promise((resolve, reject) => {
    const begin = performance.now();
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
          const elapsed = performance.now() - begin;
          const complete = streamed
            ? text.includes('[DONE]') && text.includes('upstream')
            : text.includes('Hello from the upstream');
          if (response.statusCode !== 200 || !complete)
            reject(new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
          else resolve(elapsed);
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function closedLoop(target, streamed, concurrency, stopAfter) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  let sent = 0;
  const worker = async () => {
    while (stopAfter(sent)) {
      sent++;
      latencies.push(await requestOnce(agent, target, streamed));
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - begin) / 1000;
  agent.destroy();
  return { latencies, seconds };
}

const percentile = (sorted, fraction) =>
  sorted[Math.min(sorted.length - 1, Math.floor(fraction * (sorted.length - 1)))];

async function latencyRun(target, streamed, { concurrency, warmup, requests }) {
  await closedLoop(target, streamed, concurrency, (sent) => sent < warmup);
  const { latencies } = await closedLoop(target, streamed, concurrency, (sent) => sent < requests);
  latencies.sort((left, right) => left - right);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), requests: latencies.length };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux), or undefined. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticksPerSecond = 100;
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

async function saturationRun(target, streamed, { concurrency, durationMs }) {
  await closedLoop(target, streamed, concurrency, (sent) => sent < concurrency * 10);
  const deadline = performance.now() + durationMs;
  const cpuBefore = cpuSeconds(target.pid);
  const { latencies, seconds } = await closedLoop(target, streamed, concurrency, () => performance.now() < deadline);
  const cpuAfter = cpuSeconds(target.pid);
  return {
    rps: latencies.length / seconds,
    requests: latencies.length,
    // What one request costs the serving process, whatever else the machine is doing.
    cpuMsPerRequest:
      cpuBefore === undefined || cpuAfter === undefined
        ? undefined
        : ((cpuAfter - cpuBefore) * 1000) / latencies.length,
  };
}

// --- the measurements ----------------------------------------------------------------------------
const rows = [];
let cutShort = false;
/** Targets that fail in a mode are reported with their error and left out of that mode. */
const failures = {};
for (const streamed of [false, true]) {
  for (const name of ['direct', 'hataraku', 'portkey']) {
    try {
      await requestOnce(new http.Agent({ keepAlive: false }), targets[name], streamed);
    } catch (error) {
      failures[`${name}:${streamed ? 'streamed' : 'not streamed'}`] = error.message;
    }
  }
}
const works = (name, streamed) => !failures[`${name}:${streamed ? 'streamed' : 'not streamed'}`];
for (const streamed of [false, true]) {
  for (const [phase, load] of [
    ['sequential', settings.sequential],
    ['concurrent', settings.concurrent],
  ]) {
    const measured = {};
    for (const name of ['direct', 'hataraku', 'portkey']) {
      if (!works(name, streamed)) continue;
      if (performance.now() - started > settings.budgetMs) {
        cutShort = true;
        break;
      }
      measured[name] = await latencyRun(targets[name], streamed, load);
    }
    rows.push({ kind: 'latency', streamed, phase, concurrency: load.concurrency, measured });
  }
  const saturation = {};
  for (const name of ['direct', 'hataraku', 'portkey']) {
    if (!works(name, streamed)) continue;
    if (performance.now() - started > settings.budgetMs) {
      cutShort = true;
      break;
    }
    saturation[name] = await saturationRun(targets[name], streamed, settings.saturation);
  }
  rows.push({ kind: 'saturation', streamed, concurrency: settings.saturation.concurrency, measured: saturation });
}

for (const child of children) child.kill('SIGTERM');

// --- the report ------------------------------------------------------------------------------
const round = (value, digits = 3) => (value === undefined ? undefined : Number(value.toFixed(digits)));
const added = (row, name, key) =>
  row.measured[name] && row.measured.direct ? round(row.measured[name][key] - row.measured.direct[key]) : undefined;
const summary = rows.map((row) =>
  row.kind === 'latency'
    ? {
        ...row,
        addedMs: Object.fromEntries(
          ['hataraku', 'portkey'].map((name) => [name, { p50: added(row, name, 'p50'), p99: added(row, name, 'p99') }]),
        ),
      }
    : {
        ...row,
        hatarakuOverPortkey:
          row.measured.hataraku && row.measured.portkey
            ? round(row.measured.hataraku.rps / row.measured.portkey.rps, 2)
            : undefined,
      },
);
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
  cwd: repositoryRoot,
  encoding: 'utf8',
}).stdout.trim();
const results = {
  date: new Date().toISOString(),
  machine: {
    cpu: os.cpus()[0]?.model,
    logicalCores: os.cpus().length,
    node: process.version,
    os: `${os.type()} ${os.release()} (${process.platform}/${process.arch})`,
    loadAverage: os.loadavg().map((value) => round(value, 1)),
  },
  versions: { hataraku: commit, portkeyGateway: portkeyVersion },
  settings,
  cutShort,
  failures,
  seconds: round((performance.now() - started) / 1000, 1),
  rows: summary,
};

const lines = [
  '# Gateway: results',
  '',
  `Generated by \`npm run bench:gateway\` on ${results.date}${cutShort ? ' (cut short by the time budget)' : ''}, in ${results.seconds} s.`,
  '',
  '## Machine',
  '',
  `- CPU: ${results.machine.cpu}, ${results.machine.logicalCores} logical cores; ${results.machine.os}; Node ${results.machine.node}`,
  `- Load average (1, 5, 15 min) when the run ended: ${results.machine.loadAverage.join(', ')}. The load generator, the upstream and both gateways share its cores, so the figures include their competition for the CPU (and vary more when other jobs run too).`,
  `- Hataraku at commit ${commit} (\`hataraku serve\`, an API key, the ledger on, the cache off); Portkey gateway ${portkeyVersion} from npm (\`build/start-server.js\`, on loopback), both in front of \`bench/gateway/upstream.mjs\`.`,
  '',
  '## Method',
  '',
  `- One closed-loop load generator (Node \`http\` with keep-alive) sends \`POST /v1/chat/completions\` to the upstream directly, through Hataraku and through Portkey, one after the other, streamed (\`stream: true\` with usage) and not. Latency is the time to the last byte of the response. Concurrency 1: ${settings.sequential.warmup} warm-up then ${settings.sequential.requests} requests; concurrency 16: ${settings.concurrent.warmup} then ${settings.concurrent.requests}. Added latency is the gateway's percentile minus the direct percentile.`,
  `- Saturation: ${settings.saturation.concurrency} requests in flight for ${settings.saturation.durationMs / 1000} s; requests per second completed.`,
  '- CPU ms per request: user + system CPU time of the serving process during the saturation run (from /proc), divided by the requests it served; on a shared machine this says more than requests per second, which depend on how much of the cores the process got.',
  '- Hataraku always streams from the upstream (its provider does), also for a non-streamed client request.',
  '',
  '## Added latency (ms)',
  '',
  '| mode | concurrency | direct p50 | direct p99 | Hataraku +p50 | Hataraku +p99 | Portkey +p50 | Portkey +p99 |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...summary
    .filter((row) => row.kind === 'latency')
    .map(
      (row) =>
        `| ${row.streamed ? 'streamed' : 'not streamed'} | ${row.concurrency} | ${round(row.measured.direct?.p50)} | ${round(row.measured.direct?.p99)} | ${row.addedMs.hataraku.p50 ?? 'n/a'} | ${row.addedMs.hataraku.p99 ?? 'n/a'} | ${row.addedMs.portkey.p50 ?? 'n/a'} | ${row.addedMs.portkey.p99 ?? 'n/a'} |`,
    ),
  '',
  '## Requests per second at saturation',
  '',
  '| mode | direct | Hataraku | Portkey | Hataraku / Portkey | CPU ms per request: upstream, Hataraku, Portkey |',
  '| --- | ---: | ---: | ---: | ---: | --- |',
  ...summary
    .filter((row) => row.kind === 'saturation')
    .map(
      (row) =>
        `| ${row.streamed ? 'streamed' : 'not streamed'} | ${round(row.measured.direct?.rps, 0) ?? 'n/a'} | ${round(row.measured.hataraku?.rps, 0) ?? 'n/a'} | ${round(row.measured.portkey?.rps, 0) ?? 'n/a'} | ${row.hatarakuOverPortkey ?? 'n/a'} | ${['direct', 'hataraku', 'portkey'].map((name) => round(row.measured[name]?.cpuMsPerRequest, 3) ?? 'n/a').join(', ')} |`,
    ),
  '',
  ...(Object.keys(failures).length > 0
    ? [
        '## Failures',
        '',
        ...Object.entries(failures).map(
          ([which, message]) =>
            `- ${which}: every request failed (${message.replace(/\s+/g, ' ').slice(0, 200)}), so it is left out of that mode.`,
        ),
        '',
      ]
    : []),
  '## Goals',
  '',
  ...summary
    .filter((row) => row.kind === 'latency' && row.concurrency === 16)
    .map(
      (row) =>
        `- p99 added ≤ 1 ms at concurrency 16, ${row.streamed ? 'streamed' : 'not streamed'}: ${row.addedMs.hataraku.p99} ms, ${row.addedMs.hataraku.p99 <= 1 ? 'met' : 'not met'}.`,
    ),
  ...summary
    .filter((row) => row.kind === 'saturation')
    .map(
      (row) =>
        `- ≥ 1.5× Portkey's requests per second, ${row.streamed ? 'streamed' : 'not streamed'}: ${row.hatarakuOverPortkey === undefined ? 'no comparison (Portkey failed in this mode)' : `${row.hatarakuOverPortkey}×, ${row.hatarakuOverPortkey >= 1.5 ? 'met' : 'not met'}`}.`,
    ),
  '',
];

console.log(lines.join('\n'));
if (process.env.BENCH_NO_WRITE !== '1') {
  writeFileSync(join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(here, 'RESULTS.md'), lines.join('\n'));
}
process.exit(0);
