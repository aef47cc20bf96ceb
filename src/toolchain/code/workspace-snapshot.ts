/**
 * A cheap picture of the workspace (path, size, modification time of every regular file) taken
 * before and after a run, so that each tier can report the files a run created, changed or
 * deleted without trusting the code it ran. Symbolic links are listed as they are, never followed.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChangedFile } from './sandbox.js';

/** Directories that hold tooling state rather than the run's work. */
const skippedDirectories = new Set(['.git', 'node_modules', '.hataraku']);

/** At most this many entries are looked at, so a huge tree cannot stall a run. */
const maxEntries = 20_000;

export interface FileStamp {
  size: number;
  modifiedMs: number;
}

export type WorkspaceSnapshot = Map<string, FileStamp>;

/** Stamp every regular file under `root` (relative paths with `/`). */
export function snapshotWorkspace(root: string): WorkspaceSnapshot {
  const files: WorkspaceSnapshot = new Map();
  let seen = 0;
  const walk = (directory: string, prefix: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(directory);
    } catch {
      return;
    }
    for (const name of entries) {
      if (++seen > maxEntries) return;
      if (skippedDirectories.has(name)) continue;
      const full = join(directory, name);
      const relative = prefix === '' ? name : `${prefix}/${name}`;
      let stats: ReturnType<typeof lstatSync>;
      try {
        stats = lstatSync(full);
      } catch {
        continue;
      }
      if (stats.isDirectory()) walk(full, relative);
      else if (stats.isFile()) files.set(relative, { size: stats.size, modifiedMs: stats.mtimeMs });
    }
  };
  walk(root, '');
  return files;
}

/** Files created, modified or deleted between two snapshots, sorted by path. */
export function diffSnapshots(before: WorkspaceSnapshot, after: WorkspaceSnapshot): ChangedFile[] {
  const changes: ChangedFile[] = [];
  for (const [path, stamp] of after) {
    const previous = before.get(path);
    if (previous === undefined) changes.push({ path, size: stamp.size, change: 'created' });
    else if (previous.size !== stamp.size || previous.modifiedMs !== stamp.modifiedMs) {
      changes.push({ path, size: stamp.size, change: 'modified' });
    }
  }
  for (const path of before.keys()) {
    if (!after.has(path)) changes.push({ path, size: 0, change: 'deleted' });
  }
  return changes.sort((left, right) => left.path.localeCompare(right.path));
}
