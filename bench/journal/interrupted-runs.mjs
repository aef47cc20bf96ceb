/**
 * A process that leaves interrupted runs behind, for the recovery benchmark: it starts `count`
 * runs whose last model turn never answers (a very long scripted delay), prints `started` once
 * every run has committed its first four steps, and waits to be killed (SIGKILL) by the
 * benchmark. Its runs stay pending, owned by a dead process.
 *
 * Usage: node interrupted-runs.mjs DATABASE COUNT
 */
import { openSqliteEngine } from '../../dist/engine/index.js';
import { run } from '../../dist/index.js';
import { recoveryAgent } from './recovery-agent.mjs';

const [database, countText] = process.argv.slice(2);
const count = Number(countText);
const engine = openSqliteEngine({ path: database });
const stepsBeforeStall = 4;
let committed = 0;

for (let index = 0; index < count; index++) {
  const runId = `run_recover_${String(index).padStart(4, '0')}`;
  void run(recoveryAgent({ finalDelayMs: 3_600_000 }), 'Count to two.', {
    engine,
    runId,
    onEvent(event) {
      if (event.type === 'step-end' && ++committed === count * stepsBeforeStall) {
        void engine.sync().then(() => process.stdout.write('started\n'));
      }
    },
  }).result.catch(() => {});
}
