/**
 * The CLI's input and output for tests that call `main` in process: what a command writes to
 * stdout and stderr is kept and read back as text; the environment and working folder are the
 * test's own (nothing is taken from the test process's environment).
 */
import type { CliIo } from '../cli-context.js';

export interface CapturedCliIo {
  /** Pass to `main(args, io)` or a command. */
  io: CliIo;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
}

export function captureCliIo(cwd: string, env: Record<string, string | undefined> = {}): CapturedCliIo {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: {
        write: (text) => {
          stdout += text;
        },
      },
      stderr: {
        write: (text) => {
          stderr += text;
        },
      },
      env,
      cwd,
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
