/**
 * The workspace file functions offered to JavaScript in the wasm tier (`readFile`, `writeFile`,
 * `listFiles`), answered on the host side through `workspace-access.ts`'s link-free functions: relative paths
 * only, no `..`, no link ever followed, what was opened verified to be inside the workspace, and
 * protected entries neither read, written nor listed.
 */
import type { ProtectedPaths } from '../files/protected-paths.js';
import {
  listDirectoryWithoutLinks,
  readFileWithoutLinks,
  WorkspaceFileError,
  workspaceAccess,
  writeFileWithoutLinks,
} from '../files/workspace-access.js';
import { bytesPerEntry } from './workspace-disk-use.js';

/** The files and folders a run may make within a write limit of `limitBytes`. */
export function maxEntriesWithin(limitBytes: number): number {
  return Math.max(1, Math.floor(limitBytes / bytesPerEntry));
}

/** Largest file the wasm tier reads or writes in one call, in bytes. */
export const maxWorkspaceFileBytes = 20_000_000;

export type WorkspaceFileRequest =
  | { op: 'read'; path: string }
  | { op: 'write'; path: string; content: string }
  | { op: 'list'; path: string };

export type WorkspaceFileReply = { ok: true; value: unknown } | { ok: false; error: string };

/** What one run may still write through `writeFile`; shared by the run's requests. */
export interface WriteBudget {
  /** The most bytes the run may write in all (`maxWriteBytes`). */
  readonly limitBytes: number;
  /** Bytes written so far in this run. */
  writtenBytes: number;
  /**
   * Files and folders the run's writes may have made so far: each write counts the names of its
   * path. An empty file takes no byte but an inode and a name, and a deep path makes a folder
   * per name; at most one per `bytesPerEntry` of the limit.
   */
  writtenEntries?: number;
  /** Set when a write was refused for the limit. */
  exceeded: boolean;
}

/**
 * Answer one file request against `workspace`; errors become messages the program can show. A
 * write that would take the run past its `budget` is refused whole, before anything is written.
 */
export function answerWorkspaceFileRequest(
  workspace: string | undefined,
  protectedPaths: ProtectedPaths,
  request: WorkspaceFileRequest,
  budget?: WriteBudget,
): WorkspaceFileReply {
  if (workspace === undefined) return { ok: false, error: 'this run has no workspace directory.' };
  if (typeof request?.path !== 'string') return { ok: false, error: 'a path must be a string.' };
  try {
    const access = workspaceAccess(workspace, protectedPaths);
    switch (request.op) {
      case 'read':
        return { ok: true, value: readFileWithoutLinks(access, request.path, maxWorkspaceFileBytes).toString('utf8') };
      case 'write': {
        if (typeof request.content !== 'string') return { ok: false, error: 'writeFile writes text.' };
        const bytes = Buffer.byteLength(request.content);
        if (bytes > maxWorkspaceFileBytes) {
          return { ok: false, error: `writeFile writes at most ${maxWorkspaceFileBytes} bytes.` };
        }
        const entries = request.path.split('/').filter((name) => name !== '' && name !== '.').length;
        const maxEntries = budget === undefined ? 0 : maxEntriesWithin(budget.limitBytes);
        if (budget !== undefined && (budget.writtenEntries ?? 0) + entries > maxEntries) {
          budget.exceeded = true;
          return {
            ok: false,
            error: `writeFile(${JSON.stringify(request.path)}) refused: a run may make at most ${maxEntries} files and folders (one per ${bytesPerEntry} bytes of the write limit, maxWriteBytes), and each name in a path counts. Nothing was written; write fewer files, in shallower folders.`,
          };
        }
        if (budget !== undefined && budget.writtenBytes + bytes > budget.limitBytes) {
          budget.exceeded = true;
          return {
            ok: false,
            error: `writeFile(${JSON.stringify(request.path)}) refused: a run may write at most ${budget.limitBytes} bytes in all (the write limit, maxWriteBytes), this one has written ${budget.writtenBytes} and this file is ${bytes}. Nothing was written; write less, or fewer and smaller files.`,
          };
        }
        writeFileWithoutLinks(access, request.path, request.content);
        if (budget !== undefined) {
          budget.writtenBytes += bytes;
          budget.writtenEntries = (budget.writtenEntries ?? 0) + entries;
        }
        return { ok: true, value: undefined };
      }
      case 'list':
        return { ok: true, value: listDirectoryWithoutLinks(access, request.path) };
      default:
        return { ok: false, error: 'unknown file operation.' };
    }
  } catch (error) {
    return { ok: false, error: describeFileError(request.path, error) };
  }
}

/** A message that names the workspace path the program used, never the host path behind it. */
function describeFileError(path: string, error: unknown): string {
  if (error instanceof WorkspaceFileError) {
    return error.reason === 'missing'
      ? `${path} does not exist in the workspace; call listFiles() to see what is there.`
      : error.message;
  }
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  switch (code) {
    case 'ENOENT':
      return `${path} does not exist in the workspace; call listFiles() to see what is there.`;
    case 'EISDIR':
      return `${path} is a directory; use listFiles(${JSON.stringify(path)}).`;
    case 'ENOTDIR':
      return `${path} is not a directory.`;
    case 'EACCES':
    case 'EPERM':
      return `${path} cannot be accessed (permission denied).`;
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
