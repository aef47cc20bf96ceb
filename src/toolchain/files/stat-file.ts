/** `files.stat`: what a workspace path is: type, size, modification time, permissions. */
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import { binarySniffBytes, looksBinary } from './file-tool-options.js';
import { resolveInWorkspace, WorkspacePathError } from './workspace-path.js';

const statInput = z.object({
  path: z.string().min(1).describe('File or directory path relative to the workspace.'),
});

export function createStatFileTool() {
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
      const target = resolveInWorkspace(context.workspace, path);
      let stats: ReturnType<typeof lstatSync>;
      try {
        stats = lstatSync(target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return `${path} does not exist.`;
        throw error;
      }
      const lines = [`path: ${path}`];
      if (stats.isSymbolicLink()) {
        lines.push('type: symbolic link', `target: ${readlinkSync(target)}`);
      } else if (stats.isDirectory()) {
        lines.push('type: directory', `entries: ${readdirSync(target).length}`);
      } else if (stats.isFile()) {
        lines.push('type: file', `size: ${stats.size} bytes`, `content: ${sniff(target) ? 'binary' : 'text'}`);
      } else {
        throw new WorkspacePathError(
          `"${path}" is a special file (device, socket or pipe); the file tools do not open it.`,
        );
      }
      lines.push(`modified: ${stats.mtime.toISOString()}`, `permissions: ${(stats.mode & 0o777).toString(8)}`);
      return lines.join('\n');
    },
  });
}

/** Whether the file's first bytes look binary; reads at most {@link binarySniffBytes}. */
function sniff(path: string): boolean {
  const descriptor = openSync(path, 'r');
  try {
    const head = Buffer.alloc(binarySniffBytes);
    const bytesRead = readSync(descriptor, head, 0, binarySniffBytes, 0);
    return looksBinary(head.subarray(0, bytesRead));
  } finally {
    closeSync(descriptor);
  }
}
