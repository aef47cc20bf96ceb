/**
 * `hataraku eval` end to end on the bundled toolchain suite with the scripted demo models: every
 * task runs as a durable run, is checked, and lands in the report and the chart; and an eval
 * killed with SIGKILL mid-way continues with `--resume` where it stopped, without running again
 * what had finished.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { captureCliIo } from '../cli/__fixtures__/captured-io.js';
import { main } from '../cli/main.js';
import type { EvalReport } from './eval-report.js';

const suite = fileURLToPath(new URL('../../evals/toolchain/suite.yaml', import.meta.url));
const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function readReport(cwd: string, evalId: string): EvalReport {
  return JSON.parse(readFileSync(join(cwd, '.hataraku', 'evals', evalId, 'report.json'), 'utf8')) as EvalReport;
}

describe('hataraku eval on the bundled suite', () => {
  it('runs every task with the demo models, checks the outcomes, and writes the report and the chart', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-eval-'));
    const captured = captureCliIo(cwd);
    const code = await main(['eval', suite, '--model', 'demo', '--id', 'bundled', '--concurrency', '2'], captured.io);
    expect(captured.stderr()).toBe('');
    expect(code).toBe(0);
    const report = readReport(cwd, 'bundled');
    expect(report.attempts.map((attempt) => attempt.taskId).sort()).toEqual([
      'expense-audit',
      'fibonacci',
      'refund-window',
      'sales-report',
      'todo-count',
    ]);
    const failures = report.attempts.filter((attempt) => !attempt.passed);
    expect(failures).toEqual([]);
    const overall = report.overall[0];
    expect(overall).toMatchObject({ model: 'demo', attempts: 5, solved: 5, successRate: 1 });
    // 5 of 5 is not certainty: the Wilson interval says so.
    expect(overall?.successInterval.low).toBeCloseTo(0.566, 2);
    expect(overall?.costPerSolvedUsd).toBe(0);
    expect(overall?.meanSteps).toBeGreaterThan(1);
    // The model-graded check is marked as such, and skipped without a grader.
    const graded = report.attempts.flatMap((attempt) => attempt.checks).find((check) => check.kind === 'model-graded');
    expect(graded).toMatchObject({ modelGraded: true, skipped: true });
    // Each kind of deterministic check ran and passed.
    const kinds = new Set(report.attempts.flatMap((attempt) => attempt.checks.map((check) => check.kind)));
    expect([...kinds].sort()).toEqual(['file', 'js', 'json-schema', 'model-graded', 'number', 'regex', 'sql']);
    const out = join(cwd, '.hataraku', 'evals', 'bundled');
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\| demo \| 5\/5 \| 100\.0 % \| 56\.6 %–100\.0 % \|/);
    const svg = readFileSync(join(out, 'chart.svg'), 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('Pareto front');
    expect(readFileSync(join(out, 'chart.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(captured.stdout()).toContain('Written:');
  }, 120_000);

  it('explains bad input in one line', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-eval-'));
    const noModel = captureCliIo(cwd);
    expect(await main(['eval', suite], noModel.io)).toBe(1);
    expect(noModel.stderr()).toMatch(/^hataraku: give at least one --model .*\n$/);
    const missing = captureCliIo(cwd);
    expect(await main(['eval', 'nope.yaml', '--model', 'demo'], missing.io)).toBe(1);
    expect(missing.stderr()).toMatch(/^hataraku: eval suite nope\.yaml not found; .*\n$/);
    const unknown = captureCliIo(cwd);
    expect(await main(['eval', '--resume', 'never-ran'], unknown.io)).toBe(1);
    expect(unknown.stderr()).toMatch(/^hataraku: no eval never-ran in the journal/);
  });
});

function startEval(cwd: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [cli, 'eval', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

interface ChildRow {
  id: string;
  status: string;
  updated_at: number;
  steps: number;
}

function childRuns(database: string, evalId: string): ChildRow[] {
  if (!existsSync(database)) return [];
  const connection = new Database(database, { readonly: true, fileMustExist: true });
  try {
    return connection
      .prepare(
        'SELECT r.id, r.status, r.updated_at, (SELECT count(*) FROM steps s WHERE s.run_id = r.id) AS steps FROM runs r WHERE r.parent_run_id = ? ORDER BY r.id',
      )
      .all(evalId) as ChildRow[];
  } catch {
    return [];
  } finally {
    connection.close();
  }
}

describe('a killed eval', () => {
  it('continues with --resume where it stopped, keeping the attempts that had finished', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-eval-kill-'));
    const database = join(cwd, '.hataraku', 'hataraku.db');
    const child = startEval(cwd, [suite, '--model', 'demo', '--id', 'killed', '--no-chart']);
    const exited = finished(child);
    // Kill it once at least one attempt has finished and before the last has.
    const deadline = Date.now() + 60_000;
    let before: ChildRow[] = [];
    while (Date.now() < deadline) {
      before = childRuns(database, 'killed');
      if (before.some((row) => row.status === 'completed')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGKILL');
    const killed = await exited;
    expect(killed.code).toBeNull();
    before = childRuns(database, 'killed');
    const doneBefore = before.filter((row) => row.status === 'completed');
    expect(doneBefore.length).toBeGreaterThan(0);
    expect(doneBefore.length).toBeLessThan(5);
    expect(existsSync(join(cwd, '.hataraku', 'evals', 'killed', 'report.json'))).toBe(false);

    const resumed = await finished(startEval(cwd, ['--resume', 'killed', '--no-chart']));
    expect(resumed.output).toContain('Eval killed');
    expect(resumed.code).toBe(0);
    const after = childRuns(database, 'killed');
    expect(after.map((row) => row.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
    // The attempts finished before the kill were not run again: same steps, untouched records.
    for (const row of doneBefore) {
      expect(after.find((entry) => entry.id === row.id)).toEqual(row);
    }
    const report = readReport(cwd, 'killed');
    expect(report.unfinished).toBe(0);
    const connection = new Database(database, { readonly: true });
    try {
      expect(connection.prepare('SELECT agent_name, status FROM runs WHERE id = ?').get('killed')).toEqual({
        agent_name: 'hataraku-eval',
        status: 'completed',
      });
    } finally {
      connection.close();
    }
    expect(report.overall[0]).toMatchObject({ attempts: 5, solved: 5 });
  }, 180_000);
});
