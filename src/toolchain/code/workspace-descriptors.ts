/**
 * Reading and writing workspace files on behalf of sandboxed code and charts, without
 * check-then-use: every path is opened first, one component at a time, never following a link
 * (each directory is opened with `O_NOFOLLOW | O_DIRECTORY` relative to the descriptor of the
 * one before it, through `/proc/self/fd/N/name`), and only then is the opened descriptor's real
 * path (`readlink /proc/self/fd/N`) checked to be inside the workspace and not protected.
 * Directories are created only inside a directory already opened and verified, so nothing is
 * ever created outside the workspace while checking, whatever links another process flips
 * meanwhile. A file with other hard links, a FIFO or a device is refused.
 *
 * On platforms without `/proc/self/fd` (macOS, Windows) the same checks run on names, which a
 * concurrent process could race; the process tier (the only one whose code shares the host's
 * file system) exists on Linux only, so there no sandboxed code can flip a link.
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  realpathSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ToolError } from '../../tools/tool-error.js';
import type { ProtectedPaths } from '../files/protected-paths.js';

/** Why a workspace file could not be used. */
export type WorkspaceFileErrorReason =
  /** Absolute, with `..`, with a NUL byte, or empty. */
  | 'invalid-path'
  /** A protected entry (`.git`, `.env*`, the config, the journal, ...). */
  | 'protected'
  /** Through a link, or what was opened lies outside the workspace. */
  | 'outside-workspace'
  /** Not there. */
  | 'missing'
  /** A directory, FIFO, device, or a file with other hard links. */
  | 'not-a-regular-file'
  /** Larger than the caller's cap. */
  | 'too-large';

export class WorkspaceFileError extends ToolError<WorkspaceFileErrorReason> {
  /** The workspace-relative path as the caller gave it. */
  readonly path: string;

  constructor(reason: WorkspaceFileErrorReason, path: string, message: string) {
    super(reason, message);
    this.path = path;
  }
}

/** Where files live and which entries no sandbox may touch. */
export interface WorkspaceAccess {
  workspace: string;
  protectedPaths: ProtectedPaths;
}

const descriptorLinks = process.platform === 'linux' && existsSync('/proc/self/fd');
const noFollow = constants.O_NOFOLLOW ?? 0;
const directoryFlag = constants.O_DIRECTORY ?? 0;
const nonBlocking = constants.O_NONBLOCK ?? 0;

/** The path's segments, after refusing absolute paths, `..`, NUL bytes and protected names. */
export function workspaceSegments(access: WorkspaceAccess, path: string): string[] {
  if (path.includes('\0')) throw new WorkspaceFileError('invalid-path', path, `"${path}" contains a NUL byte.`);
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) {
    throw new WorkspaceFileError(
      'invalid-path',
      path,
      `"${path}" is absolute; use a path relative to the workspace, e.g. "out/result.csv".`,
    );
  }
  const segments = path.split(/[\\/]+/).filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) {
    throw new WorkspaceFileError(
      'invalid-path',
      path,
      `"${path}" contains ".." and could lead outside the workspace; use a path inside it.`,
    );
  }
  if (access.protectedPaths.isProtected(segments.join('/'))) {
    throw new WorkspaceFileError(
      'protected',
      path,
      `"${path}" is a protected entry (${access.protectedPaths.patterns.join(', ')}); sandboxed code can neither read nor write it.`,
    );
  }
  return segments;
}

/** Read a regular workspace file, at most `maxBytes`. */
export function readWorkspaceFile(access: WorkspaceAccess, path: string, maxBytes: number): Buffer {
  const segments = workspaceSegments(access, path);
  if (segments.length === 0) throw new WorkspaceFileError('not-a-regular-file', path, `"${path}" is a directory.`);
  return withOpened(access, path, segments, 'read', (descriptor) => {
    const stats = fstatSync(descriptor);
    if (stats.size > maxBytes) {
      throw new WorkspaceFileError(
        'too-large',
        path,
        `"${path}" is ${stats.size} bytes; at most ${maxBytes} are read.`,
      );
    }
    const buffer = Buffer.alloc(stats.size);
    let offset = 0;
    while (offset < buffer.length) {
      const count = readSync(descriptor, buffer, offset, buffer.length - offset, offset);
      if (count === 0) break;
      offset += count;
    }
    return buffer.subarray(0, offset);
  });
}

/** Create or replace a regular workspace file; missing directories are created inside the workspace. */
export function writeWorkspaceFile(access: WorkspaceAccess, path: string, data: Uint8Array | string): number {
  const segments = workspaceSegments(access, path);
  if (segments.length === 0) throw new WorkspaceFileError('not-a-regular-file', path, `"${path}" is a directory.`);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return withOpened(access, path, segments, 'write', (descriptor) => {
    ftruncateSync(descriptor, 0);
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(descriptor, bytes, offset, bytes.length - offset, offset);
    return bytes.length;
  });
}

/** Remove a workspace file (never a directory, never through a link); a missing one is fine. */
export function removeWorkspaceFile(access: WorkspaceAccess, path: string): void {
  const segments = workspaceSegments(access, path);
  const name = segments.at(-1);
  if (name === undefined) throw new WorkspaceFileError('not-a-regular-file', path, `"${path}" is a directory.`);
  const root = openRoot(access.workspace);
  let parent: number | undefined;
  try {
    parent = openDirectories(root, segments.slice(0, -1), path, false);
    if (parent === undefined) return;
    verifyInside(access, root, parent, path);
    try {
      unlinkSync(childPath(root, parent, name));
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  } finally {
    if (parent !== undefined && parent !== root.descriptor) closeSync(parent);
    closeSync(root.descriptor);
  }
}

/** Names in a workspace directory (`name/` for directories), protected entries left out. */
export function listWorkspaceDirectory(access: WorkspaceAccess, path: string): string[] {
  const segments = workspaceSegments(access, path);
  const root = openRoot(access.workspace);
  let directory: number | undefined;
  try {
    directory = openDirectories(root, segments, path, false);
    if (directory === undefined) {
      throw new WorkspaceFileError('missing', path, `${path} does not exist in the workspace.`);
    }
    verifyInside(access, root, directory, path);
    const prefix = segments.join('/');
    return readdirSync(descriptorLinks ? `/proc/self/fd/${directory}` : join(root.real, ...segments), {
      withFileTypes: true,
    })
      .filter((entry) => !access.protectedPaths.isProtected(prefix === '' ? entry.name : `${prefix}/${entry.name}`))
      .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
      .sort();
  } finally {
    if (directory !== undefined && directory !== root.descriptor) closeSync(directory);
    closeSync(root.descriptor);
  }
}

interface OpenedRoot {
  descriptor: number;
  /** The workspace's real path, as the kernel names the opened directory. */
  real: string;
}

function openRoot(workspace: string): OpenedRoot {
  const real = realpathSync(workspace);
  const descriptor = openSync(real, constants.O_RDONLY | directoryFlag);
  return { descriptor, real: descriptorLinks ? readlinkSync(`/proc/self/fd/${descriptor}`) : real };
}

/** The path that names `name` inside the directory open as `directory`. */
function childPath(root: OpenedRoot, directory: number, name: string): string {
  if (descriptorLinks) return `/proc/self/fd/${directory}/${name}`;
  const parent = directory === root.descriptor ? root.real : (openedNames.get(directory) ?? root.real);
  return join(parent, name);
}

/** Off Linux, the names of the directories opened, for {@link childPath}. */
const openedNames = new Map<number, string>();

/**
 * Open each directory of `segments` in turn without following links; `create` makes missing
 * ones. Returns the last one's descriptor, or undefined when one is missing and not created.
 */
function openDirectories(root: OpenedRoot, segments: string[], path: string, create: boolean): number | undefined {
  let current = root.descriptor;
  for (const segment of segments) {
    const target = childPath(root, current, segment);
    let next: number;
    try {
      next = openDirectory(target, path);
    } catch (error) {
      if (!(create && errorCode(error) === 'ENOENT')) {
        if (current !== root.descriptor) closeSync(current);
        if (errorCode(error) === 'ENOENT') return undefined;
        throw error;
      }
      try {
        mkdirSync(target);
      } catch (mkdirError) {
        if (errorCode(mkdirError) !== 'EEXIST') {
          if (current !== root.descriptor) closeSync(current);
          throw mkdirError;
        }
      }
      try {
        next = openDirectory(target, path);
      } catch (reopenError) {
        if (current !== root.descriptor) closeSync(current);
        throw reopenError;
      }
    }
    if (!descriptorLinks) openedNames.set(next, target);
    if (current !== root.descriptor) {
      openedNames.delete(current);
      closeSync(current);
    }
    current = next;
  }
  return current;
}

function openDirectory(target: string, path: string): number {
  if (!descriptorLinks && lstatSync(target, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
    throw linkError(path);
  }
  try {
    return openSync(target, constants.O_RDONLY | directoryFlag | noFollow);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ELOOP') throw linkError(path);
    if (code === 'ENOTDIR' && lstatSync(target, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
      throw linkError(path);
    }
    if (code === 'ENOTDIR') {
      throw new WorkspaceFileError(
        'not-a-regular-file',
        path,
        `"${path}" goes through something that is not a directory.`,
      );
    }
    throw error;
  }
}

/** Open the last segment as a file (created for writes) and run `use` on the verified descriptor. */
function withOpened<Result>(
  access: WorkspaceAccess,
  path: string,
  segments: string[],
  mode: 'read' | 'write',
  use: (descriptor: number) => Result,
): Result {
  const root = openRoot(access.workspace);
  let parent: number | undefined;
  let descriptor: number | undefined;
  try {
    parent = openDirectories(root, segments.slice(0, -1), path, mode === 'write');
    if (parent === undefined) throw new WorkspaceFileError('missing', path, `${path} does not exist in the workspace.`);
    const target = childPath(root, parent, segments.at(-1) as string);
    if (!descriptorLinks && lstatSync(target, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
      throw linkError(path);
    }
    const flags =
      mode === 'read'
        ? constants.O_RDONLY | noFollow | nonBlocking
        : constants.O_WRONLY | constants.O_CREAT | noFollow | nonBlocking;
    try {
      descriptor = openSync(target, flags, 0o644);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ELOOP') throw linkError(path);
      if (code === 'ENOENT') throw new WorkspaceFileError('missing', path, `${path} does not exist in the workspace.`);
      if (code === 'EISDIR' || code === 'ENXIO') {
        throw new WorkspaceFileError('not-a-regular-file', path, `"${path}" is not a regular file.`);
      }
      throw error;
    }
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) throw new WorkspaceFileError('not-a-regular-file', path, `"${path}" is not a regular file.`);
    if (stats.nlink > 1) {
      throw new WorkspaceFileError(
        'not-a-regular-file',
        path,
        `"${path}" has other hard links (it may be a file elsewhere too); it is not used.`,
      );
    }
    verifyInside(access, root, descriptor, path);
    return use(descriptor);
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
    if (parent !== undefined && parent !== root.descriptor) {
      openedNames.delete(parent);
      closeSync(parent);
    }
    closeSync(root.descriptor);
  }
}

/** What `descriptor` really is must lie inside the workspace and not be protected. */
function verifyInside(access: WorkspaceAccess, root: OpenedRoot, descriptor: number, path: string): void {
  if (!descriptorLinks) return;
  const real = readlinkSync(`/proc/self/fd/${descriptor}`).replace(/ \(deleted\)$/, '');
  const relation = relative(root.real, real);
  if (relation !== '' && (relation === '..' || relation.startsWith(`..${sep}`) || isAbsolute(relation))) {
    throw new WorkspaceFileError('outside-workspace', path, `"${path}" leads outside the workspace; it is not used.`);
  }
  if (access.protectedPaths.isProtected(relation.split(sep).join('/'))) {
    throw new WorkspaceFileError('protected', path, `"${path}" leads to a protected entry; it is not used.`);
  }
}

function linkError(path: string): WorkspaceFileError {
  return new WorkspaceFileError(
    'outside-workspace',
    path,
    `"${path}" goes through a symbolic link, and links are never followed here (a link that points outside the workspace would escape it); use the real path.`,
  );
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
