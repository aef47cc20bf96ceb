/** `files.stat`: what a workspace path is: type, size, modification time, permissions. */
import { closeSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import { binarySniffBytes, looksBinary } from './file-tool-options.js';
import type { ProtectedPaths } from './protected-paths.js';
import {
  descriptorPath,
  hasDescriptorPaths,
  type OpenedEntry,
  openEntry,
  reopenForReading,
  workspaceAccess,
} from './workspace-access.js';
import { WorkspacePathError } from './workspace-path.js';

const statInput = z.object({
  path: z.string().min(1).describe('File or directory path relative to the workspace.'),
});

export function createStatFileTool(protectedPaths?: ProtectedPaths) {
  return tool({
    name: 'files.stat',
    description: [
      'Describe a workspace path without reading it: whether it exists, its type (file, directory, symbolic link),',
      'size in bytes, last modification time, permissions, and for a file whether it is text or binary.',
      'Use it before reading a file that may be large. Example: {"path": "data/sales.csv"}.',
    ].join(' '),
    input: statInput,
    effect: 'none',
    execute: ({ path }, context) => {
      const access = workspaceAccess(context.workspace, protectedPaths);
      let entry: OpenedEntry;
      try {
        // The final link itself is described, not followed.
        entry = openEntry(access, path, { followLastLink: false });
      } catch (error) {
        if (error instanceof WorkspacePathError && /does not exist/.test(error.message))
          return `${path} does not exist.`;
        throw error;
      }
      try {
        const stats = entry.stats;
        const lines = [`path: ${path}`];
        if (stats.isSymbolicLink()) {
          // A link is described only when it leads to an entry the tools may reach.
          closeSync(openEntry(access, path).descriptor);
          lines.push('type: symbolic link', `target: ${readlinkSync(entry.realPath)}`);
        } else if (stats.isDirectory()) {
          const entries = readdirSync(hasDescriptorPaths ? descriptorPath(entry.descriptor) : entry.realPath);
          lines.push('type: directory', `entries: ${entries.length}`);
        } else if (stats.isFile()) {
          const content =
            stats.nlink > 1
              ? `not checked (the file has ${stats.nlink} hard links, so the tools do not open it)`
              : sniff(entry, path)
                ? 'binary'
                : 'text';
          lines.push('type: file', `size: ${stats.size} bytes`, `content: ${content}`);
        } else {
          throw new WorkspacePathError(
            `"${path}" is a special file (device, socket or pipe); the file tools do not open it.`,
          );
        }
        lines.push(`modified: ${stats.mtime.toISOString()}`, `permissions: ${(stats.mode & 0o777).toString(8)}`);
        return lines.join('\n');
      } finally {
        closeSync(entry.descriptor);
      }
    },
  });
}

/** Whether the file's first bytes look binary; reads at most {@link binarySniffBytes}. */
function sniff(entry: OpenedEntry, path: string): boolean {
  const descriptor = hasDescriptorPaths ? reopenForReading(entry, path) : entry.descriptor;
  try {
    const head = Buffer.alloc(binarySniffBytes);
    const bytesRead = readSync(descriptor, head, 0, binarySniffBytes, 0);
    return looksBinary(head.subarray(0, bytesRead));
  } finally {
    if (descriptor !== entry.descriptor) closeSync(descriptor);
  }
}
