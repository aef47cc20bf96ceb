/**
 * Confinement of tool paths to the run's workspace: relative paths only, no `..` out of it, and
 * no symbolic link that resolves outside it (checked on the real path of the deepest existing
 * ancestor, so a path through a link is caught too).
 */
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

export class WorkspacePathError extends Error {}

/** Resolve `path` inside `workspace`, or throw a `WorkspacePathError` that tells the model what to do. */
export function resolveInWorkspace(workspace: string | undefined, path: string): string {
  if (workspace === undefined) throw new WorkspacePathError('this run has no workspace directory.');
  // A NUL byte would be cut off by the system call and make the checked path differ from the used one.
  if (path.includes('\0')) {
    throw new WorkspacePathError(`"${path.replaceAll('\0', '\\0')}" contains a NUL byte; remove it.`);
  }
  if (isAbsolute(path)) {
    throw new WorkspacePathError(`"${path}" is absolute; use a path relative to the workspace, e.g. "notes.txt".`);
  }
  const root = realpathSync(workspace);
  const target = resolve(root, path);
  if (!isInside(root, target)) {
    throw new WorkspacePathError(`"${path}" is outside the workspace; use a path inside it.`);
  }
  let existing = target;
  while (!entryExists(existing) && existing !== root) existing = dirname(existing);
  let real: string;
  try {
    real = realpathSync(existing);
  } catch {
    // A dangling link: writing through it would create its target, wherever that is.
    throw new WorkspacePathError(`"${path}" goes through a link whose target does not exist; use another path.`);
  }
  if (!isInside(root, real)) {
    throw new WorkspacePathError(`"${path}" goes through a link that points outside the workspace.`);
  }
  return target;
}

/** The path of `target` relative to the workspace root, with `/` separators, for messages. */
export function workspaceRelative(workspace: string, target: string): string {
  const relation = relative(realpathSync(workspace), target);
  return relation === '' ? '.' : relation.split(sep).join('/');
}

/** Whether an entry exists at `path`, a dangling symbolic link included. */
function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isInside(root: string, target: string): boolean {
  const relation = relative(root, target);
  return relation === '' || (!relation.startsWith(`..${sep}`) && relation !== '..' && !isAbsolute(relation));
}
