/**
 * A process that leaves interrupted runs behind on a journal (a PostgreSQL URL or a SQLite
 * file), for the recovery figure: it starts COUNT runs whose last model turn never answers,
 * prints `started` once every run has committed its first four steps (and they are durable),
 * and waits to be killed (SIGKILL). Its runs stay pending, owned by a dead process.
 *
 * Usage: node interrupted-runs.mjs JOURNAL COUNT
 */
import { openPostgresEngine, openSqliteEngine } from '../../dist/engine/index.js';
import { run } from '../../dist/index.js';
import { recoveryAgent } from '../journal/recovery-agent.mjs';

const [journal, countText] = process.argv.slice(2);
const count = Number(countText);
const engine = /^postgres(ql)?:\/\//.test(journal)
  ? openPostgresEngine({ url: journal, poolSize: 10 })
  : openSqliteEngine({ path: journal });
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
