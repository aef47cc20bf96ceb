/**
 * `hataraku serve` runs its server in a thread of its own (`commands/serve-command.ts`): the
 * process still stops cleanly on Ctrl-C, a user's error is still one line and exit status 1, and
 * the thread's heap has the larger young generation it is there for.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { builtCli, startServeProcess } from './__fixtures__/serve-process.js';
import { serveThreadResourceLimits } from './commands/serve-command.js';

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** The heap size limit of a worker thread made with `resourceLimits`. */
function heapLimitOfWorker(resourceLimits?: typeof serveThreadResourceLimits): Promise<number> {
  const worker = new Worker(
    "require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit)",
    { eval: true, ...(resourceLimits ? { resourceLimits } : {}) },
  );
  return new Promise((resolve, reject) => {
    worker.once('message', (limit: number) => resolve(limit));
    worker.once('error', reject);
  });
}

describe('hataraku serve in its own thread', () => {
  it('stops on Ctrl-C with exit status 0, and answers until then', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-serve-thread-'));
    const serve = await startServeProcess(cwd, { timeoutMs: 20_000 });
    children.push(serve.child);
    const health = await fetch(`${serve.url}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const exited = exitOf(serve.child);
    serve.child.kill('SIGINT');
    expect(await exited).toEqual({ code: 0, signal: null });
    // Stopped: nothing listens on its port any more.
    await expect(fetch(`${serve.url}/health`)).rejects.toThrow();
  });

  it('says in one line that the port is taken, with exit status 1 and no stack trace', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-serve-thread-'));
    const first = await startServeProcess(cwd, { timeoutMs: 20_000 });
    children.push(first.child);
    const port = new URL(first.url).port;
    const second = spawn(process.execPath, [builtCli, 'serve', '--port', port], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(second);
    let stderr = '';
    second.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    let stdout = '';
    second.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    expect(await exitOf(second)).toEqual({ code: 1, signal: null });
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^hataraku: [^\\n]*${port}[^\\n]*\\n$`));
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("gives the server's thread a larger young generation than Node's default", async () => {
    const [tuned, plain] = await Promise.all([heapLimitOfWorker(serveThreadResourceLimits), heapLimitOfWorker()]);
    // The heap's limit counts the young generation: the difference is what was added to it.
    expect(tuned - plain).toBeGreaterThanOrEqual(32 * 1024 * 1024);
  });
});
