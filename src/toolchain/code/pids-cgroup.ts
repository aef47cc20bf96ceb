/**
 * A kernel-enforced cap on the number of processes in a sandbox: a pids cgroup per run. The
 * kernel refuses a fork past `pids.max` inside the group, whoever the processes belong to, so a
 * fork bomb cannot exhaust the machine's process table even when the host runs as root (where
 * RLIMIT_NPROC does not apply). Every process in the group is killed when the run ends.
 *
 * Uses cgroup v1's pids hierarchy (`/sys/fs/cgroup/pids`) or cgroup v2 (`/sys/fs/cgroup` with the
 * pids controller enabled for children). Where neither is writable, `createPidsCgroup` returns
 * undefined and the sandbox falls back to counting processes from /proc.
 */
import { randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PidsCgroup {
  /** The `cgroup.procs` file a process writes its pid to, to join the group. */
  readonly procsFile: string;
  /** Whether a fork was refused because the group was full. */
  limitReached(): boolean;
  /** Kill every process in the group. */
  killAll(): void;
  /** Kill what is left and remove the group. */
  dispose(): void;
}

/** The parent directory for sandbox groups, or undefined when no pids cgroup is writable here. */
function groupParent(): string | undefined {
  const candidates: string[] = [];
  if (existsSync('/sys/fs/cgroup/pids/cgroup.procs')) candidates.push('/sys/fs/cgroup/pids');
  const unified = '/sys/fs/cgroup/cgroup.subtree_control';
  if (existsSync(unified) && readFileSync(unified, 'utf8').split(/\s+/).includes('pids')) {
    candidates.push('/sys/fs/cgroup');
  }
  for (const base of candidates) {
    try {
      accessSync(base, constants.W_OK);
      const parent = join(base, 'hataraku-sandboxes');
      mkdirSync(parent, { recursive: true });
      return parent;
    } catch {
      // Not writable here: try the next hierarchy.
    }
  }
  return undefined;
}

export function createPidsCgroup(maxProcesses: number): PidsCgroup | undefined {
  const parent = groupParent();
  if (parent === undefined) return undefined;
  const path = join(parent, `run-${randomUUID()}`);
  try {
    mkdirSync(path);
    writeFileSync(join(path, 'pids.max'), String(maxProcesses));
  } catch {
    return undefined;
  }
  const procsFile = join(path, 'cgroup.procs');
  const members = (): number[] => {
    try {
      return readFileSync(procsFile, 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const killAll = () => {
    // New processes cannot appear faster than they are killed for long: the group is capped.
    for (let round = 0; round < 50; round++) {
      const pids = members();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  };
  return {
    procsFile,
    limitReached() {
      try {
        const events = readFileSync(join(path, 'pids.events'), 'utf8');
        return Number(/max (\d+)/.exec(events)?.[1] ?? 0) > 0;
      } catch {
        return false;
      }
    },
    killAll,
    dispose() {
      killAll();
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          rmdirSync(path);
          return;
        } catch {
          // The last processes are still exiting; a group can only be removed once empty.
          killAll();
        }
      }
    },
  };
}
