/**
 * Where `hataraku serve` spends its CPU on gateway calls: starts the fake upstream and
 * `hataraku serve` (from dist/) under `node --cpu-prof`, drives `POST /v1/chat/completions` at
 * concurrency 16 for a few seconds (not streamed, then streamed), stops the server so it writes
 * its profile, and prints the functions with the most self time, then the same grouped by file.
 *
 * Run: `npm run build && node bench/gateway/profile.mjs [seconds per mode, default 4]`;
 * PROFILE_MODES=plain or streamed profiles one mode only.
 * The .cpuprofile is left in a temporary directory (its path is printed) for Chrome DevTools.
 */
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createKey,
  createProcessGroup,
  createWorkDirectory,
  repositoryRoot,
  requestOnce,
  startHatarakuServe,
  startUpstream,
} from './setup.mjs';

const secondsPerMode = Number(process.argv[2] ?? 4);

const processes = createProcessGroup();
const upstream = await startUpstream(processes);
// Kept: the profiles are written into it, for Chrome DevTools.
const workDirectory = createWorkDirectory('hataraku-profile-gateway-', { up: upstream.port }, { keep: true });
const secret = createKey(workDirectory);
const profileDirectory = join(workDirectory, 'profile');
const server = await startHatarakuServe(processes, workDirectory, ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`]);
const target = {
  port: Number(server.url.port),
  headers: { authorization: `Bearer ${secret}` },
  model: 'up:gpt-bench',
};

let served = 0;
const modes = (process.env.PROFILE_MODES ?? 'plain,streamed').split(',');
for (const streamed of [false, true].filter((value) => modes.includes(value ? 'streamed' : 'plain'))) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const deadline = performance.now() + secondsPerMode * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < deadline) {
        await requestOnce(agent, target, streamed);
        served++;
      }
    }),
  );
  agent.destroy();
}
const exited = new Promise((resolve) => server.child.on('exit', resolve));
server.child.kill('SIGTERM');
await exited;
upstream.child.kill('SIGTERM');

// One profile per thread: the process's main thread (which only passes on the server thread's
// output), the server's thread, the ledger's writer. The server's thread is the busiest one.
const busyMicros = (profile) => {
  const idle = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));
  return profile.samples.reduce((sum, id, index) => sum + (idle.has(id) ? 0 : (profile.timeDeltas[index] ?? 0)), 0);
};
const profiles = readdirSync(profileDirectory)
  .filter((name) => name.endsWith('.cpuprofile'))
  .map((name) => {
    const path = join(profileDirectory, name);
    const parsed = JSON.parse(readFileSync(path, 'utf8'));
    return { path, profile: parsed, busy: busyMicros(parsed) };
  })
  .sort((a, b) => b.busy - a.busy);
for (const { path, busy } of profiles) console.log(`${path}: ${(busy / 1000).toFixed(0)} ms busy`);
const { path: profilePath, profile } = profiles[0];
// Self time per node: the samples that landed on it, times the sampling interval.
const intervals = new Map();
for (let index = 0; index < profile.samples.length; index++) {
  const id = profile.samples[index];
  intervals.set(id, (intervals.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
}
const byFunction = new Map();
const byFile = new Map();
let total = 0;
for (const node of profile.nodes) {
  const micros = intervals.get(node.id) ?? 0;
  total += micros;
  const { functionName, url, lineNumber } = node.callFrame;
  const place = url.startsWith('file://') ? relative(repositoryRoot, fileURLToPath(url)) : url || '(native)';
  const name = `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  const group = place.includes('node_modules/') ? place.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1') : place;
  byFile.set(group, (byFile.get(group) ?? 0) + micros);
}
const idle = (byFunction.get('(idle) (native):0') ?? 0) + (byFunction.get('(program) (native):0') ?? 0);
console.log(`${served} requests served; profile: ${profilePath}`);
console.log(
  `busy ${((total - idle) / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled; ${((total - idle) / 1000 / served).toFixed(3)} ms per request (idle and (program) left out)`,
);
const show = (title, map, count) => {
  console.log(`\n${title}`);
  for (const [name, micros] of [...map.entries()].sort((left, right) => right[1] - left[1]).slice(0, count)) {
    console.log(
      `${((micros / total) * 100).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${name}`,
    );
  }
};
show('Self time by function', byFunction, Number(process.env.PROFILE_TOP ?? 45));
show('Self time by file or package', byFile, 30);

// Total time: each sample counts once for every distinct function on its stack.
const parents = new Map();
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
const nameOf = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const place = url.startsWith('file://') ? relative(repositoryRoot, fileURLToPath(url)) : url || '(native)';
  return `${functionName || '(anonymous)'} ${place}:${lineNumber + 1}`;
};
const inclusive = new Map();
for (const [id, micros] of intervals) {
  const seen = new Set();
  for (let at = id; at !== undefined; at = parents.get(at)) {
    const name = nameOf(nodes.get(at));
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + micros);
  }
}
const filter = new RegExp(process.env.PROFILE_TOTAL_FILTER ?? '^(?!.*\\(root\\)).*(dist/|hono)');
show(
  'Total time by function (Hataraku and Hono)',
  new Map([...inclusive].filter(([name]) => filter.test(name))),
  Number(process.env.PROFILE_TOP ?? 45),
);
