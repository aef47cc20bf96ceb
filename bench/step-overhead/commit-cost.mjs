/**
 * What one durable commit costs on this machine's disk: a one-row INSERT transaction (a row
 * shaped like a Hataraku step) in a WAL database, with `synchronous` FULL (what the journal
 * uses: the WAL is fsynced at every commit), NORMAL (no fsync at commit; survives a process
 * crash, not a power cut) and OFF. FULL minus OFF is the fsync cost of one commit.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { summarize } from './statistics.mjs';

const modes = ['FULL', 'NORMAL', 'OFF'];

/**
 * @param {{ directory: string, commits: number }} options
 * @returns {Record<string, ReturnType<typeof summarize>>} microseconds per commit, by mode
 */
export function measureCommitCost({ directory, commits }) {
  const results = {};
  for (const mode of modes) {
    const database = new Database(join(directory, `commit-cost-${mode.toLowerCase()}.db`));
    database.pragma('journal_mode = WAL');
    database.pragma(`synchronous = ${mode}`);
    database.exec(
      `CREATE TABLE steps (run_id TEXT NOT NULL, step_index INTEGER NOT NULL, name TEXT NOT NULL, output TEXT NOT NULL,
         started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL, PRIMARY KEY (run_id, step_index))`,
    );
    const insert = database.prepare(
      'INSERT INTO steps (run_id, step_index, name, output, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const commit = database.transaction((index) => {
      insert.run('run_commit_cost', index, 'tool:add', JSON.stringify({ ok: true, content: String(index) }), 0, 0);
    });
    const samples = [];
    for (let index = 0; index < commits + 20; index++) {
      const started = process.hrtime.bigint();
      commit.immediate(index);
      const elapsed = process.hrtime.bigint() - started;
      if (index >= 20) samples.push(Number(elapsed) / 1000);
    }
    database.close();
    results[mode] = summarize(samples);
  }
  return results;
}
