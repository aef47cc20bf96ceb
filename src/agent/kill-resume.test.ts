/**
 * The durability promise, tested with real processes: a run killed with SIGKILL in the middle
 * and resumed finishes with the same result as an uninterrupted run, without calling the model
 * again or re-executing a tool for any step that was committed before the kill.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';

const worker = fileURLToPath(new URL('./__fixtures__/durable-worker.mjs', import.meta.url));

interface Paths {
  database: string;
  ledger: string;
  requests: string;
}

function paths(directory: string, name: string): Paths {
  return {
    database: join(directory, `${name}.db`),
    ledger: join(directory, `${name}-ledger.jsonl`),
    requests: join(directory, `${name}-requests.jsonl`),
  };
}

function startWorker(mode: 'start' | 'resume', runId: string, files: Paths, requests = files.requests): ChildProcess {
  return spawn(process.execPath, [worker, mode, files.database, runId, files.ledger, requests], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finish(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n').filter(Boolean) : [];
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the worker');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function journalSnapshot(database: string, runId: string) {
  const engine = openSqliteEngine({ path: database });
  try {
    return { run: await engine.getRun(runId), steps: await engine.listSteps(runId) };
  } finally {
    await engine.close();
  }
}

describe('kill and resume (real subprocess, SIGKILL)', () => {
  it('continues from the last committed step and matches an uninterrupted run', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-kill-'));
    const runId = 'run_kill_resume';

    const reference = paths(directory, 'reference');
    const uninterrupted = await finish(startWorker('start', runId, reference));
    expect(uninterrupted.stderr).toBe('');
    expect(uninterrupted.code).toBe(0);
    const expected = JSON.parse(uninterrupted.stdout);
    expect(expected.status).toBe('completed');

    const crashed = paths(directory, 'crashed');
    const child = startWorker('start', runId, crashed);
    const exited = finish(child);
    // Kill once a few tool side effects have happened: mid-run, somewhere between steps.
    await waitFor(() => lines(crashed.ledger).length >= 3, 20_000);
    child.kill('SIGKILL');
    const killed = await exited;
    expect(killed.code).toBeNull();

    const atKill = await journalSnapshot(crashed.database, runId);
    expect(atKill.run?.status).toBe('pending');
    const committedAtKill = atKill.steps;
    expect(committedAtKill.length).toBeGreaterThan(0);
    const modelStepsAtKill = committedAtKill.filter((step) => step.kind === 'model').length;
    const ledgerAtKill = lines(crashed.ledger).length;

    const resumeRequests = join(directory, 'resume-requests.jsonl');
    const resumed = await finish(startWorker('resume', runId, crashed, resumeRequests));
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout);

    // Same outcome as the run that was never interrupted.
    expect(result.status).toBe(expected.status);
    expect(result.output).toEqual(expected.output);
    expect(result.totals).toEqual(expected.totals);
    const final = await journalSnapshot(crashed.database, runId);
    const referenceSteps = (await journalSnapshot(reference.database, runId)).steps;
    expect(final.steps.map((step) => [step.name, step.output])).toEqual(
      referenceSteps.map((step) => [step.name, step.output]),
    );

    // Committed steps were replayed: no model call was made again for them...
    const totalModelSteps = final.steps.filter((step) => step.kind === 'model').length;
    expect(lines(resumeRequests).length).toBe(totalModelSteps - modelStepsAtKill);
    // ...and no committed tool step ran again: its side-effect key appears exactly once.
    const ledger = lines(crashed.ledger).map((line) => JSON.parse(line) as { key: string });
    const count = (key: string) => ledger.filter((entry) => entry.key === key).length;
    for (const step of committedAtKill.filter((step) => step.kind === 'tool')) {
      expect(count(`${runId}:${step.index}`)).toBe(1);
    }
    // At most the one step in flight at the kill ran twice, with the same idempotency key.
    const keys = ledger.map((entry) => entry.key);
    expect(new Set(keys).size).toBe(lines(reference.ledger).length);
    expect(keys.length - new Set(keys).size).toBeLessThanOrEqual(1);
    expect(ledgerAtKill).toBeGreaterThanOrEqual(3);
  });
});
