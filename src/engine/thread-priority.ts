/**
 * The scheduling priority of the calling thread, for threads doing background work (the
 * gateway's ledger writer). On Linux a thread has a nice value of its own, set through its id,
 * which `/proc/thread-self` names. Elsewhere, or where the kernel refuses, nothing changes: the
 * priority is a hint, never a requirement.
 *
 * A thread is lowered only where it may be raised back (`CAP_SYS_NICE`, or a nice limit that
 * allows 0): without that, a writer that fell behind would stay at low priority for good.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export type ThreadPriorityLevel = 'normal' | 'background';

/** The nice value of each level (19 is the lowest priority; 10 still gets a share when all cores are busy). */
export const niceOfLevel: Record<ThreadPriorityLevel, number> = { normal: 0, background: 10 };

export interface ThreadPriority {
  /** Set this thread's level; a no-op when it already has it, or where it cannot be set. */
  set(level: ThreadPriorityLevel): void;
  /** The level last set, or undefined where priorities are left alone. */
  readonly level: ThreadPriorityLevel | undefined;
}

export function createThreadPriority(): ThreadPriority {
  const found = currentThreadId();
  const threadId = found !== undefined && mayRaisePriority() ? found : undefined;
  let level: ThreadPriorityLevel | undefined = threadId === undefined ? undefined : 'normal';
  return {
    set(wanted) {
      if (threadId === undefined || level === wanted) return;
      try {
        setPriority(threadId, niceOfLevel[wanted]);
        level = wanted;
      } catch {
        // Raising a priority back may need a capability this process lacks: stay as is.
      }
    },
    get level() {
      return level;
    },
  };
}

/** This thread's id on Linux (`/proc/thread-self` links to `<pid>/task/<tid>`), else undefined. */
function currentThreadId(): number | undefined {
  try {
    const id = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Whether this process may set a nice value of 0 again: `CAP_SYS_NICE`, or `RLIMIT_NICE` of 20 or more. */
function mayRaisePriority(): boolean {
  try {
    const capabilities = /^CapEff:\s*([0-9a-fA-F]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    const capSysNice = 1n << 23n;
    if (capabilities !== undefined && (BigInt(`0x${capabilities}`) & capSysNice) !== 0n) return true;
    const limit = /^Max nice priority\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return limit === 'unlimited' || Number(limit) >= 20;
  } catch {
    return false;
  }
}
