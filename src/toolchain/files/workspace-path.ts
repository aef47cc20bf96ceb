/**
 * Confinement of tool paths to the run's workspace: relative paths only, no `..` out of it, and
 * no symbolic link that resolves outside it (checked on the real path of the deepest existing
 * ancestor, so a path through a link is caught too).
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

export class WorkspacePathError extends Error {}

/** Resolve `path` inside `workspace`, or throw a `WorkspacePathError` that tells the model what to do. */
export function resolveInWorkspace(workspace: string | undefined, path: string): string {
  if (workspace === undefined) throw new WorkspacePathError('this run has no workspace directory.');
  if (isAbsolute(path)) {
    throw new WorkspacePathError(`"${path}" is absolute; use a path relative to the workspace, e.g. "notes.txt".`);
  }
  const root = realpathSync(workspace);
  const target = resolve(root, path);
  if (!isInside(root, target)) {
    throw new WorkspacePathError(`"${path}" is outside the workspace; use a path inside it.`);
  }
  let existing = target;
  while (!existsSync(existing) && existing !== root) existing = dirname(existing);
  const real = realpathSync(existing);
  if (!isInside(root, real)) {
    throw new WorkspacePathError(`"${path}" goes through a link that points outside the workspace.`);
  }
  return target;
}

function isInside(root: string, target: string): boolean {
  const relation = relative(root, target);
  return relation === '' || (!relation.startsWith(`..${sep}`) && relation !== '..' && !isAbsolute(relation));
}
