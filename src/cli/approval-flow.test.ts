/**
 * The approval flow from the CLI across a process restart, with real processes: a run asks for
 * approval and waits; its process is killed; a person approves from another process; the run
 * is resumed in a third and finishes. No process had to stay alive while it waited.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const binary = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function hataraku(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [binary, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    });
  });
}

describe('approvals from the CLI across a process restart', () => {
  it('starts, waits, is killed, is approved, resumes and finishes', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-approval-'));
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({
        policies: [{ tool: 'files.write', action: 'ask', reason: 'payments need a sign-off' }],
      }),
    );
    writeFileSync(
      join(cwd, 'pay.json'),
      JSON.stringify({
        version: 1,
        turns: [
          { toolCalls: [{ name: 'files.write', arguments: { path: 'payment.txt', content: 'paid 250 to ACME' } }] },
          { text: 'Payment recorded in payment.txt.' },
        ],
      }),
    );

    const started = spawn(process.execPath, [binary, 'run', 'Pay ACME 250', '--model', 'scripted:pay.json'], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => started.on('close', (code) => resolve(code)));
    const output = await waitForOutput(started, /needs approval/, 20_000);
    const runId = /run (run_\w+)/.exec(output)?.[1] as string;
    expect(runId).toBeDefined();
    started.kill('SIGKILL');
    expect(await exited).toBeNull();
    expect(existsSync(join(cwd, 'payment.txt'))).toBe(false);

    const listed = JSON.parse(hataraku(cwd, 'runs', 'list', '--json').stdout.trim());
    expect(listed).toMatchObject({ id: runId, status: 'waiting' });

    const approved = hataraku(cwd, 'runs', 'approve', runId, '--as', 'aiko', '--note', 'invoice 42 checked');
    expect(approved.status).toBe(0);
    expect(approved.stdout).toMatch(/Approved step 1 of run/);
    const again = hataraku(cwd, 'runs', 'approve', runId, '--as', 'ben');
    expect(again.stdout).toMatch(/already approved by aiko; this approval is ignored/);

    const resumed = hataraku(cwd, 'runs', 'resume', runId);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(/completed/);
    expect(readFileSync(join(cwd, 'payment.txt'), 'utf8')).toBe('paid 250 to ACME');

    const shown = JSON.parse(hataraku(cwd, 'runs', 'show', runId, '--json').stdout);
    expect(shown.status).toBe('completed');
    expect(shown.approvals).toEqual([
      expect.objectContaining({
        toolName: 'files.write',
        status: 'approved',
        decidedBy: 'aiko',
        note: 'invoice 42 checked',
      }),
    ]);
    expect(shown.audit.map((entry: { action: string; actor: string }) => [entry.action, entry.actor])).toEqual([
      ['approval-requested', 'policy'],
      ['approved', 'aiko'],
      ['decision-ignored', 'ben'],
    ]);
  });

  it('tells the model about a denial, and needs a reason to deny', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-approval-'));
    writeFileSync(
      join(cwd, 'hataraku.config.json'),
      JSON.stringify({ policies: [{ tool: 'files.write', action: 'ask' }] }),
    );
    writeFileSync(
      join(cwd, 'pay.json'),
      JSON.stringify({
        version: 1,
        turns: [
          { toolCalls: [{ name: 'files.write', arguments: { path: 'payment.txt', content: 'paid' } }] },
          { text: 'The payment was refused.' },
        ],
      }),
    );
    const first = hataraku(cwd, 'run', 'Pay', '--model', 'scripted:pay.json', '--no-wait');
    expect(first.status).toBe(3);
    expect(first.stderr).toMatch(/is waiting for approval; decide with `hataraku runs approve/);
    const runId = /run (run_\w+)/.exec(first.stdout)?.[1] as string;
    const missingReason = hataraku(cwd, 'runs', 'deny', runId);
    expect(missingReason.status).toBe(1);
    expect(missingReason.stderr).toMatch(/--reason/);
    expect(hataraku(cwd, 'runs', 'deny', runId, '--reason', 'not budgeted').status).toBe(0);
    const resumed = hataraku(cwd, 'runs', 'resume', runId);
    expect(resumed.status).toBe(0);
    expect(existsSync(join(cwd, 'payment.txt'))).toBe(false);
    const shown = JSON.parse(hataraku(cwd, 'runs', 'show', runId, '--json').stdout);
    const toolStep = shown.steps.find((step: { kind: string }) => step.kind === 'tool');
    expect(toolStep.output.content).toMatch(/not budgeted/);
  });
});
