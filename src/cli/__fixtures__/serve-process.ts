/**
 * `hataraku serve` as a real process, from the built CLI (dist/): started on a free port, ready
 * once it prints the address it listens on. Its output is kept for the test to read, also after
 * it started (what it says while it stops, for instance).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI the process runs (`npm test` builds it first). */
export const builtCli = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

export interface ServeProcess {
  child: ChildProcess;
  /** The address it listens on, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
}

/**
 * Start `hataraku serve --port 0` in `cwd` with the test process's environment, `NO_COLOR`, and
 * `env`; rejects with its output when it has not started within `timeoutMs`.
 */
export function startServeProcess(
  cwd: string,
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [builtCli, 'serve', '--port', '0'], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => {
        child.kill('SIGKILL');
        reject(new Error(`serve did not start; output:\n${output}`));
      },
      options.timeoutMs ?? 30_000,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output });
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before it started; output:\n${output}`));
    });
  });
}
