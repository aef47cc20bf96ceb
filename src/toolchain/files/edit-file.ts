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
      `Files up to ${limits.maxEditBytes} bytes, before and after the edit, can be edited.`,
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
      const found = occurrences(text, oldText);
      if (found.count === 0) {
        throw new WorkspacePathError(
          `oldText was not found in "${path}". It must match the file exactly, including whitespace, indentation and line breaks; ` +
            'read the file with files.read and copy the text from it.',
        );
      }
      const more = found.count > maxReportedLines ? ', …' : '';
      const lines = linesOf(text, found.first);
      if (found.count > 1 && !replaceAll) {
        throw new WorkspacePathError(
          `oldText occurs ${found.count} times in "${path}" (at lines ${lines.join(', ')}${more}); ` +
            'include more surrounding text so that it occurs exactly once, or set replaceAll to true to replace all of them.',
        );
      }
      // Measured before the new text is built: a one-byte oldText replaced everywhere by a long
      // newText would otherwise multiply the file (a 10 MiB file becomes 400 MiB with 40 bytes).
      const updatedBytes = buffer.length + found.count * (Buffer.byteLength(newText) - Buffer.byteLength(oldText));
      if (updatedBytes > limits.maxEditBytes) {
        throw new WorkspacePathError(
          `the edit would make "${path}" ${updatedBytes} bytes (${found.count} replacements), over the ${limits.maxEditBytes}-byte limit of files.edit; replace fewer occurrences or change the file with code instead.`,
        );
      }
      const updated = replaceAll
        ? text.split(oldText).join(newText)
        : spliceAt(text, found.first[0] as number, oldText, newText);
      writeWorkspaceFile(access, path, updated);
      return found.count === 1
        ? `Replaced 1 occurrence in ${path} (line ${lines[0]}).`
        : `Replaced ${found.count} occurrences in ${path} (lines ${lines.join(', ')}${more}).`;
    },
  });
}

/**
 * How often `search` occurs in `text` (non-overlapping), and the offsets of the first
 * {@link maxReportedLines} occurrences: only those are ever reported, so a one-character
 * `oldText` in a large file does not keep millions of offsets.
 */
function occurrences(text: string, search: string): { count: number; first: number[] } {
  const first: number[] = [];
  let count = 0;
  for (let from = text.indexOf(search); from !== -1; from = text.indexOf(search, from + search.length)) {
    if (first.length < maxReportedLines) first.push(from);
    count++;
  }
  return { count, first };
}

/**
 * The 1-based line of each of the ascending `positions`, in one pass over the text. Counting
 * from the start for each position took time quadratic in the file: `replaceAll` of a
 * one-character `oldText` over a 10 MiB file held the event loop for more than 11 minutes.
 */
function linesOf(text: string, positions: readonly number[]): number[] {
  const lines: number[] = [];
  let line = 1;
  let newline = text.indexOf('\n');
  for (const position of positions) {
    while (newline !== -1 && newline < position) {
      line++;
      newline = text.indexOf('\n', newline + 1);
    }
    lines.push(line);
  }
  return lines;
}

function spliceAt(text: string, position: number, oldText: string, newText: string): string {
  return text.slice(0, position) + newText + text.slice(position + oldText.length);
}
