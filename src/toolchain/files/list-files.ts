/**
 * `files.list`: the files under a workspace directory, recursively, with their sizes. Links are
 * shown but not followed, and protected entries are left out, so a listing never leaves the
 * workspace nor shows what no tool may touch.
 */
import { closeSync } from 'node:fs';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import type { FileToolLimits } from './file-tool-options.js';
import type { ProtectedPaths } from './protected-paths.js';
import { maxVisitedEntries, walkWorkspace } from './walk-workspace.js';
import { openEntry, workspaceAccess } from './workspace-access.js';

const listInput = z.object({
  path: z.string().default('.').describe('Directory relative to the workspace, e.g. "data"; "." for all of it.'),
});

export function createListFilesTool(limits: FileToolLimits, protectedPaths?: ProtectedPaths) {
  return tool({
    name: 'files.list',
    description: [
      'List the files in a workspace directory, recursively, one per line as "path (size bytes)".',
      `Shows at most ${limits.maxListedEntries} files and says when there are more; list a subdirectory to see the rest.`,
      'Skips node_modules and the protected entries (.git, .hataraku, .env files, the config). Symbolic links are shown as "path -> target" and not followed.',
      'Example: {"path": "data"}.',
    ].join(' '),
    input: listInput,
    effect: 'none',
    execute: ({ path }, context) => {
      const access = workspaceAccess(context.workspace, protectedPaths);
      const start = openEntry(access, path);
      const startStats = start.stats;
      const startRelative = start.relativeRealPath;
      closeSync(start.descriptor);
      if (!startStats.isDirectory()) {
        return `${path} is a file (${startStats.size} bytes), not a directory; use files.read or files.stat on it.`;
      }
      const lines: string[] = [];
      let total = 0;
      const stopped = walkWorkspace(access, startRelative, maxVisitedEntries, (entry) => {
        total++;
        if (lines.length >= limits.maxListedEntries) return true;
        lines.push(
          entry.kind === 'file'
            ? `${entry.relative} (${entry.size} bytes)`
            : `${entry.relative} -> ${entry.linkTarget}`,
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
