/**
 * Gateway benchmark: Hataraku's OpenAI-compatible gateway (`hataraku serve`, from dist/) and the
 * Portkey gateway (@portkey-ai/gateway, run locally), each in its own process in front of the
 * same fake upstreams (their own processes) on loopback, measured in one run by one load
 * generator, streamed and not, with the cache off. Hataraku is called with an API key and
 * records every call in its ledger (batched after the response), as in production.
 *
 * Three measurements, each reported on its own:
 * 1. Added latency below saturation, the way the published gateway benchmarks measure it
 *    (Bifrost's mocker, llm-gateway-bench): an upstream with a model's latency (a delay with
 *    jitter; streamed, a time to first chunk and a delay between chunks), closed loops of 1 and
 *    16 clients, which then keep each gateway well below its capacity; p50 and p99 of the
 *    latency through the gateway minus those of calling the upstream directly. The three targets
 *    take turns in rounds, so that a change in the machine's load falls on all of them.
 * 2. The same against an upstream that answers at once (the first method of this benchmark): at
 *    concurrency 16 the gateway is then saturated, and its added latency is mostly queueing.
 * 3. Requests per second at saturation (64 in flight, upstream answering at once), and the CPU
 *    time each serving process spent per request.
 *
 * Run: `npm run bench:gateway` (builds dist/ first). Environment: BENCH_NO_WRITE=1 to leave
 * results.json and RESULTS.md untouched; BENCH_SCALE=0.2 for a quick look with fewer requests;
 * BENCH_UPSTREAM_LATENCY_MS, BENCH_UPSTREAM_JITTER_MS, BENCH_UPSTREAM_CHUNK_MS for the upstream's
 * delays (default 20, 5 and 2); BENCH_HATARAKU_NODE_FLAGS for node flags given to `hataraku serve`
 * only (for example `--trace-gc`), to try V8 settings without touching the other processes;
 * BENCH_PEER=floor to run a minimal Node proxy (floor-proxy.mjs) in Portkey's place, as a
 * reference for what this machine lets any Node process add (nothing is written then).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import {
  createKey,
  createProcessGroup,
  createWorkDirectory,
  freePort,
  benchDirectory as here,
  repositoryRoot,
  requestOnce,
  startHatarakuServe,
  startUpstream,
} from './setup.mjs';

const require = createRequire(import.meta.url);
const scale = Number(process.env.BENCH_SCALE ?? 1);
const settings = {
  /** The upstream with a model's latency, for the added latency below saturation. */
  upstreamDelay: {
    latencyMs: Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 20),
    jitterMs: Number(process.env.BENCH_UPSTREAM_JITTER_MS ?? 5),
    chunkMs: Number(process.env.BENCH_UPSTREAM_CHUNK_MS ?? 2),
  },
  belowSaturation: {
    rounds: 5,
    sequential: { concurrency: 1, warmup: Math.round(50 * scale), requests: Math.round(300 * scale) },
    concurrent: { concurrency: 16, warmup: Math.round(4000 * scale), requests: Math.round(6000 * scale) },
  },
  sequential: { concurrency: 1, warmup: Math.round(200 * scale), requests: Math.round(1500 * scale) },
  concurrent: { concurrency: 16, warmup: Math.round(320 * scale), requests: Math.round(4000 * scale) },
  saturation: { concurrency: 64, durationMs: Math.round(3000 * Math.max(scale, 0.3)) },
  /** The whole run stops measuring after this long, whatever is left. */
  budgetMs: 330_000,
};
const started = performance.now();
// The gateways and the upstream go with this process, however it ends.
const processes = createProcessGroup();

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

// --- the targets ---------------------------------------------------------------------------------
const upstream = await startUpstream(processes);
const upstreamPort = upstream.port;
const { latencyMs, jitterMs, chunkMs } = settings.upstreamDelay;
const slowUpstream = await startUpstream(processes, [
  '--latency-ms',
  String(latencyMs),
  '--jitter-ms',
  String(jitterMs),
  '--chunk-ms',
  String(chunkMs),
]);
const slowUpstreamPort = slowUpstream.port;

const workDirectory = createWorkDirectory('hataraku-bench-gateway-', { up: upstreamPort, slow: slowUpstreamPort });
const hatarakuKey = createKey(workDirectory);
const hataraku = await startHatarakuServe(
  processes,
  workDirectory,
  (process.env.BENCH_HATARAKU_NODE_FLAGS ?? '').split(' ').filter(Boolean),
);
const hatarakuUrl = hataraku.url;

const portkeyDirectory = dirname(require.resolve('@portkey-ai/gateway/package.json'));
const portkeyVersion = JSON.parse(readFileSync(join(portkeyDirectory, 'package.json'), 'utf8')).version;
const portkeyPort = await freePort();
// BENCH_PEER=floor: a minimal Node proxy (floor-proxy.mjs) in Portkey's place, as a reference.
const floor = process.env.BENCH_PEER === 'floor';
const portkey = await processes.start(
  floor
    ? [join(here, 'floor-proxy.mjs'), `--port=${portkeyPort}`]
    : [
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

/** The three targets in front of the upstream on `port` (`provider`: its name in Hataraku's config). */
const targetsFor = (port, provider, upstreamPid) => ({
  direct: { port, headers: {}, model: 'gpt-bench', pid: upstreamPid },
  hataraku: {
    port: Number(hatarakuUrl.port),
    headers: { authorization: `Bearer ${hatarakuKey}` },
    model: `${provider}:gpt-bench`,
    pid: hataraku.child.pid,
  },
  portkey: {
    port: portkeyPort,
    headers: {
      authorization: 'Bearer sk-bench',
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `http://127.0.0.1:${port}/v1`,
    },
    model: 'gpt-bench',
    pid: portkey.child.pid,
  },
});
const targets = targetsFor(upstreamPort, 'up', upstream.child.pid);
const slowTargets = targetsFor(slowUpstreamPort, 'slow', slowUpstream.child.pid);

// --- the load generator ------------------------------------------------------------------------
/**
 * One closed loop of `concurrency` clients, each sending its next request when its last one
 * ended, while `keepSending(sent)` holds. The first `skip` requests sent are a warm-up in the same
 * loop and connections: not recorded, and the time counts from the first recorded one. A warm-up
 * run as a loop of its own would start the measured loop with every client sending at once on new
 * connections, a burst that no steady load has.
 */
async function closedLoop(target, streamed, concurrency, keepSending, skip = 0) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  let sent = 0;
  let begin = skip === 0 ? performance.now() : undefined;
  const worker = async () => {
    while (keepSending(sent)) {
      const recorded = sent >= skip;
      if (sent === skip && begin === undefined) begin = performance.now();
      sent++;
      const latency = await requestOnce(agent, target, streamed);
      if (recorded) latencies.push(latency);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - (begin ?? performance.now())) / 1000;
  agent.destroy();
  return { latencies, seconds };
}

const percentile = (sorted, fraction) =>
  sorted[Math.min(sorted.length - 1, Math.floor(fraction * (sorted.length - 1)))];

const summarise = (latencies, seconds) => {
  latencies.sort((left, right) => left - right);
  return {
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    requests: latencies.length,
    rps: latencies.length / seconds,
  };
};

async function latencyRun(target, streamed, { concurrency, warmup, requests }) {
  const { latencies, seconds } = await closedLoop(
    target,
    streamed,
    concurrency,
    (sent) => sent < warmup + requests,
    warmup,
  );
  return summarise(latencies, seconds);
}

/**
 * Latency of each named target in `rounds` turns (direct, Hataraku, Portkey, direct, …), each
 * turn its share of the requests after a short warm-up (the first turn after all of `warmup`,
 * so that a process's first seconds, its code being compiled and its heap growing, stay out);
 * the samples of all turns are pooled.
 */
async function roundsRun(names, targetsByName, streamed, { concurrency, warmup, requests }, rounds) {
  const pooled = Object.fromEntries(names.map((name) => [name, { latencies: [], seconds: 0 }]));
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const warmupRequests = round === 0 ? warmup : 2 * concurrency;
      const { latencies, seconds } = await closedLoop(
        targetsByName[name],
        streamed,
        concurrency,
        (sent) => sent < warmupRequests + Math.ceil(requests / rounds),
        warmupRequests,
      );
      pooled[name].latencies.push(...latencies);
      pooled[name].seconds += seconds;
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarise(pooled[name].latencies, pooled[name].seconds)]));
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
const modeName = (streamed) => (streamed ? 'streamed' : 'not streamed');
for (const streamed of [false, true]) {
  for (const name of ['direct', 'hataraku', 'portkey']) {
    for (const [set, suffix] of [
      [targets, ''],
      [slowTargets, ' (upstream with latency)'],
    ]) {
      try {
        await requestOnce(new http.Agent({ keepAlive: false }), set[name], streamed);
      } catch (error) {
        failures[`${name}:${modeName(streamed)}${suffix}`] = error.message;
      }
    }
  }
}
const works = (name, streamed) =>
  !failures[`${name}:${modeName(streamed)}`] && !failures[`${name}:${modeName(streamed)} (upstream with latency)`];
const outOfTime = () => {
  if (performance.now() - started <= settings.budgetMs) return false;
  cutShort = true;
  return true;
};
for (const streamed of [false, true]) {
  for (const [phase, load] of [
    ['sequential', settings.belowSaturation.sequential],
    ['concurrent', settings.belowSaturation.concurrent],
  ]) {
    if (outOfTime()) break;
    const names = ['direct', 'hataraku', 'portkey'].filter((name) => works(name, streamed));
    const measured = await roundsRun(names, slowTargets, streamed, load, settings.belowSaturation.rounds);
    rows.push({ kind: 'below-saturation', streamed, phase, concurrency: load.concurrency, measured });
  }
}
for (const streamed of [false, true]) {
  for (const [phase, load] of [
    ['sequential', settings.sequential],
    ['concurrent', settings.concurrent],
  ]) {
    const measured = {};
    for (const name of ['direct', 'hataraku', 'portkey']) {
      if (!works(name, streamed)) continue;
      if (outOfTime()) break;
      measured[name] = await latencyRun(targets[name], streamed, load);
    }
    rows.push({ kind: 'latency', streamed, phase, concurrency: load.concurrency, measured });
  }
  const saturation = {};
  for (const name of ['direct', 'hataraku', 'portkey']) {
    if (!works(name, streamed)) continue;
    if (outOfTime()) break;
    saturation[name] = await saturationRun(targets[name], streamed, settings.saturation);
  }
  rows.push({ kind: 'saturation', streamed, concurrency: settings.saturation.concurrency, measured: saturation });
}

processes.stopAll();

// --- the report ------------------------------------------------------------------------------
const round = (value, digits = 3) => (value === undefined ? undefined : Number(value.toFixed(digits)));
const added = (row, name, key) =>
  row.measured[name] && row.measured.direct ? round(row.measured[name][key] - row.measured.direct[key]) : undefined;
const saturationRps = (streamed, name) =>
  rows.find((row) => row.kind === 'saturation' && row.streamed === streamed)?.measured[name]?.rps;
const summary = rows.map((row) =>
  row.kind === 'saturation'
    ? {
        ...row,
        hatarakuOverPortkey:
          row.measured.hataraku && row.measured.portkey
            ? round(row.measured.hataraku.rps / row.measured.portkey.rps, 2)
            : undefined,
      }
    : {
        ...row,
        addedMs: Object.fromEntries(
          ['hataraku', 'portkey'].map((name) => [name, { p50: added(row, name, 'p50'), p99: added(row, name, 'p99') }]),
        ),
        // How loaded each gateway was: the requests per second it served here over its saturation rate.
        loadOfSaturation: Object.fromEntries(
          ['hataraku', 'portkey'].map((name) => {
            const most = saturationRps(row.streamed, name);
            return [name, row.measured[name] && most ? round(row.measured[name].rps / most, 2) : undefined];
          }),
        ),
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

const show = (value) => value ?? 'n/a';
const percent = (fraction) => (fraction === undefined ? 'n/a' : `${Math.round(fraction * 100)} %`);
const latencyTable = (kind) => [
  '| mode | concurrency | direct p50 | direct p99 | Hataraku +p50 | Hataraku +p99 | Portkey +p50 | Portkey +p99 | requests/s through Hataraku (its load) | through Portkey (its load) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...summary
    .filter((row) => row.kind === kind)
    .map(
      (row) =>
        `| ${modeName(row.streamed)} | ${row.concurrency} | ${show(round(row.measured.direct?.p50))} | ${show(round(row.measured.direct?.p99))} | ${show(row.addedMs.hataraku.p50)} | ${show(row.addedMs.hataraku.p99)} | ${show(row.addedMs.portkey.p50)} | ${show(row.addedMs.portkey.p99)} | ${show(round(row.measured.hataraku?.rps, 0))} (${percent(row.loadOfSaturation.hataraku)}) | ${show(round(row.measured.portkey?.rps, 0))} (${percent(row.loadOfSaturation.portkey)}) |`,
    ),
];
const { belowSaturation } = settings;
const goalRow = (kind, streamed) =>
  summary.find((row) => row.kind === kind && row.streamed === streamed && row.concurrency === 16);
const lines = [
  '# Gateway: results',
  '',
  `Generated by \`npm run bench:gateway\` on ${results.date}${cutShort ? ' (cut short by the time budget)' : ''}, in ${results.seconds} s.`,
  '',
  '## Machine',
  '',
  `- CPU: ${results.machine.cpu}, ${results.machine.logicalCores} logical cores; ${results.machine.os}; Node ${results.machine.node}`,
  `- Load average (1, 5, 15 min) when the run ended: ${results.machine.loadAverage.join(', ')}. The load generator, the upstreams and both gateways share its cores, so the figures include their competition for the CPU (and vary more when other jobs run too).`,
  `- Hataraku at commit ${commit} (\`hataraku serve\`, an API key, the ledger on, the cache off); Portkey gateway ${portkeyVersion} from npm (\`build/start-server.js\`, on loopback; its \`@hono/node-server\` pinned to the version Hataraku uses, 2.1.9, as with the 1.19 a fresh install picks it fails every streamed request: see README.md), both in front of \`bench/gateway/upstream.mjs\`.`,
  '',
  '## Method',
  '',
  '- One load generator (Node `http` with keep-alive, closed loops: each client sends its next request when the last one ended) sends `POST /v1/chat/completions` to the upstream directly, through Hataraku and through Portkey, streamed (`stream: true` with usage) and not. Latency is the time to the last byte of the response. Added latency is the percentile through a gateway minus the same percentile calling the upstream directly.',
  `- **Below saturation** (the goal's measure, as Bifrost's benchmark with its mocker and llm-gateway-bench measure overhead): the upstream answers like a model server, after ${latencyMs} ± ${jitterMs} ms (uniform); streamed, it ends after the same time, its text chunks ${chunkMs} ms apart (four writes over the last ${3 * chunkMs} ms), as a model takes as long to generate an answer whether it streams it or not. With 1 and 16 clients the gateways then run well below their capacity (the load column: requests per second served over the gateway's rate at saturation below). Concurrency 1: ${belowSaturation.sequential.requests} requests, concurrency 16: ${belowSaturation.concurrent.requests}, for each target, in ${belowSaturation.rounds} rounds taking turns (direct, Hataraku, Portkey), samples pooled; each turn starts with a warm-up that is not recorded, in the same closed loop and on the same connections as the requests it measures (${belowSaturation.sequential.warmup} and ${belowSaturation.concurrent.warmup} requests before a target's first turn, two per client before the others), so that no measured request is one of the burst that starts a turn, every client sending at once on a new connection, which a steady load does not have.`,
  `- **Upstream answering at once** (the first method of this benchmark, kept for comparison): concurrency 1: ${settings.sequential.warmup} warm-up then ${settings.sequential.requests} requests; concurrency 16: ${settings.concurrent.warmup} then ${settings.concurrent.requests}. At concurrency 16 each gateway is then saturated (the load column is near or over 100 %), so the added latency is mostly requests queueing behind each other: about 16 / (requests per second).`,
  `- **Saturation**: ${settings.saturation.concurrency} requests in flight for ${settings.saturation.durationMs / 1000} s against the upstream answering at once; requests per second completed.`,
  '- CPU ms per request: user + system CPU time of the serving process during the saturation run (from /proc), divided by the requests it served; on a shared machine this says more than requests per second, which depend on how much of the cores the process got.',
  '- Hataraku relays these calls (the default for a model of an OpenAI-compatible provider, `src/server/gateway/relay.ts`): it asks the upstream for a stream only when its client does, as Portkey does.',
  "- Portkey's stream handler waits 25 ms before it passes on the first chunk of a stream (a `setTimeout(…, 25)` in its `build/start-server.js`): most of what it adds to a streamed call.",
  '',
  `## Added latency below saturation (ms): upstream with ${latencyMs} ± ${jitterMs} ms latency`,
  '',
  ...latencyTable('below-saturation'),
  '',
  '## Added latency with an upstream answering at once (ms): saturated at concurrency 16',
  '',
  ...latencyTable('latency'),
  '',
  '## Requests per second at saturation',
  '',
  '| mode | direct | Hataraku | Portkey | Hataraku / Portkey | CPU ms per request: upstream, Hataraku, Portkey |',
  '| --- | ---: | ---: | ---: | ---: | --- |',
  ...summary
    .filter((row) => row.kind === 'saturation')
    .map(
      (row) =>
        `| ${modeName(row.streamed)} | ${show(round(row.measured.direct?.rps, 0))} | ${show(round(row.measured.hataraku?.rps, 0))} | ${show(round(row.measured.portkey?.rps, 0))} | ${show(row.hatarakuOverPortkey)} | ${['direct', 'hataraku', 'portkey'].map((name) => show(round(row.measured[name]?.cpuMsPerRequest, 3))).join(', ')} |`,
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
  ...[false, true].map((streamed) => {
    const below = goalRow('below-saturation', streamed)?.addedMs.hataraku.p99;
    const saturated = goalRow('latency', streamed)?.addedMs.hataraku.p99;
    return `- p99 added ≤ 1 ms at concurrency 16, ${modeName(streamed)}, below saturation: ${below === undefined ? 'not measured' : `${below} ms, ${below <= 1 ? 'met' : 'not met'}`}. With the upstream answering at once (saturated): ${show(saturated)} ms.`;
  }),
  ...summary
    .filter((row) => row.kind === 'saturation')
    .map(
      (row) =>
        `- ≥ 1.5× Portkey's requests per second, ${modeName(row.streamed)}: ${row.hatarakuOverPortkey === undefined ? 'no comparison (Portkey failed in this mode)' : `${row.hatarakuOverPortkey}×, ${row.hatarakuOverPortkey >= 1.5 ? 'met' : 'not met'}`}.`,
    ),
  '',
];

// The floor's tables only: the notes around them describe Portkey.
const shown = floor
  ? lines
      .join('\n')
      .split('\n')
      .filter((line) => line.startsWith('|') || line.startsWith('#'))
      .join('\n')
      .replaceAll('Portkey', 'floor proxy')
  : lines.join('\n');
console.log(shown);
// The committed results measure the server as users start it: not with the floor in Portkey's
// place, nor with Node options of the run's own.
const tuned = (process.env.BENCH_HATARAKU_NODE_FLAGS ?? '').trim() !== '';
if (tuned) console.log('BENCH_HATARAKU_NODE_FLAGS is set: RESULTS.md and results.json are left as they are.');
if (process.env.BENCH_NO_WRITE !== '1' && !floor && !tuned) {
  writeFileSync(join(here, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(here, 'RESULTS.md'), lines.join('\n'));
}
process.exit(0);
