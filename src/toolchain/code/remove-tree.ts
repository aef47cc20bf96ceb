/**
 * Removing a tree a sandboxed run made, however deep. `rmSync` names every entry by its full
 * path, and a run can make a directory chain longer than the system allows a path to be
 * (`mkdir d; cd d` 30,000 times): `rmSync` then fails with ENAMETOOLONG and the tree stays, and
 * every later walk of the workspace fails on it. So the tree is cut into pieces first: a
 * directory whose path would pass `maxPathLength` is moved up to the workspace root (its own path
 * there is short) and removed in turn. Only for after a run, when no process of it is left.
 */

import { randomUUID } from 'node:crypto';
import { type Dirent, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Longest path walked or removed by name; the system's limit is 4,096 bytes, a name 255. */
export const maxPathLength = 3_000;

/** Remove the entry at `full` (a file, a link or a whole tree) inside `root`. */
export function removeTree(root: string, full: string): void {
  const pieces = [full];
  while (pieces.length > 0) {
    const piece = pieces.pop() as string;
    // Walked without recursion: a chain of thousands of directories would exhaust the stack.
    const directories = [piece];
    while (directories.length > 0) {
      const directory = directories.pop() as string;
      let entries: Dirent[];
      try {
        entries = readdirSync(directory, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const child = join(directory, entry.name);
        if (child.length <= maxPathLength) {
          directories.push(child);
          continue;
        }
        const moved = join(root, `.hataraku-removing-${randomUUID()}`);
        try {
          renameSync(child, moved);
          pieces.push(moved);
        } catch {
          // Left in place; rmSync below removes what it can reach.
        }
      }
    }
    rmSync(piece, { recursive: true, force: true });
  }
}
