/**
 * A worker process of the scale-out benchmark: it opens the journal (a PostgreSQL URL or a
 * SQLite file), prints `ready`, waits for a line on stdin, then takes runs from the shared queue
 * (`engine.takeRuns`), at most CONCURRENCY at once, and resumes each with the benchmark's agent
 * until no pending run is left. Prints `done <runs completed>` and exits.
 *
 * Usage: node worker.mjs JOURNAL CONCURRENCY
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openPostgresEngine, openSqliteEngine } from '../../dist/engine/index.js';
import { createHataraku } from '../../dist/index.js';
import { recoveryAgent } from '../journal/recovery-agent.mjs';

const [journal, concurrencyText] = process.argv.slice(2);
const concurrency = Number(concurrencyText ?? 16);
const engine = /^postgres(ql)?:\/\//.test(journal)
  ? openPostgresEngine({ url: journal, poolSize: Math.min(concurrency, 10) })
  : openSqliteEngine({ path: journal });
const hataraku = createHataraku({
  cwd: mkdtempSync(join(os.tmpdir(), 'hataraku-bench-worker-')),
  env: {},
  engine,
  maxConcurrentRuns: concurrency,
});
await engine.listRuns({ limit: 1 });
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise((resolve) => lines.once('line', resolve));
lines.close();

let completed = 0;
const active = new Map();
for (;;) {
  const free = concurrency - active.size;
  const taken = free > 0 ? await engine.takeRuns({ limit: free }) : [];
  for (const run of taken) {
    const execution = hataraku
      .resume(recoveryAgent({ finalDelayMs: 0 }), run.id)
      .result.then((result) => {
        if (result.status === 'completed') completed++;
      })
      .catch((error) => process.stderr.write(`${run.id}: ${error.message}\n`))
      .finally(() => active.delete(run.id));
    active.set(run.id, execution);
  }
  if (taken.length === 0) {
    if (active.size === 0 && (await engine.listRuns({ status: 'pending', limit: 1 })).length === 0) break;
    await Promise.race([...active.values(), new Promise((resolve) => setTimeout(resolve, 5))]);
  }
}
await hataraku.close();
await engine.close();
process.stdout.write(`done ${completed}\n`);
