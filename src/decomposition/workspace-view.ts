/**
 * The workspace a delegated task sees:
 *
 * - `sub-folder` (the default): a folder of its own inside the parent's workspace,
 *   `tasks/<step>[-<key>]/`, holding copies of the files the parent handed over. Parallel
 *   children cannot overwrite each other's files or the parent's, and whatever a child writes is
 *   visible to the parent at a known path, for the next step to use.
 * - `shared`: the parent's own workspace. Fast and simple, but parallel children may overwrite
 *   each other's files; for children that only read.
 * - `copy`: a copy of the whole parent workspace in a directory of its own, outside it. For a
 *   child that must see everything but whose writes must not reach the parent.
 *
 * Handed-over paths are confined to the parent's workspace like any tool path, and symbolic
 * links are never copied: a model cannot use a delegation to reach outside the workspace.
 * The folder is filled in a temporary sibling and renamed into place, so a crash never leaves a
 * half-filled view, and a resumed parent reuses the view its child already worked in.
 */
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { resolveInWorkspace, WorkspacePathError } from '../toolchain/files/workspace-path.js';

export type WorkspaceMode = 'sub-folder' | 'shared' | 'copy';

export const workspaceModes: readonly WorkspaceMode[] = ['sub-folder', 'shared', 'copy'];

export interface WorkspaceViewRequest {
  mode: WorkspaceMode;
  parentWorkspace: string | undefined;
  /** The child's run id, which names its folder. */
  childRunId: string;
  /** The folder name under `tasks/` for `sub-folder`. */
  folderName: string;
  /** Paths relative to the parent's workspace to hand over (files or folders). */
  files: readonly string[];
}

/** Create (or find again) the child's workspace; throws a `WorkspacePathError` for a bad path. */
export function prepareWorkspaceView(request: WorkspaceViewRequest): string | undefined {
  if (request.parentWorkspace === undefined) {
    if (request.files.length > 0) throw new WorkspacePathError('this run has no workspace to hand files from.');
    return undefined;
  }
  const parent = realpathSync(request.parentWorkspace);
  if (request.mode === 'shared') {
    for (const path of request.files) resolveInWorkspace(parent, path);
    return parent;
  }
  const target =
    request.mode === 'sub-folder'
      ? join(parent, 'tasks', request.folderName)
      : join(tmpdir(), `hataraku-${request.childRunId}-workspace`);
  if (existsSync(target)) return target;
  const sources = request.files.map((path) => ({ path, source: resolveInWorkspace(parent, path) }));
  for (const { path, source } of sources) {
    if (!existsSync(source)) throw new WorkspacePathError(`"${path}" does not exist in the workspace.`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const filling = mkdtempSync(request.mode === 'sub-folder' ? `${target}.filling-` : join(tmpdir(), 'hataraku-'));
  try {
    const withoutLinks = (source: string) => !lstatSync(source).isSymbolicLink() && !isInsideTasks(parent, source);
    if (request.mode === 'copy') cpSync(parent, filling, { recursive: true, filter: withoutLinks });
    for (const { source } of sources) {
      cpSync(source, join(filling, relative(parent, source)), { recursive: true, filter: withoutLinks });
    }
    renameSync(filling, target);
  } catch (error) {
    rmSync(filling, { recursive: true, force: true });
    throw error;
  }
  return target;
}

/** Other children's folders are not handed on (a copy of the parent skips `tasks/`). */
function isInsideTasks(parent: string, source: string): boolean {
  const relation = relative(parent, source);
  return relation === 'tasks' || relation.startsWith(`tasks/`);
}
