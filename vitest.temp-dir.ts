/**
 * Vitest global setup, for every suite: a run's temporary files go under a directory of its own
 * (`TMPDIR`, read by `os.tmpdir()` in the test workers and in every process a test starts), which
 * is removed when the run ends. Tests make their scratch directories with `mkdtemp` and leave
 * them; without this they piled up in the machine's temp directory run after run.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'hataraku-test-run-'));
  // As open as the temp directory it stands for: tests run some processes as another user (a
  // private PostgreSQL cluster runs as `postgres` when the tests run as root).
  chmodSync(root, 0o1777);
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    try {
      rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      // Never fails the run: what is left is only disk space.
      console.warn(`could not remove the test run's temp directory ${root}: ${String(error)}`);
    }
  };
}
