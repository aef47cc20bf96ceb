/**
 * A bounded, depth-first walk of a workspace directory in sorted path order, shared by
 * `files.list`, `files.search` and the data tools. Symbolic links are reported but never
 * followed, protected entries are left out, and every directory is opened relative to its
 * already-checked parent (`/proc/self/fd/<parent>/<name>` with `O_NOFOLLOW` on Linux), so a link
 * flipped during the walk cannot lead it outside the workspace. Dependency trees are skipped.
 */
import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import {
  descriptorPath,
  hasDescriptorPaths,
  insideRelative,
  openEntry,
  type WorkspaceAccess,
} from './workspace-access.js';

/** Directories a walk skips that are not protected: dependency trees, not the user's work. */
export const skippedDirectories: ReadonlySet<string> = new Set(['node_modules']);

/** Entries a walk visits at most, so that a huge tree stays quick to list or search. */
export const maxVisitedEntries = 100_000;

/** Directory depth a walk descends at most (each level holds one open descriptor). */
const maxDepth = 128;

/** `O_PATH` on Linux; see `workspace-access.ts`. */
const openPathOnly = 0o10000000;

export interface WalkEntry {
  /** Workspace-relative path with `/` separators. */
  relative: string;
  kind: 'file' | 'symbolic-link';
  /** Size in bytes (of the link itself for a link). */
  size: number;
  /** Where a link points, as written in it. */
  linkTarget?: string;
}

/**
 * Visit the files and links under the workspace directory `start` (relative, already
 * checked) in sorted order; `visit` returns `false` to stop.
 * @returns whether the walk stopped at `maxVisitedEntries` before visiting everything.
 */
export function walkWorkspace(
  access: WorkspaceAccess,
  start: string,
  maxVisited: number,
  visit: (entry: WalkEntry) => boolean,
): boolean {
  const opened = openEntry(access, start);
  if (!opened.stats.isDirectory()) {
    closeSync(opened.descriptor);
    return false;
  }
  let visited = 0;
  let stopped = false;
  let limitReached = false;
  const walkDirectory = (descriptor: number, directoryPath: string, relativeDirectory: string, depth: number) => {
    const base = hasDescriptorPaths ? descriptorPath(descriptor) : directoryPath;
    const names = readdirSync(base).sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
    for (const name of names) {
      if (stopped) return;
      if (visited >= maxVisited) {
        limitReached = true;
        stopped = true;
        return;
      }
      const relative = relativeDirectory === '.' ? name : `${relativeDirectory}/${name}`;
      if (access.protectedPaths.isProtected(relative)) continue;
      let stats: ReturnType<typeof lstatSync>;
      try {
        stats = lstatSync(`${base}/${name}`);
      } catch {
        continue;
      }
      if (stats.isDirectory()) {
        if (skippedDirectories.has(name) || depth >= maxDepth) continue;
        visited++;
        const child = openChildDirectory(access, base, name, relative);
        if (child === undefined) continue;
        try {
          walkDirectory(child.descriptor, child.realPath, relative, depth + 1);
        } finally {
          closeSync(child.descriptor);
        }
      } else if (stats.isFile()) {
        visited++;
        if (!visit({ relative, kind: 'file', size: stats.size })) stopped = true;
      } else if (stats.isSymbolicLink()) {
        visited++;
        let linkTarget = '';
        try {
          linkTarget = readlinkSync(`${base}/${name}`);
        } catch {
          linkTarget = '?';
        }
        if (!visit({ relative, kind: 'symbolic-link', size: stats.size, linkTarget })) stopped = true;
      }
    }
  };
  try {
    walkDirectory(opened.descriptor, opened.realPath, opened.relativeRealPath, 0);
  } finally {
    closeSync(opened.descriptor);
  }
  return limitReached;
}

/**
 * Open the directory `name` of the checked directory at `base` without following a link, and
 * check that it is where the walk thinks it is; undefined when it changed (skipped).
 */
function openChildDirectory(
  access: WorkspaceAccess,
  base: string,
  name: string,
  relative: string,
): { descriptor: number; realPath: string } | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(
      `${base}/${name}`,
      (hasDescriptorPaths ? openPathOnly : constants.O_RDONLY) | constants.O_DIRECTORY | constants.O_NOFOLLOW,
    );
  } catch {
    return undefined;
  }
  const realPath = hasDescriptorPaths ? readlinkSync(descriptorPath(descriptor)) : `${base}/${name}`;
  if (hasDescriptorPaths && insideRelative(access.root, realPath) !== relative) {
    closeSync(descriptor);
    return undefined;
  }
  return { descriptor, realPath };
}
