/**
 * `files.write`: create or replace a text file in the workspace. The file is written through
 * `writeWorkspaceFile`: each directory opened relative to its checked parent, the content put in
 * place by a rename inside that directory, so nothing is ever created outside the workspace.
 */
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import type { FileToolLimits } from './file-tool-options.js';
import type { ProtectedPaths } from './protected-paths.js';
import { workspaceAccess, writeWorkspaceFile } from './workspace-access.js';
import { WorkspacePathError } from './workspace-path.js';

const writeInput = z.object({
  path: z.string().min(1).describe('File path relative to the workspace, e.g. "out/report.md".'),
  content: z.string().describe('The full text to write; it replaces any existing content.'),
});

export function createWriteFileTool(limits: FileToolLimits, protectedPaths?: ProtectedPaths) {
  return tool({
    name: 'files.write',
    description: [
      'Write a UTF-8 text file in the workspace, creating directories as needed and replacing any existing file.',
      `\`path\` is relative to the workspace. Content is limited to ${limits.maxWriteBytes} bytes.`,
      'To change part of an existing file, prefer files.edit.',
      'Example: {"path": "out/report.md", "content": "# Report\\n"}.',
    ].join(' '),
    input: writeInput,
    // Writing the same content to the same path twice has the effect of writing it once.
    effect: 'idempotent',
    execute: ({ path, content }, context) => {
      const access = workspaceAccess(context.workspace, protectedPaths);
      const bytes = Buffer.byteLength(content);
      if (bytes > limits.maxWriteBytes) {
        throw new WorkspacePathError(
          `content is ${bytes} bytes, over the ${limits.maxWriteBytes}-byte limit; write the file in smaller parts or generate it with code.`,
        );
      }
      writeWorkspaceFile(access, path, content);
      return `Wrote ${bytes} bytes to ${path}.`;
    },
  });
}
