/**
 * The workspace files one data-tool call hands to DuckDB, opened and checked by the tool itself.
 *
 * Each file the SQL names (a glob is expanded here, over the same walk as `files.list`, so it
 * never matches a protected entry or follows a link) is opened through `workspace-access.ts`,
 * and DuckDB gets `/proc/self/fd/N` of the checked descriptor — the very inode that was checked,
 * whatever happens to the names afterwards. A name that does not exist yet is mapped into the
 * call's private scratch directory: DuckDB then reports it missing as usual, or, where the tools
 * may write (`readOnly: false`), writes it there and the call copies it into the workspace with
 * `writeWorkspaceFile` afterwards.
 *
 * Where `/proc/self/fd` does not exist, DuckDB gets the checked real path instead (a gap stated
 * in `docs/security.md`).
 */
import { closeSync, type Dirent, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { globMatcher } from '../files/glob-pattern.js';
import { maxVisitedEntries, walkWorkspace } from '../files/walk-workspace.js';
import {
  checkedRelativePath,
  descriptorPath,
  hasDescriptorPaths,
  openFileForReading,
  type WorkspaceAccess,
  writeWorkspaceFile,
} from '../files/workspace-access.js';
import { WorkspacePathError } from '../files/workspace-path.js';

/** Whether a reference is a DuckDB glob. */
export function isGlob(reference: string): boolean {
  return /[*?[{]/.test(reference);
}

export interface CallFiles {
  readonly scratchDirectory: string;
  /** The paths DuckDB may open: the call's checked descriptors. */
  allowedPaths(): string[];
  /**
   * The paths DuckDB reads for `reference` (workspace-relative, glob allowed).
   * @throws WorkspacePathError when it is absolute, outside, protected or a glob matches nothing.
   */
  resolve(reference: string, role?: 'read' | 'write'): string[];
  /** `text` with every path handed to DuckDB replaced by the workspace name it stands for. */
  showNames(text: string): string;
  /** Copy the files DuckDB wrote into the scratch directory into the workspace; their workspace paths. */
  copyOutputs(skip?: ReadonlySet<string>): string[];
  /** Close every descriptor and remove the scratch directory. */
  close(): void;
}

/** Start the files of one call. */
export function createCallFiles(access: WorkspaceAccess, scratchDirectory: string): CallFiles {
  const descriptors: number[] = [];
  const names = new Map<string, string>();
  const opened = new Map<string, string>();

  const openOne = (relativePath: string): string => {
    const known = opened.get(relativePath);
    if (known !== undefined) return known;
    const { descriptor } = openFileForReading(access, relativePath);
    descriptors.push(descriptor);
    // Without /proc the descriptor cannot be handed over; the checked real path is the fallback.
    const path = hasDescriptorPaths ? descriptorPath(descriptor) : join(access.root, relativePath);
    names.set(path, relativePath);
    opened.set(relativePath, path);
    return path;
  };

  return {
    scratchDirectory,
    allowedPaths: () => [...names.keys()],
    resolve(reference, role = 'read') {
      const relativePath = checkedRelativePath(access, reference);
      if (role === 'write') {
        // DuckDB writes a new file (a temporary one renamed in place): in the scratch directory,
        // copied into the workspace after the statement.
        const scratch = join(scratchDirectory, relativePath);
        mkdirSync(dirname(scratch), { recursive: true });
        names.set(scratch, relativePath);
        return [scratch];
      }
      if (isGlob(relativePath)) {
        const matches = globMatcher(relativePath.includes('/') ? relativePath : `./${relativePath}`);
        const found: string[] = [];
        walkWorkspace(access, '.', maxVisitedEntries, (entry) => {
          if (entry.kind === 'file' && matches(entry.relative)) found.push(entry.relative);
          return true;
        });
        if (found.length === 0) {
          throw new WorkspacePathError(
            `no file in the workspace matches "${reference}"; check the pattern with files.list.`,
          );
        }
        return found.map(openOne);
      }
      try {
        return [openOne(relativePath)];
      } catch (error) {
        if (!(error instanceof WorkspacePathError) || !/does not exist/.test(error.message)) throw error;
        const scratch = join(scratchDirectory, relativePath);
        mkdirSync(dirname(scratch), { recursive: true });
        names.set(scratch, relativePath);
        return [scratch];
      }
    },
    showNames(text) {
      let shown = text.replace(/\/proc\/self\/fd\/\d+/g, (path) => names.get(path) ?? path);
      shown = shown.replaceAll(`${scratchDirectory}/`, '');
      return shown.replaceAll(`${access.root}/`, '');
    },
    copyOutputs(skip = new Set()) {
      const written: string[] = [];
      const visit = (directory: string) => {
        let entries: Dirent[];
        try {
          entries = readdirSync(directory, { withFileTypes: true });
        } catch {
          return;
        }
        for (const entry of entries) {
          const full = join(directory, entry.name);
          if (entry.isDirectory()) visit(full);
          else if (entry.isFile() && !skip.has(full)) {
            const workspacePath = relative(scratchDirectory, full).split('\\').join('/');
            writeWorkspaceFile(access, workspacePath, { sourcePath: full });
            written.push(workspacePath);
          }
        }
      };
      visit(scratchDirectory);
      return written;
    },
    close() {
      for (const descriptor of descriptors.splice(0)) closeSync(descriptor);
      // What the call wrote is in the workspace by now, or was refused: its copy goes.
      rmSync(scratchDirectory, { recursive: true, force: true });
    },
  };
}
