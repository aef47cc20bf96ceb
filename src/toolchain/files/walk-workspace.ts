/**
 * A bounded, depth-first walk of a workspace directory in sorted path order, shared by
 * `files.list` and `files.search`. Symbolic links are reported but never followed, so a walk
 * cannot leave the workspace; tool state and dependency trees are skipped.
 */
import { type Dirent, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Directories a walk skips: tool state and dependency trees, not the user's work. */
export const skippedDirectories: ReadonlySet<string> = new Set(['.hataraku', 'node_modules', '.git']);

/** Entries a walk visits at most, so that a huge tree stays quick to list or search. */
export const maxVisitedEntries = 100_000;

export interface WalkEntry {
  absolute: string;
  kind: 'file' | 'symbolic-link';
}

/**
 * Visit the files and links under `start` in sorted order; `visit` returns `false` to stop.
 * @returns whether the walk stopped at `maxVisitedEntries` before visiting everything.
 */
export function walkWorkspace(start: string, maxVisitedEntries: number, visit: (entry: WalkEntry) => boolean): boolean {
  const stack: Array<{ directory: string; entry: Dirent }> = [];
  const pushChildren = (directory: string) => {
    const entries = readdirSync(directory, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? 1 : -1));
    for (const entry of entries) if (!skippedDirectories.has(entry.name)) stack.push({ directory, entry });
  };
  pushChildren(start);
  let visited = 0;
  while (stack.length > 0) {
    if (visited >= maxVisitedEntries) return true;
    visited++;
    const { directory, entry } = stack.pop()!;
    const absolute = join(directory, entry.name);
    if (entry.isDirectory()) pushChildren(absolute);
    else if (entry.isFile()) {
      if (!visit({ absolute, kind: 'file' })) return false;
    } else if (entry.isSymbolicLink()) {
      if (!visit({ absolute, kind: 'symbolic-link' })) return false;
    }
  }
  return false;
}
