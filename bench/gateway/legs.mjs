/**
 * Where a gateway's added latency goes, request by request: `node bench/gateway/legs.mjs` (after
 * `npm run build`) calls the upstream with a model's latency directly and through Hataraku (and,
 * with `LEGS_FLOOR=1`, through `floor-proxy.mjs`), 16 clients in closed loops taking turns, as
 * `run.mjs` measures below saturation. The upstream (`upstream.mjs --stamp`) writes into each
 * answer when it got the request and when it sent the answer's end, on the monotonic clock the
 * load generator reads too, so each request's time splits into:
 *
 * - inbound: from the client sending the request to the upstream getting it;
 * - outbound: from the upstream sending the end of the answer to the client reading it;
 * - overhead: the two together, the time the path adds to the upstream's own.
 *
 * It prints, per target, the p50 and p99 of each, the p99 of the overhead in each turn (a first
 * turn above the others says the warm-up was too short), and the p99 added as `run.mjs` reports
 * it (the p99 of the total time through the gateway minus that of the direct calls). It writes
 * nothing. Settings: LEGS_STREAMED=1, LEGS_REQUESTS (per target, default 6000), LEGS_WARMUP
 * (before the first turn, default 4000), LEGS_CONCURRENCY (default 16), LEGS_HATARAKU_NODE_FLAGS
 * (node flags for `hataraku serve`).
 */

import http from 'node:http';
import { join } from 'node:path';
import {
  benchDirectory,
  chatCall,
  createKey,
  createProcessGroup,
  createWorkDirectory,
  freePort,
  startHatarakuServe,
  startUpstream,
} from './setup.mjs';

const streamed = process.env.LEGS_STREAMED === '1';
const requests = Number(process.env.LEGS_REQUESTS ?? 6000);
const warmup = Number(process.env.LEGS_WARMUP ?? 4000);
const concurrency = Number(process.env.LEGS_CONCURRENCY ?? 16);
const rounds = 5;

const processes = createProcessGroup();
const upstream = await startUpstream(processes, [
  '--latency-ms',
  '20',
  '--jitter-ms',
  '5',
  '--chunk-ms',
  '2',
  '--stamp',
]);
const workDirectory = createWorkDirectory('hataraku-bench-legs-', { up: upstream.port });
const key = createKey(workDirectory);
const hataraku = await startHatarakuServe(
  processes,
  workDirectory,
  (process.env.LEGS_HATARAKU_NODE_FLAGS ?? '').split(' ').filter(Boolean),
);
const targets = {
  direct: { port: upstream.port, headers: {}, model: 'gpt-bench' },
  hataraku: { port: Number(hataraku.url.port), headers: { authorization: `Bearer ${key}` }, model: 'up:gpt-bench' },
};
if (process.env.LEGS_FLOOR === '1') {
  const port = await freePort();
  await processes.start([join(benchDirectory, 'floor-proxy.mjs'), `--port=${port}`], {}, /Ready for connections/);
  targets.floor = {
    port,
    headers: { authorization: 'Bearer floor', 'x-portkey-custom-host': `http://127.0.0.1:${upstream.port}/v1` },
    model: 'gpt-bench',
  };
}

/** One call; resolves with its four times (ns): sent, received upstream, sent upstream, read. */
async function timedCall(agent, target) {
  const { text, sent, read } = await chatCall(agent, target, streamed);
  const stamp = /"system_fingerprint":"(\d+)-(\d+)"/.exec(text);
  if (!stamp)
    throw new Error(`no time stamps in the answer (is upstream.mjs run with --stamp?): ${text.slice(0, 300)}`);
  return [sent, BigInt(stamp[1]), BigInt(stamp[2]), read];
}

/** A closed loop whose first `skip` calls are a warm-up on the same connections, not kept. */
async function turn(target, skip, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const kept = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < skip + count) {
        const keep = sent >= skip;
        sent++;
        const times = await timedCall(agent, target);
        if (keep) kept.push(times);
      }
    }),
  );
  agent.destroy();
  return kept;
}

const names = Object.keys(targets);
const samples = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const name of names) {
    samples[name].push(await turn(targets[name], round === 0 ? warmup : 2 * concurrency, Math.ceil(requests / rounds)));
  }
}
processes.stopAll();

const ms = (nanoseconds) => Number(nanoseconds) / 1e6;
const percentile = (values, fraction) => {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * (sorted.length - 1)))];
};
const fixed = (value) => value.toFixed(3);
const totalP99 = (name) =>
  percentile(
    samples[name].flat().map(([sent, , , read]) => ms(read - sent)),
    0.99,
  );
console.log(
  `${streamed ? 'streamed' : 'not streamed'}, ${concurrency} clients, ${requests} requests per target in ${rounds} turns (ms)`,
);
for (const name of names) {
  const all = samples[name].flat();
  const inbound = all.map(([sent, received]) => ms(received - sent));
  const outbound = all.map(([, , answered, read]) => ms(read - answered));
  const overhead = all.map((_, index) => inbound[index] + outbound[index]);
  const perTurn = samples[name].map((kept) =>
    fixed(
      percentile(
        kept.map(([sent, received, answered, read]) => ms(received - sent + (read - answered))),
        0.99,
      ),
    ),
  );
  console.log(
    `${name.padEnd(9)} inbound p50 ${fixed(percentile(inbound, 0.5))} p99 ${fixed(percentile(inbound, 0.99))}` +
      ` | outbound p50 ${fixed(percentile(outbound, 0.5))} p99 ${fixed(percentile(outbound, 0.99))}` +
      ` | overhead p50 ${fixed(percentile(overhead, 0.5))} p99 ${fixed(percentile(overhead, 0.99))}` +
      ` | overhead p99 by turn ${perTurn.join(' ')}` +
      (name === 'direct' ? '' : ` | p99 added ${fixed(totalP99(name) - totalP99('direct'))}`),
  );
}
process.exit(0);
