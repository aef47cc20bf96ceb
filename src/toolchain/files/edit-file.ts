/**
 * `files.edit`: replace one exact span of text in a workspace file. Requiring the span to occur
 * exactly once makes the model's intent unambiguous; when it does not, the error says how often
 * it occurs and where, so the model can add context and try again.
 */
import { closeSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import { type FileToolLimits, looksBinary } from './file-tool-options.js';
import type { ProtectedPaths } from './protected-paths.js';
import { openFileForReading, workspaceAccess, writeWorkspaceFile } from './workspace-access.js';
import { WorkspacePathError } from './workspace-path.js';

const editInput = z.object({
  path: z.string().min(1).describe('File path relative to the workspace.'),
  oldText: z
    .string()
    .min(1)
    .describe('Text to replace, copied exactly from the file (whitespace and indentation included).'),
  newText: z.string().describe('Text to put in its place; "" deletes it.'),
  replaceAll: z
    .boolean()
    .default(false)
    .describe('Replace every occurrence instead of requiring exactly one; default false.'),
});

const maxReportedLines = 10;

export function createEditFileTool(limits: FileToolLimits, protectedPaths?: ProtectedPaths) {
  return tool({
    name: 'files.edit',
    description: [
      'Replace an exact span of text in a workspace text file. `oldText` must occur exactly once in the file',
      '(copy it from files.read, whitespace included); if it occurs more than once, include more surrounding lines',
      'to make it unique, or set `replaceAll` to true. The rest of the file is unchanged.',
      `Files up to ${limits.maxEditBytes} bytes can be edited.`,
      'Example: {"path": "app.py", "oldText": "DEBUG = True", "newText": "DEBUG = False"}.',
    ].join(' '),
    input: editInput,
    // Not idempotent: applied again after success, the edit either fails (oldText is gone) or,
    // when newText contains oldText, changes the file a second time.
    effect: 'side-effect',
    execute: ({ path, oldText, newText, replaceAll }, context) => {
      const access = workspaceAccess(context.workspace, protectedPaths);
      let opened: ReturnType<typeof openFileForReading>;
      try {
        opened = openFileForReading(access, path);
      } catch (error) {
        if (error instanceof WorkspacePathError && /does not exist/.test(error.message)) {
          throw new WorkspacePathError(`"${path}" does not exist; create it with files.write.`);
        }
        throw error;
      }
      let buffer: Buffer;
      try {
        const size = opened.stats.size;
        if (size > limits.maxEditBytes) {
          throw new WorkspacePathError(
            `"${path}" is ${size} bytes, over the ${limits.maxEditBytes}-byte limit of files.edit; change it with code instead.`,
          );
        }
        buffer = readFileSync(opened.descriptor);
      } finally {
        closeSync(opened.descriptor);
      }
      if (looksBinary(buffer))
        throw new WorkspacePathError(`"${path}" is a binary file; files.edit changes text only.`);
      const text = buffer.toString('utf8');
      if (oldText === newText) throw new WorkspacePathError('oldText and newText are the same; nothing would change.');
      const positions = occurrences(text, oldText);
      if (positions.length === 0) {
        throw new WorkspacePathError(
          `oldText was not found in "${path}". It must match the file exactly, including whitespace, indentation and line breaks; ` +
            'read the file with files.read and copy the text from it.',
        );
      }
      if (positions.length > 1 && !replaceAll) {
        const lines = positions.slice(0, maxReportedLines).map((position) => lineOf(text, position));
        const more = positions.length > maxReportedLines ? ', …' : '';
        throw new WorkspacePathError(
          `oldText occurs ${positions.length} times in "${path}" (at lines ${lines.join(', ')}${more}); ` +
            'include more surrounding text so that it occurs exactly once, or set replaceAll to true to replace all of them.',
        );
      }
      const updated = replaceAll ? text.split(oldText).join(newText) : spliceAt(text, positions[0]!, oldText, newText);
      writeWorkspaceFile(access, path, updated);
      const where = positions.map((position) => lineOf(text, position)).slice(0, maxReportedLines);
      return positions.length === 1
        ? `Replaced 1 occurrence in ${path} (line ${where[0]}).`
        : `Replaced ${positions.length} occurrences in ${path} (lines ${where.join(', ')}${positions.length > maxReportedLines ? ', …' : ''}).`;
    },
  });
}

/** Start offsets of the non-overlapping occurrences of `search` in `text`. */
function occurrences(text: string, search: string): number[] {
  const positions: number[] = [];
  let from = text.indexOf(search);
  while (from !== -1) {
    positions.push(from);
    from = text.indexOf(search, from + search.length);
  }
  return positions;
}

function lineOf(text: string, position: number): number {
  let line = 1;
  for (let index = text.indexOf('\n'); index !== -1 && index < position; index = text.indexOf('\n', index + 1)) line++;
  return line;
}

function spliceAt(text: string, position: number, oldText: string, newText: string): string {
  return text.slice(0, position) + newText + text.slice(position + oldText.length);
}
