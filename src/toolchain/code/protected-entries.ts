/**
 * Finding the protected entries of a workspace (`.git`, `.env*`, the config, the journal, ...),
 * so the process tier can cover them before a run and remove the ones a run created. The walk
 * never follows a link and never descends into a protected directory.
 */
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ProtectedPaths } from '../files/protected-paths.js';

/** A protected entry, by its workspace-relative path. */
export interface ProtectedOverlay {
  relative: string;
  directory: boolean;
  /** A symbolic link: it cannot be covered by a mount, see {@link findProtectedEntries}. */
  link: boolean;
}

/** At most this many entries are looked at, so a huge tree cannot stall a run. */
const maxEntries = 50_000;

/** Directories that are never protected but too large to walk for nothing. */
const skippedDirectories = new Set(['node_modules']);

/** Every protected entry under `root`, outermost first. */
export function findProtectedEntries(root: string, protectedPaths: ProtectedPaths): ProtectedOverlay[] {
  const found: ProtectedOverlay[] = [];
  let seen = 0;
  const walk = (directory: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(directory);
    } catch {
      return;
    }
    for (const name of names) {
      if (++seen > maxEntries) return;
      const relative = prefix === '' ? name : `${prefix}/${name}`;
      const full = join(directory, name);
      const stats = lstatSync(full, { throwIfNoEntry: false });
      if (stats === undefined) continue;
      if (protectedPaths.isProtected(relative)) {
        found.push({ relative, directory: stats.isDirectory(), link: stats.isSymbolicLink() });
        continue;
      }
      if (stats.isDirectory() && !skippedDirectories.has(name)) walk(full, relative);
    }
  };
  walk(root, '');
  return found;
}

/**
 * Remove the protected entries under `root` that are not in `before` (a run created them: a
 * `.git/config`, an `.env`, a `hataraku.config.json` the user's next run would load). Called
 * only once every process of the run has ended, so nothing can swap them meanwhile.
 */
export function removeCreatedProtectedEntries(
  root: string,
  protectedPaths: ProtectedPaths,
  before: readonly ProtectedOverlay[],
): string[] {
  const known = new Set(before.map((entry) => entry.relative));
  const removed: string[] = [];
  for (const entry of findProtectedEntries(root, protectedPaths)) {
    if (known.has(entry.relative)) continue;
    rmSync(join(root, entry.relative), { recursive: true, force: true });
    removed.push(entry.relative);
  }
  return removed;
}
