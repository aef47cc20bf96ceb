/**
 * Open first, then check what was opened: the one way the file, data and document tools reach a
 * workspace entry.
 *
 * Checking a path and then opening it again by name loses to a link flipped in between (the model
 * can run code that flips links while another tool call runs). So every entry is opened first
 * — on Linux with `O_PATH`, which opens nothing on the device: no FIFO blocks, no device file
 * wakes — and the real path of the opened descriptor (`/proc/self/fd/N`) is checked: inside the
 * workspace, not protected, the expected kind. Only then is it reopened through
 * `/proc/self/fd/N` for reading, which reaches exactly the checked inode whatever the names do
 * meanwhile.
 *
 * Writes never follow a name either: each directory of the path is opened relative to its
 * verified parent (`/proc/self/fd/<dir>/<name>`, created there when missing), the content goes to
 * a fresh temporary file created with `O_CREAT | O_EXCL | O_NOFOLLOW` in the verified directory,
 * and a rename within that directory puts it in place. Nothing is ever created outside, even
 * for an instant.
 *
 * Where `/proc/self/fd` does not exist (macOS, Windows), the fallback opens the file, then
 * compares the descriptor's device and inode with those of the checked real path; a swap in
 * between is detected and refused. Directory creation there checks before it creates, a gap that
 * `docs/security.md` states.
 *
 * Sandboxed code and charts get a stricter set (`readFileWithoutLinks`, `writeFileWithoutLinks`,
 * `removeFileWithoutLinks`, `listDirectoryWithoutLinks`): no link is ever followed, even one
 * that stays inside. Every path is opened one component at a time, each directory with
 * `O_NOFOLLOW | O_DIRECTORY` relative to the descriptor of the one before it (through
 * `/proc/self/fd/N/name`), and only then is the opened descriptor's real path checked. Missing
 * directories are created only inside a directory already opened and verified. A file with
 * other hard links, a FIFO or a device is refused. Without `/proc/self/fd` the same checks run on
 * names; there no sandboxed code shares the host's file system (the process tier is Linux only),
 * so none can flip a link in between.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import { ToolError } from '../../tools/tool-error.js';
import { createProtectedPaths, type ProtectedPaths } from './protected-paths.js';
import { WorkspacePathError } from './workspace-path.js';

/** `O_PATH` on Linux (the same value on x86-64 and arm64); Node does not export it. */
const openPathOnly = 0o10000000;

/** Whether descriptors can be resolved through `/proc/self/fd` (Linux). */
export const hasDescriptorPaths: boolean = process.platform === 'linux' && existsSync('/proc/self/fd');

/** What a tool needs to reach a workspace: its real root and the protected entries. */
export interface WorkspaceAccess {
  /** Real path of the workspace directory. */
  readonly root: string;
  readonly protectedPaths: ProtectedPaths;
}

/** The access for `workspace`, or an error telling the model that the run has none. */
export function workspaceAccess(workspace: string | undefined, protectedPaths?: ProtectedPaths): WorkspaceAccess {
  if (workspace === undefined) throw new WorkspacePathError('this run has no workspace directory.');
  return { root: realpathSync(workspace), protectedPaths: protectedPaths ?? createProtectedPaths() };
}

/**
 * Check a model-given path without touching the disk: relative, no NUL, no `..` out of the
 * workspace, not protected. Returns it normalised with `/` separators (`.` for the root).
 */
export function checkedRelativePath(access: WorkspaceAccess, path: string): string {
  if (path.includes('\0')) {
    throw new WorkspacePathError(`"${path.replaceAll('\0', '\\0')}" contains a NUL byte; remove it.`);
  }
  if (isAbsolute(path) || posix.isAbsolute(path)) {
    throw new WorkspacePathError(`"${path}" is absolute; use a path relative to the workspace, e.g. "notes.txt".`);
  }
  const normalised = posix.normalize(path.split(sep).join('/')).replace(/\/+$/, '') || '.';
  if (normalised === '..' || normalised.startsWith('../')) {
    throw new WorkspacePathError(`"${path}" is outside the workspace; use a path inside it.`);
  }
  const tooLong = overlongPath(normalised);
  if (tooLong !== undefined) throw new WorkspacePathError(tooLong);
  refuseProtected(access, normalised, path);
  return normalised;
}

/** Longest workspace path a tool takes, in characters, and the most directories deep. */
export const maxWorkspacePathLength = 1_024;
export const maxWorkspacePathDepth = 64;

/**
 * Why a relative path is too long or too deep to write, or undefined. Checked before anything is
 * made: a write creates each missing directory of its path, and a path of 3,000 levels left
 * 2,000 directories behind it before the system refused the rest (`ENAMETOOLONG`), a tree every
 * later walk of the workspace failed on.
 */
function overlongPath(relativePath: string): string | undefined {
  const depth = relativePath.split('/').length;
  if (relativePath.length <= maxWorkspacePathLength && depth <= maxWorkspacePathDepth) return undefined;
  return `"${relativePath.slice(0, 80)}…" is too long (${relativePath.length} characters, ${depth} levels); a workspace path may have at most ${maxWorkspacePathLength} characters and ${maxWorkspacePathDepth} levels. Use a shorter path.`;
}

function refuseProtected(access: WorkspaceAccess, relativePath: string, shown: string): void {
  if (access.protectedPaths.isProtected(relativePath)) {
    throw new WorkspacePathError(
      `"${shown}" is protected (${access.protectedPaths.patterns.join(', ')}): no tool may read or write it. Use another path.`,
    );
  }
}

/** An entry opened and checked; close it with {@link closeEntry}. */
export interface OpenedEntry {
  /** The descriptor: `O_PATH` on Linux (reopen it with {@link reopenForReading}), a read descriptor elsewhere. */
  readonly descriptor: number;
  /** Real path of what was opened. */
  readonly realPath: string;
  /** That real path relative to the workspace root, `/` separators (`.` for the root). */
  readonly relativeRealPath: string;
  readonly stats: Stats;
}

/** The path through which an opened descriptor's file is reached again (Linux only). */
export function descriptorPath(descriptor: number): string {
  return `/proc/self/fd/${descriptor}`;
}

/**
 * Open `path` (following links, which may stay inside) and check what was opened.
 * `followLastLink: false` opens a final link itself (for `files.stat`).
 * @throws WorkspacePathError when it does not exist, leaves the workspace or is protected.
 */
export function openEntry(
  access: WorkspaceAccess,
  path: string,
  options: { followLastLink?: boolean } = {},
): OpenedEntry {
  const relativePath = checkedRelativePath(access, path);
  const absolute = relativePath === '.' ? access.root : `${access.root}/${relativePath}`;
  const follow = options.followLastLink ?? true;
  let descriptor: number;
  try {
    descriptor = hasDescriptorPaths
      ? openSync(absolute, openPathOnly | (follow ? 0 : constants.O_NOFOLLOW))
      : openSync(absolute, constants.O_RDONLY | constants.O_NONBLOCK | (follow ? 0 : constants.O_NOFOLLOW));
  } catch (error) {
    // A missing entry behind a link that leads out is reported as the link, not as missing:
    // the answer must not tell whether something exists outside.
    if (leavesThroughExistingPart(access, relativePath)) {
      throw new WorkspacePathError(`"${path}" goes through a link that points outside the workspace.`);
    }
    throw openFailure(error, path, absolute);
  }
  try {
    const stats = fstatSync(descriptor);
    const realPath = hasDescriptorPaths ? readlinkSync(descriptorPath(descriptor)) : fallbackRealPath(absolute, stats);
    const relativeRealPath = insideRelative(access.root, realPath);
    if (relativeRealPath === undefined) {
      throw new WorkspacePathError(`"${path}" goes through a link that points outside the workspace.`);
    }
    refuseProtected(access, relativeRealPath, path);
    return { descriptor, realPath, relativeRealPath, stats };
  } catch (error) {
    closeSync(descriptor);
    throw error;
  }
}

/** Close an entry's descriptor. */
export function closeEntry(entry: OpenedEntry): void {
  closeSync(entry.descriptor);
}

/**
 * Open a checked regular file for reading: a new read descriptor on exactly the checked inode.
 * Refuses anything but a regular file with a single link (a hard link may be a second name of
 * a file outside the workspace or of a protected one).
 */
export function reopenForReading(entry: OpenedEntry, path: string): number {
  requireSingleLinkFile(entry.stats, path);
  if (!hasDescriptorPaths) return openSync(`/dev/fd/${entry.descriptor}`, constants.O_RDONLY);
  return openSync(descriptorPath(entry.descriptor), constants.O_RDONLY);
}

/** Throws unless `stats` is a regular file with one link. */
export function requireSingleLinkFile(stats: Stats, path: string): void {
  if (stats.isDirectory()) throw new WorkspacePathError(`"${path}" is a directory; use files.list on it.`);
  if (!stats.isFile()) throw new WorkspacePathError(`"${path}" is not a regular file and cannot be opened.`);
  if (stats.nlink > 1) {
    throw new WorkspacePathError(
      `"${path}" has ${stats.nlink} hard links; the tools do not open a file that also has another name (it may be a file outside the workspace or a protected one). Copy it to a new file first.`,
    );
  }
}

/**
 * Open a regular file of the workspace for reading: {@link openEntry}, then
 * {@link reopenForReading}. Returns a plain read descriptor and the file's stats; close it with
 * `closeSync`.
 */
export function openFileForReading(access: WorkspaceAccess, path: string): { descriptor: number; stats: Stats } {
  const entry = openEntry(access, path);
  try {
    if (!hasDescriptorPaths) {
      requireSingleLinkFile(entry.stats, path);
      return { descriptor: entry.descriptor, stats: entry.stats };
    }
    const descriptor = reopenForReading(entry, path);
    closeEntry(entry);
    return { descriptor, stats: fstatSync(descriptor) };
  } catch (error) {
    closeEntry(entry);
    throw error;
  }
}

/**
 * Open, and create where missing, the directory `relativeDirectory` (already checked) step by
 * step, each step relative to its verified parent. Returns an `O_PATH` descriptor (Linux) and
 * the directory's real path.
 */
function openDirectoryForWriting(
  access: WorkspaceAccess,
  relativeDirectory: string,
  shown: string,
): { descriptor: number | undefined; realPath: string } {
  if (!hasDescriptorPaths) {
    // Fallback: check, then create; see the module comment.
    let current = access.root;
    for (const name of relativeDirectory === '.' ? [] : relativeDirectory.split('/')) {
      const next = `${current}/${name}`;
      if (!existsSync(next)) mkdirSync(next);
      current = realpathSync(next);
      const inside = insideRelative(access.root, current);
      if (inside === undefined)
        throw new WorkspacePathError(`"${shown}" goes through a link that points outside the workspace.`);
      refuseProtected(access, inside, shown);
      if (!statSync(current).isDirectory()) throw new WorkspacePathError(`"${shown}": ${name} is not a directory.`);
    }
    return { descriptor: undefined, realPath: current };
  }
  let descriptor = openSync(access.root, openPathOnly | constants.O_DIRECTORY);
  let realPath = readlinkSync(descriptorPath(descriptor));
  try {
    if (realPath !== access.root) throw new WorkspacePathError('the workspace directory was moved; start a new run.');
    for (const name of relativeDirectory === '.' ? [] : relativeDirectory.split('/')) {
      const child = `${descriptorPath(descriptor)}/${name}`;
      let next: number;
      try {
        next = openSync(child, openPathOnly | constants.O_DIRECTORY);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR') throw new WorkspacePathError(`"${shown}": ${name} is a file, not a directory.`);
        if (code !== 'ENOENT') throw error;
        try {
          // mkdir never follows a final link: a dangling link here fails with EEXIST.
          mkdirSync(child);
        } catch (mkdirError) {
          if ((mkdirError as NodeJS.ErrnoException).code === 'EEXIST') {
            throw new WorkspacePathError(
              `"${shown}" goes through a link whose target does not exist; use another path.`,
            );
          }
          throw mkdirError;
        }
        next = openSync(child, openPathOnly | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      }
      closeSync(descriptor);
      descriptor = next;
      realPath = readlinkSync(descriptorPath(descriptor));
      const inside = insideRelative(access.root, realPath);
      if (inside === undefined)
        throw new WorkspacePathError(`"${shown}" goes through a link that points outside the workspace.`);
      refuseProtected(access, inside, shown);
    }
    return { descriptor, realPath };
  } catch (error) {
    closeSync(descriptor);
    throw error;
  }
}

/** What {@link writeWorkspaceFile} writes: text, bytes, or a copy of a file outside the workspace that the host made. */
export type WrittenContent = Uint8Array | string | { sourcePath: string };

/**
 * Write `content` to the workspace file `path`, creating its directories as needed. The file is
 * replaced atomically (a temporary file in the verified directory, renamed over it), keeping
 * the old file's permissions; a final link that stays inside the workspace is written through.
 * @returns the workspace-relative path written.
 */
export function writeWorkspaceFile(access: WorkspaceAccess, path: string, content: WrittenContent): string {
  try {
    return writeChecked(access, path, content);
  } catch (error) {
    throw writeFailure(error, path);
  }
}

function writeFailure(error: unknown, path: string): Error {
  if (error instanceof WorkspacePathError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const shown = path.length > 80 ? `${path.slice(0, 80)}…` : path;
  if (code === 'ENAMETOOLONG') return new WorkspacePathError(`"${shown}" is too long; use a shorter name.`);
  if (code === 'EACCES' || code === 'EPERM')
    return new WorkspacePathError(`"${shown}" is not writable (permission denied).`);
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new WorkspacePathError(`"${shown}" was not written: the disk is full.`);
  if (code === 'EROFS') return new WorkspacePathError(`"${shown}" was not written: the file system is read-only.`);
  if (code === 'EISDIR') return new WorkspacePathError(`"${shown}" is a directory; choose a file path inside it.`);
  if (code === 'ENOTDIR') return new WorkspacePathError(`"${shown}": a part of the path is a file, not a directory.`);
  return error instanceof Error ? error : new Error(String(error));
}

function writeChecked(access: WorkspaceAccess, path: string, content: WrittenContent): string {
  const relativePath = checkedRelativePath(access, path);
  if (relativePath === '.') throw new WorkspacePathError(`"${path}" is a directory; choose a file path inside it.`);
  const directoryPart = posix.dirname(relativePath);
  const name = posix.basename(relativePath);
  const directory = openDirectoryForWriting(access, directoryPart, path);
  const base = directory.descriptor === undefined ? directory.realPath : descriptorPath(directory.descriptor);
  try {
    // The name in the real directory: an anchored pattern (`config/prod.json`) reached through
    // a link to `config` is still protected.
    const realDirectory = insideRelative(access.root, directory.realPath) ?? '.';
    refuseProtected(access, realDirectory === '.' ? name : `${realDirectory}/${name}`, path);
    const target = `${base}/${name}`;
    let existing: Stats | undefined;
    try {
      existing = lstatSync(target);
    } catch {
      existing = undefined;
    }
    if (existing?.isDirectory())
      throw new WorkspacePathError(`"${path}" is a directory; choose a file path inside it.`);
    if (existing?.isSymbolicLink()) return writeThroughLink(access, path, target, content);
    if (existing !== undefined && !existing.isFile()) {
      throw new WorkspacePathError(
        `"${path}" is a special file (device, socket or pipe); the file tools do not write it.`,
      );
    }
    const temporaryName = `.${name.slice(0, 100)}.${randomBytes(6).toString('hex')}.hataraku-write`;
    const temporary = `${base}/${temporaryName}`;
    try {
      if (typeof content === 'object' && 'sourcePath' in content) {
        // The copy creates its destination exclusively (O_EXCL never follows a link).
        copyFileSync(content.sourcePath, temporary, constants.COPYFILE_EXCL);
      }
      const descriptor = openSync(
        temporary,
        typeof content === 'object' && 'sourcePath' in content
          ? constants.O_WRONLY | constants.O_NOFOLLOW
          : constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o666,
      );
      try {
        if (!(typeof content === 'object' && 'sourcePath' in content)) writeAll(descriptor, content);
        if (existing !== undefined) fchmodSync(descriptor, existing.mode & 0o7777);
      } finally {
        closeSync(descriptor);
      }
      // Within one directory: the entry is replaced (a link or a second hard link of the old
      // name is replaced, never written through).
      renameSync(temporary, target);
    } catch (error) {
      try {
        unlinkSync(temporary);
      } catch {
        // Already renamed or never created.
      }
      throw error;
    }
    return relativePath;
  } finally {
    if (directory.descriptor !== undefined) closeSync(directory.descriptor);
  }
}

/** Write through a final link: open its target (never creating it), check it, then write. */
function writeThroughLink(access: WorkspaceAccess, path: string, target: string, content: WrittenContent): string {
  let descriptor: number;
  try {
    descriptor = hasDescriptorPaths ? openSync(target, openPathOnly) : openSync(target, constants.O_WRONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new WorkspacePathError(`"${path}" goes through a link whose target does not exist; use another path.`);
    }
    throw error;
  }
  try {
    const stats = fstatSync(descriptor);
    const realPath = hasDescriptorPaths ? readlinkSync(descriptorPath(descriptor)) : fallbackRealPath(target, stats);
    const inside = insideRelative(access.root, realPath);
    if (inside === undefined)
      throw new WorkspacePathError(`"${path}" goes through a link that points outside the workspace.`);
    refuseProtected(access, inside, path);
    requireSingleLinkFile(stats, path);
    const writer = hasDescriptorPaths ? openSync(descriptorPath(descriptor), constants.O_WRONLY) : descriptor;
    try {
      // Truncated only now, after the check: opening with O_TRUNC would cut an unchecked file.
      writeAll(writer, content, true);
    } finally {
      if (writer !== descriptor) closeSync(writer);
    }
    return inside;
  } finally {
    closeSync(descriptor);
  }
}

function writeAll(descriptor: number, content: WrittenContent, truncate = false): void {
  const bytes =
    typeof content === 'string'
      ? Buffer.from(content)
      : 'sourcePath' in content
        ? readFileSync(content.sourcePath)
        : content;
  // Truncated through the descriptor, never through the name.
  if (truncate) ftruncateSync(descriptor, 0);
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(descriptor, bytes, offset, bytes.length - offset, offset);
}

/** The real path of `absolute` when it is still the file `stats` describes (fallback without /proc). */
function fallbackRealPath(absolute: string, stats: Stats): string {
  const realPath = realpathSync(absolute);
  const current = statSync(realPath);
  if (current.dev !== stats.dev || current.ino !== stats.ino) {
    throw new WorkspacePathError(`"${absolute}" changed while it was being opened; try again.`);
  }
  return realPath;
}

/** `target` relative to `root` with `/` separators, or undefined when it is outside. */
export function insideRelative(root: string, target: string): string | undefined {
  const relation = relative(root, target);
  if (relation === '') return '.';
  if (relation === '..' || relation.startsWith(`..${sep}`) || isAbsolute(relation)) return undefined;
  return relation.split(sep).join('/');
}

function openFailure(error: unknown, path: string, absolute: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    if (isDanglingLinkOnTheWay(absolute)) {
      return new WorkspacePathError(`"${path}" goes through a link whose target does not exist; use another path.`);
    }
    return new WorkspacePathError(`"${path}" does not exist; call files.list to see the files.`);
  }
  if (code === 'ENOTDIR') return new WorkspacePathError(`"${path}" does not exist (a part of it is a file).`);
  if (code === 'ELOOP') return new WorkspacePathError(`"${path}" is a symbolic link loop; use another path.`);
  if (code === 'EACCES') return new WorkspacePathError(`"${path}" is not readable (permission denied).`);
  if (code === 'ENAMETOOLONG')
    return new WorkspacePathError(`"${path.slice(0, 80)}…" is too long; use a shorter path.`);
  return error instanceof Error ? error : new Error(String(error));
}

/** Whether the deepest existing part of `relativePath` resolves outside the workspace. */
function leavesThroughExistingPart(access: WorkspaceAccess, relativePath: string): boolean {
  const parts = relativePath === '.' ? [] : relativePath.split('/');
  for (let length = parts.length - 1; length > 0; length--) {
    const prefix = `${access.root}/${parts.slice(0, length).join('/')}`;
    let descriptor: number;
    try {
      descriptor = openSync(prefix, hasDescriptorPaths ? openPathOnly : constants.O_RDONLY);
    } catch {
      continue;
    }
    try {
      const realPath = hasDescriptorPaths ? readlinkSync(descriptorPath(descriptor)) : realpathSync(prefix);
      return insideRelative(access.root, realPath) === undefined;
    } finally {
      closeSync(descriptor);
    }
  }
  return false;
}

function isDanglingLinkOnTheWay(absolute: string): boolean {
  try {
    return lstatSync(absolute).isSymbolicLink();
  } catch {
    return false;
  }
}

// Without following links: what sandboxed code and charts use (see the module comment).

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

const noFollow = constants.O_NOFOLLOW ?? 0;
const directoryFlag = constants.O_DIRECTORY ?? 0;
const nonBlocking = constants.O_NONBLOCK ?? 0;

/** The path's segments, after refusing absolute paths, `..`, NUL bytes and protected names (for the link-free functions). */
export function linkFreeSegments(access: WorkspaceAccess, path: string): string[] {
  if (path.includes('\0')) throw new WorkspaceFileError('invalid-path', path, `"${path}" contains a NUL byte.`);
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) {
    throw new WorkspaceFileError(
      'invalid-path',
      path,
      `"${path}" is absolute; use a path relative to the workspace, e.g. "out/result.csv".`,
    );
  }
  const segments = path.split(/[\\/]+/).filter((segment) => segment !== '' && segment !== '.');
  const tooLong = overlongPath(segments.join('/'));
  if (tooLong !== undefined) throw new WorkspaceFileError('invalid-path', path, tooLong);
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
export function readFileWithoutLinks(access: WorkspaceAccess, path: string, maxBytes: number): Buffer {
  const segments = linkFreeSegments(access, path);
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
export function writeFileWithoutLinks(access: WorkspaceAccess, path: string, data: Uint8Array | string): number {
  const segments = linkFreeSegments(access, path);
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
export function removeFileWithoutLinks(access: WorkspaceAccess, path: string): void {
  const segments = linkFreeSegments(access, path);
  const name = segments.at(-1);
  if (name === undefined) throw new WorkspaceFileError('not-a-regular-file', path, `"${path}" is a directory.`);
  const root = openRoot(access.root);
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
export function listDirectoryWithoutLinks(access: WorkspaceAccess, path: string): string[] {
  const segments = linkFreeSegments(access, path);
  const root = openRoot(access.root);
  let directory: number | undefined;
  try {
    directory = openDirectories(root, segments, path, false);
    if (directory === undefined) {
      throw new WorkspaceFileError('missing', path, `${path} does not exist in the workspace.`);
    }
    verifyInside(access, root, directory, path);
    const prefix = segments.join('/');
    return readdirSync(hasDescriptorPaths ? descriptorPath(directory) : join(root.real, ...segments), {
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
  return { descriptor, real: hasDescriptorPaths ? readlinkSync(descriptorPath(descriptor)) : real };
}

/** The path that names `name` inside the directory open as `directory`. */
function childPath(root: OpenedRoot, directory: number, name: string): string {
  if (hasDescriptorPaths) return `${descriptorPath(directory)}/${name}`;
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
    if (!hasDescriptorPaths) openedNames.set(next, target);
    if (current !== root.descriptor) {
      openedNames.delete(current);
      closeSync(current);
    }
    current = next;
  }
  return current;
}

function openDirectory(target: string, path: string): number {
  if (!hasDescriptorPaths && lstatSync(target, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
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
  const root = openRoot(access.root);
  let parent: number | undefined;
  let descriptor: number | undefined;
  try {
    parent = openDirectories(root, segments.slice(0, -1), path, mode === 'write');
    if (parent === undefined) throw new WorkspaceFileError('missing', path, `${path} does not exist in the workspace.`);
    const target = childPath(root, parent, segments.at(-1) as string);
    if (!hasDescriptorPaths && lstatSync(target, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
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
  if (!hasDescriptorPaths) return;
  const real = readlinkSync(descriptorPath(descriptor)).replace(/ \(deleted\)$/, '');
  const inside = insideRelative(root.real, real);
  if (inside === undefined) {
    throw new WorkspaceFileError('outside-workspace', path, `"${path}" leads outside the workspace; it is not used.`);
  }
  if (inside !== '.' && access.protectedPaths.isProtected(inside)) {
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
