/**
 * `files.list`: the files under a workspace directory, recursively, with their sizes. Links are
 * shown but not followed, so a listing never leaves the workspace.
 */
import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import type { FileToolLimits } from './file-tool-options.js';
import { resolveInWorkspace, WorkspacePathError, workspaceRelative } from './workspace-path.js';

/** Directories a listing or a search skips: tool state and dependency trees, not the user's work. */
export const skippedDirectories: ReadonlySet<string> = new Set(['.hataraku', 'node_modules', '.git']);

/** Entries visited at most, so that listing a huge tree stays quick even when little is shown. */
const maxVisitedEntries = 100_000;

const listInput = z.object({
  path: z.string().default('.').describe('Directory relative to the workspace, e.g. "data"; "." for all of it.'),
});

export function createListFilesTool(limits: FileToolLimits) {
  return tool({
    name: 'files.list',
    description: [
      'List the files in a workspace directory, recursively, one per line as "path (size bytes)".',
      `Shows at most ${limits.maxListedEntries} files and says when there are more; list a subdirectory to see the rest.`,
      'Skips .git, node_modules and .hataraku. Symbolic links are shown as "path -> target" and not followed.',
      'Example: {"path": "data"}.',
    ].join(' '),
    input: listInput,
    effect: 'none',
    execute: ({ path }, context) => {
      const workspace = context.workspace;
      const start = resolveInWorkspace(workspace, path);
      const startStats = statOrUndefined(start);
      if (startStats === undefined) {
        throw new WorkspacePathError(`"${path}" does not exist; call files.list with "." to see the workspace.`);
      }
      if (!startStats.isDirectory()) {
        return `${path} is a file (${startStats.size} bytes), not a directory; use files.read or files.stat on it.`;
      }
      const lines: string[] = [];
      let total = 0;
      let visited = 0;
      const pending = [start];
      while (pending.length > 0 && visited < maxVisitedEntries) {
        const directory = pending.shift()!;
        const entries = readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
        const subdirectories: string[] = [];
        for (const entry of entries) {
          visited++;
          if (skippedDirectories.has(entry.name)) continue;
          const full = join(directory, entry.name);
          const shown = workspaceRelative(workspace!, full);
          if (entry.isDirectory()) subdirectories.push(full);
          else if (entry.isFile()) {
            total++;
            if (lines.length < limits.maxListedEntries) lines.push(`${shown} (${lstatSync(full).size} bytes)`);
          } else if (entry.isSymbolicLink()) {
            total++;
            if (lines.length < limits.maxListedEntries) lines.push(`${shown} -> ${readlinkSync(full)}`);
          }
        }
        // Depth-first order reads best (a directory's files stay together), so subdirectories go first.
        pending.unshift(...subdirectories);
      }
      const notes: string[] = [];
      if (total > lines.length) notes.push(`[truncated: showing ${lines.length} of ${total} files]`);
      if (pending.length > 0) notes.push(`[stopped after ${maxVisitedEntries} entries; list a subdirectory]`);
      if (lines.length === 0 && notes.length === 0) return 'No files.';
      return [...lines, ...notes].join('\n');
    },
  });
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
