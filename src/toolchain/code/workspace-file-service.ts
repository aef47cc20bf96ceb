/**
 * The workspace file functions offered to code in the wasm tier (`readFile`, `writeFile`,
 * `listFiles`), answered on the host side so that every path goes through
 * `resolveInWorkspace`: relative only, no `..` out of the workspace, no link that leads outside.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { resolveInWorkspace } from '../files/workspace-path.js';

/** Largest file the wasm tier reads or writes in one call, in bytes. */
export const maxWorkspaceFileBytes = 20_000_000;

export type WorkspaceFileRequest =
  | { op: 'read'; path: string }
  | { op: 'write'; path: string; content: string }
  | { op: 'list'; path: string };

export type WorkspaceFileReply = { ok: true; value: unknown } | { ok: false; error: string };

/** Answer one file request against `workspace`; errors become messages the program can show. */
export function answerWorkspaceFileRequest(
  workspace: string | undefined,
  request: WorkspaceFileRequest,
): WorkspaceFileReply {
  try {
    const target = resolveInWorkspace(workspace, request.path);
    switch (request.op) {
      case 'read': {
        const size = statSync(target).size;
        if (size > maxWorkspaceFileBytes) {
          return {
            ok: false,
            error: `${request.path} is ${size} bytes; readFile reads at most ${maxWorkspaceFileBytes}.`,
          };
        }
        return { ok: true, value: readFileSync(target, 'utf8') };
      }
      case 'write': {
        if (Buffer.byteLength(request.content) > maxWorkspaceFileBytes) {
          return { ok: false, error: `writeFile writes at most ${maxWorkspaceFileBytes} bytes.` };
        }
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, request.content);
        return { ok: true, value: undefined };
      }
      case 'list':
        return {
          ok: true,
          value: readdirSync(target, { withFileTypes: true })
            .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
            .sort(),
        };
    }
  } catch (error) {
    return { ok: false, error: describeFileError(request.path, error) };
  }
}

/** A message that names the workspace path the program used, never the host path behind it. */
function describeFileError(path: string, error: unknown): string {
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
