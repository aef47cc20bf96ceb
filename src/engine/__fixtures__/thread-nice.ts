/** What the priority tests read from the kernel: each thread of this process and its nice value. */
import { readdirSync, readFileSync } from 'node:fs';

/** Thread id → nice value (the 19th field of `/proc/self/task/<tid>/stat`). */
export function niceOfThreads(): Map<number, number> {
  const threads = new Map<number, number>();
  for (const name of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${name}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads.set(Number(name), Number(fields[16]));
  }
  return threads;
}
