/**
 * How much disk a data call has taken, for its write limit (`maxWriteBytes`). DuckDB writes
 * where the call let it: the result of an `outputPath` and the files of `COPY … TO` in the call's
 * scratch directory, tables in the run's database file and its write-ahead log. Its spill files
 * have a limit of their own (`max_temp_directory_size`), which DuckDB enforces.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every entry counts at least this much: a directory of many empty files fills a disk too. */
const bytesPerEntry = 1024;
/** A walk stops counting entries past this many; the limit is then long passed anyway. */
const maxEntriesWalked = 100_000;

/** Bytes the blocks of `path` hold, with everything under it when it is a directory; 0 when it is gone. */
export function diskBytesUnder(path: string): number {
  let total = 0;
  let entries = 0;
  const pending = [path];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    let stats: ReturnType<typeof lstatSync>;
    try {
      stats = lstatSync(next);
    } catch {
      continue;
    }
    entries += 1;
    total += Math.max(stats.blocks * 512, bytesPerEntry);
    if (entries >= maxEntriesWalked) break;
    if (!stats.isDirectory()) continue;
    try {
      for (const name of readdirSync(next)) pending.push(join(next, name));
    } catch {
      // Removed while it was read: it holds nothing any more.
    }
  }
  return total;
}
