/**
 * `files.list`: the files under a workspace directory, recursively, with their sizes. Links are
 * shown but not followed, so a listing never leaves the workspace.
 */
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import type { FileToolLimits } from './file-tool-options.js';
import { maxVisitedEntries, walkWorkspace } from './walk-workspace.js';
import { resolveInWorkspace, WorkspacePathError, workspaceRelative } from './workspace-path.js';

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
      const stopped = walkWorkspace(start, maxVisitedEntries, ({ absolute, kind }) => {
        total++;
        if (lines.length >= limits.maxListedEntries) return true;
        const shown = workspaceRelative(workspace!, absolute);
        lines.push(
          kind === 'file' ? `${shown} (${lstatSync(absolute).size} bytes)` : `${shown} -> ${readlinkSync(absolute)}`,
        );
        return true;
      });
      const notes: string[] = [];
      if (total > lines.length) notes.push(`[truncated: showing ${lines.length} of ${total} files]`);
      if (stopped) notes.push(`[stopped after ${maxVisitedEntries} entries; list a subdirectory]`);
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
