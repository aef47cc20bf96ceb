/**
 * Kill during fan-out (real processes, SIGKILL): a lead delegates four tasks, two at a time. The
 * process is killed when one child has finished, two are mid-way and one has not started. A
 * fresh process resumes the lead: the finished child is not run again, the unfinished ones go on
 * from their own last committed step, the one not started starts, no committed step of any
 * child runs again (the side-effect ledger), and every run ends exactly as in a run that was
 * never interrupted.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

const worker = fileURLToPath(new URL('./__fixtures__/fan-out-worker.mjs', import.meta.url));
const runId = 'run_fan';

interface Files {
  journal: string;
  ledger: string;
  workspace: string;
}

function files(name: string): Files {
  const directory = mkdtempSync(join(tmpdir(), `hataraku-fan-out-${name}-`));
  const workspace = join(directory, 'workspace');
  mkdirSync(workspace);
  return { journal: join(directory, 'journal.db'), ledger: join(directory, 'ledger.db'), workspace };
}

type Style = 'delegate' | 'plan';

function start(paths: Files, style: Style) {
  const child = spawn(process.execPath, [worker, paths.journal, paths.ledger, paths.workspace, runId, style], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exited };
}

interface Snapshot {
  runs: Map<string, string>;
  /** Committed steps per run: `index name output`. */
  steps: Map<string, string[]>;
}

function snapshot(journal: string): Snapshot {
  const database = new Database(journal, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    const runs = new Map(
      (database.prepare('SELECT id, status FROM runs').all() as Array<{ id: string; status: string }>).map((row) => [
        row.id,
        row.status,
      ]),
    );
    const steps = new Map<string, string[]>();
    const rows = database
      .prepare('SELECT run_id, step_index, name, output FROM steps ORDER BY run_id, step_index')
      .all() as Array<{ run_id: string; step_index: number; name: string; output: string }>;
    for (const row of rows) {
      const list = steps.get(row.run_id) ?? [];
      list.push(`${row.step_index} ${row.name} ${row.output}`);
      steps.set(row.run_id, list);
    }
    return { runs, steps };
  } finally {
    database.close();
  }
}

function attempts(ledger: string): Map<string, number> {
  const database = new Database(ledger, { readonly: true, fileMustExist: true });
  try {
    return new Map(
      (database.prepare('SELECT key, attempts FROM ledger').all() as Array<{ key: string; attempts: number }>).map(
        (row) => [row.key, row.attempts],
      ),
    );
  } finally {
    database.close();
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the fan-out to reach the kill point');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Child ids: the lead's delegate calls are its steps 1 to 4; a plan's steps are children of its
 * one call (step 1), named by step id. The plan runs three at a time, `last` after `slow-1`.
 */
const childIds = {
  delegate: { fast: `${runId}.1`, slow: [`${runId}.2`, `${runId}.3`], last: `${runId}.4` },
  plan: { fast: `${runId}.1.fast`, slow: [`${runId}.1.slow-1`, `${runId}.1.slow-2`], last: `${runId}.1.last` },
};

describe('kill during fan-out, resume in a fresh process', () => {
  it.each(['delegate', 'plan'] as const)(
    '%s: finishes the unfinished children, reruns nothing committed, and matches an uninterrupted run',
    async (style) => {
      const { fast, slow, last } = childIds[style];
      const reference = files(`${style}-reference`);
      const uninterrupted = await start(reference, style).exited;
      expect(uninterrupted.stderr).toBe('');
      expect(uninterrupted.code).toBe(0);
      const expected = snapshot(reference.journal);

      const paths = files(`${style}-killed`);
      const first = start(paths, style);
      // Kill when `fast` is done, both slow children have committed steps, and `last` has not started.
      await waitUntil(() => {
        try {
          const now = snapshot(paths.journal);
          return now.runs.get(fast) === 'completed' && slow.every((id) => (now.steps.get(id)?.length ?? 0) >= 2);
        } catch {
          return false; // the journal is not created yet
        }
      }, 60_000);
      first.child.kill('SIGKILL');
      await first.exited;
      const atKill = snapshot(paths.journal);
      expect(atKill.runs.get(runId)).toBe('pending');
      expect(atKill.runs.get(fast)).toBe('completed');
      for (const id of slow) expect(atKill.runs.get(id)).toBe('pending');
      expect(atKill.runs.has(last)).toBe(false);

      const resumed = await start(paths, style).exited;
      expect(resumed.stderr).toBe('');
      expect(resumed.code).toBe(0);
      expect(JSON.parse(resumed.stdout)).toEqual(JSON.parse(uninterrupted.stdout));
      expect(JSON.parse(resumed.stdout)).toEqual({ status: 'completed', output: 'All four recordings are done.' });

      const after = snapshot(paths.journal);
      // Every run ends as in the uninterrupted run, step by step (the outputs the parent saw too).
      expect([...after.runs.entries()].sort()).toEqual([...expected.runs.entries()].sort());
      for (const [id, steps] of expected.steps) expect(after.steps.get(id)).toEqual(steps);
      // Committed steps were kept, not redone: what the journal held at the kill is a prefix of the end.
      for (const [id, steps] of atKill.steps) expect(after.steps.get(id)?.slice(0, steps.length)).toEqual(steps);

      // No side effect of a committed step ran twice; at most the step in flight in each slow child did.
      const ledger = attempts(paths.ledger);
      const repeated = [...ledger.entries()].filter(([, count]) => count > 1).map(([key]) => key);
      for (const key of repeated) {
        const [childId, index] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
        const committedAtKill = (atKill.steps.get(childId) ?? []).some((line) => line.startsWith(`${index} `));
        expect(committedAtKill, `${key} was committed before the kill and ran again`).toBe(false);
      }
      expect(repeated.length).toBeLessThanOrEqual(slow.length);
      // Each child recorded each of its items, once per idempotency key.
      expect(ledger.size).toBe(attempts(reference.ledger).size);
    },
  );
});
