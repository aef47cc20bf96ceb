/**
 * `files.read`: text from a workspace file, whole or by line range. The file is read through a
 * file descriptor in chunks and only up to the requested lines, so a multi-gigabyte file costs
 * no more memory than the answer.
 */
import { close, fstat, read } from 'node:fs';
import { promisify } from 'node:util';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import { binarySniffBytes, type FileToolLimits, looksBinary } from './file-tool-options.js';
import type { ProtectedPaths } from './protected-paths.js';
import { openFileForReading, type WorkspaceAccess, workspaceAccess } from './workspace-access.js';
import { WorkspacePathError } from './workspace-path.js';

const readDescriptor = promisify(read);
const statDescriptor = promisify(fstat);
const closeDescriptor = promisify(close);

const chunkBytes = 64 * 1024;
const newline = 0x0a;

const readInput = z
  .object({
    path: z.string().min(1).describe('File path relative to the workspace, e.g. "src/main.py".'),
    startLine: z.number().int().min(1).optional().describe('First line to return (1-based); default 1.'),
    endLine: z.number().int().min(1).optional().describe('Last line to return (inclusive); default the end.'),
  })
  .refine((input) => input.endLine === undefined || input.endLine >= (input.startLine ?? 1), {
    message: 'endLine must not be before startLine',
    path: ['endLine'],
  });

export function createReadFileTool(limits: FileToolLimits, protectedPaths?: ProtectedPaths) {
  return tool({
    name: 'files.read',
    description: [
      'Read a UTF-8 text file from the workspace. `path` is relative to the workspace.',
      'Optionally give `startLine` and `endLine` (1-based, inclusive) to read part of a long file.',
      `At most ${limits.maxReadBytes} bytes are returned per call; when the text is cut, the output ends with a note`,
      'saying which lines were shown and the `startLine` to continue from. Binary files are reported, not returned.',
      'Example: {"path": "logs/app.log", "startLine": 100, "endLine": 150}.',
    ].join(' '),
    input: readInput,
    effect: 'none',
    execute: async ({ path, startLine, endLine }, context) => {
      const access = workspaceAccess(context.workspace, protectedPaths);
      return readLineRange(access, path, { startLine: startLine ?? 1, endLine, limits });
    },
  });
}

interface LineRange {
  startLine: number;
  endLine: number | undefined;
  limits: FileToolLimits;
}

async function readLineRange(access: WorkspaceAccess, path: string, range: LineRange): Promise<string> {
  const { startLine, endLine, limits } = range;
  let descriptor: number;
  try {
    // Opened and checked first (a named pipe is never opened for reading: it would wait forever).
    descriptor = openFileForReading(access, path).descriptor;
  } catch (error) {
    throw openError(error, path);
  }
  const handle = {
    read: (buffer: Buffer, offset: number, length: number, position: number) =>
      readDescriptor(descriptor, buffer, offset, length, position),
  };
  try {
    const stats = await statDescriptor(descriptor);
    if (stats.isDirectory()) throw new WorkspacePathError(`"${path}" is a directory; use files.list on it.`);
    if (!stats.isFile()) throw new WorkspacePathError(`"${path}" is not a regular file and cannot be read.`);
    const head = Buffer.alloc(Math.min(binarySniffBytes, stats.size));
    await handle.read(head, 0, head.length, 0);
    if (looksBinary(head)) return `${path} is a binary file (${stats.size} bytes); it cannot be read as text.`;

    const collected: Buffer[] = [];
    let collectedBytes = 0;
    let line = 1;
    let position = 0;
    let lastByte = newline;
    let cutInLine = false;
    let finished = false;
    let endedAtFileEnd = false;
    const buffer = Buffer.alloc(chunkBytes);
    while (!finished) {
      if (line < startLine && position >= limits.maxReadScanBytes) {
        throw new WorkspacePathError(
          `line ${startLine} of "${path}" is beyond the first ${limits.maxReadScanBytes} bytes that files.read scans; ` +
            'use files.search to find the text you need and read around the line it reports.',
        );
      }
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const chunk = buffer.subarray(0, bytesRead);
      lastByte = chunk[bytesRead - 1] ?? newline;
      let offset = 0;
      while (offset < bytesRead) {
        const found = chunk.indexOf(newline, offset);
        const segmentEnd = found === -1 ? bytesRead : found + 1;
        if (line >= startLine) {
          const room = limits.maxReadBytes - collectedBytes;
          const segment = chunk.subarray(offset, segmentEnd);
          if (segment.length > room) {
            const cut = characterBoundary(segment, room);
            collected.push(Buffer.from(segment.subarray(0, cut)));
            collectedBytes += cut;
            cutInLine = true;
            finished = true;
            break;
          }
          collected.push(Buffer.from(segment));
          collectedBytes += segment.length;
        }
        offset = segmentEnd;
        if (found !== -1) {
          line++;
          if (endLine !== undefined && line > endLine) {
            finished = true;
            endedAtFileEnd = segmentEnd === bytesRead && position >= stats.size;
            break;
          }
        }
      }
    }
    const reachedEnd = (!finished || endedAtFileEnd) && position >= stats.size;
    // `line` counts the line after the last newline; a file ending in a newline has no extra line.
    const totalLines = reachedEnd ? (stats.size === 0 ? 0 : lastByte === newline ? line - 1 : line) : undefined;
    if (totalLines !== undefined && startLine > Math.max(totalLines, 1)) {
      throw new WorkspacePathError(
        `"${path}" has only ${totalLines} lines; ask for a startLine of at most ${totalLines}.`,
      );
    }
    const text = Buffer.concat(collected).toString('utf8');
    const lastShownLine = cutInLine ? line : totalLines !== undefined ? Math.max(totalLines, startLine) : line - 1;
    if (startLine === 1 && reachedEnd) return text;
    return `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${rangeNote(path, {
      startLine,
      lastShownLine,
      totalLines,
      cutInLine,
      fileBytes: stats.size,
      limits,
    })}`;
  } finally {
    await closeDescriptor(descriptor);
  }
}

function rangeNote(
  path: string,
  shown: {
    startLine: number;
    lastShownLine: number;
    totalLines: number | undefined;
    cutInLine: boolean;
    fileBytes: number;
    limits: FileToolLimits;
  },
): string {
  const of = shown.totalLines === undefined ? `of a ${shown.fileBytes}-byte file` : `of ${shown.totalLines}`;
  if (shown.cutInLine) {
    return (
      `[truncated: the ${shown.limits.maxReadBytes}-byte cap was reached inside line ${shown.lastShownLine} (${of}); ` +
      `continue with startLine ${shown.lastShownLine + 1}, or use files.search to find what you need in ${path}]`
    );
  }
  const more =
    shown.totalLines === undefined || shown.lastShownLine < shown.totalLines
      ? `; continue with startLine ${shown.lastShownLine + 1}`
      : '';
  return `[showing lines ${shown.startLine}-${shown.lastShownLine} ${of}${more}]`;
}

/** The largest length ≤ `limit` that does not split a UTF-8 character of `bytes`. */
function characterBoundary(bytes: Buffer, limit: number): number {
  let cut = Math.min(limit, bytes.length);
  while (cut > 0 && cut < bytes.length && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut;
}

function openError(error: unknown, path: string): Error {
  if (error instanceof WorkspacePathError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new WorkspacePathError(`"${path}" does not exist; call files.list to see the files.`);
  if (code === 'EISDIR') return new WorkspacePathError(`"${path}" is a directory; use files.list on it.`);
  if (code === 'EACCES') return new WorkspacePathError(`"${path}" is not readable (permission denied).`);
  return error instanceof Error ? error : new Error(String(error));
}
