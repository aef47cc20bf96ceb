/**
 * Finding the protected entries of a workspace (`.git`, `.env*`, the config, the journal, ...),
 * so the process tier can cover them before a run and remove the ones a run created. The walk
 * never follows a link and never descends into a protected directory.
 */
import { lstatSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ProtectedPaths } from '../files/protected-paths.js';
import { maxPathLength, removeTree } from './remove-tree.js';

/** A protected entry, by its workspace-relative path. */
export interface ProtectedOverlay {
  relative: string;
  directory: boolean;
  /**
   * The target of a symbolic link. A link cannot be covered by a mount (bubblewrap would follow
   * it), so it is put back as it was after the run instead.
   */
  linkTarget: string | undefined;
}

/** At most this many entries are looked at, so a huge tree cannot stall a run. */
export const maxWalkedEntries = 200_000;

/** The workspace has more entries than {@link maxWalkedEntries}: its protected entries cannot all be found. */
export class WorkspaceTooLargeError extends Error {}

/**
 * Every protected entry under `root`, outermost first. Fails closed: past
 * {@link maxWalkedEntries} entries it throws rather than miss one.
 */
export function findProtectedEntries(
  root: string,
  protectedPaths: ProtectedPaths,
  limit = maxWalkedEntries,
): ProtectedOverlay[] {
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
      if (++seen > limit) {
        throw new WorkspaceTooLargeError(
          `the workspace has more than ${limit} entries, too many to find its protected entries (.git, .env*, ...) before running code; use a smaller workspace directory.`,
        );
      }
      const relative = prefix === '' ? name : `${prefix}/${name}`;
      const full = join(directory, name);
      // Past the system's path limit nothing can be checked by name: fail closed, in one line.
      if (full.length > maxPathLength) {
        throw new WorkspaceTooLargeError(
          `the workspace holds a path too long to check for protected entries (${relative.slice(0, 60)}…, ${relative.length} characters); remove that directory tree and try again.`,
        );
      }
      const stats = lstatSync(full, { throwIfNoEntry: false });
      if (stats === undefined) continue;
      if (protectedPaths.isProtected(relative)) {
        const link = stats.isSymbolicLink();
        found.push({ relative, directory: stats.isDirectory(), linkTarget: link ? readlinkSync(full) : undefined });
        continue;
      }
      if (stats.isDirectory()) walk(full, relative);
    }
  };
  walk(root, '');
  return found;
}

/**
 * The directories (workspace-relative, parents first) that hold protected entries. The process
 * tier binds each one onto itself, making it a mount point: sandboxed code cannot rename or
 * remove it, so a protected entry stays at its path. Otherwise renaming `sub` to `sub2` would
 * move `sub/.env` out from under its cover (to be deleted afterwards as an entry the run
 * created), and an anchored pattern such as `state/journal.db` would stop matching it.
 */
export function protectedAncestors(entries: readonly ProtectedOverlay[]): string[] {
  const directories = new Set<string>();
  for (const entry of entries) {
    const parts = entry.relative.split('/');
    for (let length = 1; length < parts.length; length += 1) directories.add(parts.slice(0, length).join('/'));
  }
  // A parent is a prefix of its children, so it sorts first and is mounted before them.
  return [...directories].sort();
}

/**
 * Remove the protected entries under `root` that are not in `before` (a run created them: a
 * `.git/config`, an `.env`, a `hataraku.config.json` the user's next run would load), and put
 * back protected links the run replaced. Called only once every process of the run has ended
 * (and no other tool call of the run runs: `code.run` is exclusive), so nothing can swap them
 * meanwhile.
 */
export function removeCreatedProtectedEntries(
  root: string,
  protectedPaths: ProtectedPaths,
  before: readonly ProtectedOverlay[],
): string[] {
  const known = new Map(before.map((entry) => [entry.relative, entry]));
  const removed: string[] = [];
  // No limit here: whatever the run created must be looked at.
  for (const entry of findProtectedEntries(root, protectedPaths, Number.POSITIVE_INFINITY)) {
    const previous = known.get(entry.relative);
    if (previous !== undefined && previous.linkTarget === entry.linkTarget) continue;
    removeTree(root, join(root, entry.relative));
    removed.push(entry.relative);
  }
  // A protected link the run replaced or removed is put back as it was.
  for (const entry of before) {
    if (entry.linkTarget === undefined) continue;
    const full = join(root, entry.relative);
    if (lstatSync(full, { throwIfNoEntry: false }) !== undefined) continue;
    symlinkSync(entry.linkTarget, full);
  }
  return removed;
}
