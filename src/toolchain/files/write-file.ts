/** `files.write`: create or replace a text file in the workspace. */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import type { FileToolLimits } from './file-tool-options.js';
import { resolveInWorkspace, WorkspacePathError } from './workspace-path.js';

const writeInput = z.object({
  path: z.string().min(1).describe('File path relative to the workspace, e.g. "out/report.md".'),
  content: z.string().describe('The full text to write; it replaces any existing content.'),
});

export function createWriteFileTool(limits: FileToolLimits) {
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
      const target = resolveInWorkspace(context.workspace, path);
      const bytes = Buffer.byteLength(content);
      if (bytes > limits.maxWriteBytes) {
        throw new WorkspacePathError(
          `content is ${bytes} bytes, over the ${limits.maxWriteBytes}-byte limit; write the file in smaller parts or generate it with code.`,
        );
      }
      if (isDirectory(target)) throw new WorkspacePathError(`"${path}" is a directory; choose a file path inside it.`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
      return `Wrote ${bytes} bytes to ${path}.`;
    },
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
