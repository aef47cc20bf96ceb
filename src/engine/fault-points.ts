/**
 * Named fault points: places in the engine and the run loop where a test can make the process
 * die (SIGKILL) to prove that recovery holds at that boundary. Disarmed unless armed explicitly;
 * armed from a spec string such as `after-step-body@3`, which kills the process the 3rd time
 * it reaches that point. The environment variable `HATARAKU_FAULTS` carries the spec into
 * processes started by the fault-injection suite.
 */

export const faultPointNames = [
  /** A step is about to run its body (call the model, execute the tool). */
  'before-step-body',
  /** The body has run (a tool's side effect happened) but its checkpoint is not committed. */
  'after-step-body',
  /** The step's checkpoint has just been committed. */
  'after-checkpoint',
  /** The final result is being written: inside the transaction, before it commits. */
  'during-final-write',
] as const;

export type FaultPointName = (typeof faultPointNames)[number];

export interface FaultPoints {
  /** Called when execution reaches `name`; may not return. */
  reach(name: FaultPointName): void;
}

export const noFaultPoints: FaultPoints = { reach() {} };

/**
 * Parse a spec (`name@count[,name@count...]`) into armed fault points. Each trigger fires once,
 * the `count`-th time its point is reached in this process.
 */
export function armFaultPoints(spec: string, trigger: (name: FaultPointName) => void = killProcess): FaultPoints {
  const armed = new Map<FaultPointName, number>();
  for (const part of spec
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [name, count] = part.split('@');
    if (!faultPointNames.includes(name as FaultPointName)) {
      throw new RangeError(`unknown fault point "${name}"; known: ${faultPointNames.join(', ')}`);
    }
    const times = count === undefined ? 1 : Number(count);
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError(`fault point "${part}": the count must be a positive integer`);
    armed.set(name as FaultPointName, times);
  }
  const reached = new Map<FaultPointName, number>();
  return {
    reach(name) {
      const target = armed.get(name);
      if (target === undefined) return;
      const count = (reached.get(name) ?? 0) + 1;
      reached.set(name, count);
      if (count === target) trigger(name);
    },
  };
}

function killProcess(): void {
  process.kill(process.pid, 'SIGKILL');
}
