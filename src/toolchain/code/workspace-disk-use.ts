/**
 * What a process-tier run took of the disk under the workspace, measured from the file system
 * rather than from what the code says or what write() counted: every entry (files, directories,
 * links, in every folder, `node_modules` included), each counted by the larger of its
 * size and the blocks it holds. A run can take disk space without a counted write (pages written
 * through a memory map, a file extended with `truncate`, directories made by the thousand, long
 * link targets); all of it shows here. Links are never followed. Protected entries are left out
 * (as the walk that finds them does): the run cannot write under their covers, and those it
 * created are removed before this is measured.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ProtectedPaths } from '../files/protected-paths.js';
import { maxWalkedEntries } from './protected-entries.js';
import { maxPathLength, removeTree } from './remove-tree.js';

/** Deepest directory measured; a deeper one leaves the measure incomplete (over the limit). */
export const maxMeasuredDepth = 128;

/**
 * The least an entry counts for: an empty file holds no block, but takes an inode and a name
 * (a file system has a fixed number of inodes), and a run could make hundreds of thousands.
 */
export const bytesPerEntry = 1024;

export interface WorkspaceDiskUse {
  /** Bytes each entry holds, by path relative to the workspace (with `/`). */
  entries: Map<string, number>;
  /**
   * False when the walk could not see everything: more than `maxWalkedEntries` entries, a
   * directory deeper than `maxMeasuredDepth` or a path longer than `maxPathLength`, or an entry
   * it could not read. The picture is partial, and a run that left it so is over the limit.
   */
  complete: boolean;
}

/**
 * The entries under `root` and the bytes each holds, up to `maxWalkedEntries` entries, leaving
 * out `protectedPaths` (none left out without).
 */
export function measureWorkspaceDiskUse(
  root: string,
  protectedPaths: ProtectedPaths | undefined,
  maxEntries: number = maxWalkedEntries,
): WorkspaceDiskUse {
  const entries = new Map<string, number>();
  let complete = true;
  const walk = (directory: string, prefix: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') complete = false;
      return;
    }
    for (const name of names) {
      if (entries.size >= maxEntries) {
        complete = false;
        return;
      }
      const relative = prefix === '' ? name : `${prefix}/${name}`;
      if (protectedPaths?.isProtected(relative) === true) continue;
      const full = join(directory, name);
      if (full.length > maxPathLength) {
        complete = false;
        continue;
      }
      let stats: ReturnType<typeof lstatSync>;
      try {
        stats = lstatSync(full);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') complete = false;
        continue;
      }
      entries.set(relative, Math.max(stats.size, stats.blocks * 512, bytesPerEntry));
      if (!stats.isDirectory()) continue;
      if (depth >= maxMeasuredDepth) complete = false;
      else walk(full, relative, depth + 1);
    }
  };
  walk(root, '', 1);
  return { entries, complete };
}

/** Bytes the workspace gained between two measures: new entries, and entries that grew. */
export function diskUseGrowth(before: WorkspaceDiskUse, after: WorkspaceDiskUse): number {
  let growth = 0;
  for (const [path, bytes] of after.entries) growth += Math.max(0, bytes - (before.entries.get(path) ?? 0));
  return growth;
}

/**
 * Remove every entry under `root` that `before` does not hold (a new directory with all it
 * holds), protected entries aside. Only for after a run, when every process of it is dead: nothing can swap a name for
 * a link meanwhile, and no link is followed (`rmSync` removes a link, not its target). Returns
 * how many entries were removed.
 */
export function removeEntriesNotIn(root: string, protectedPaths: ProtectedPaths, before: WorkspaceDiskUse): number {
  let removed = 0;
  const walk = (directory: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(directory);
    } catch {
      return;
    }
    for (const name of names) {
      const relative = prefix === '' ? name : `${prefix}/${name}`;
      // Protected entries are not in `before`; they are never this function's to remove.
      if (protectedPaths.isProtected(relative)) continue;
      const full = join(directory, name);
      if (!before.entries.has(relative)) {
        try {
          removeTree(root, full);
          removed++;
        } catch {
          // A vanished entry, or one that cannot be removed: left, and named by the next measure.
        }
        continue;
      }
      let stats: ReturnType<typeof lstatSync>;
      try {
        stats = lstatSync(full);
      } catch {
        continue;
      }
      if (stats.isDirectory()) walk(full, relative);
    }
  };
  walk(root, '');
  return removed;
}

/** Bytes all the entries of a measure hold. */
export function totalDiskUse(use: WorkspaceDiskUse): number {
  let total = 0;
  for (const bytes of use.entries.values()) total += bytes;
  return total;
}
