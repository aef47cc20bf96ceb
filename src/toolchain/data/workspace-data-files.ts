/**
 * The data files of a workspace: listed for error messages ("data files you can query: …") and
 * for mapping a bare table name (`FROM sales`) to its file (`sales.csv`). The walk is bounded, so
 * a huge workspace costs a few milliseconds, not seconds; it only reads directory entries.
 */
import { type Dirent, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ProtectedPaths } from '../files/protected-paths.js';
import { type DataFormat, dataFileStem, dataFormatOf } from './data-formats.js';

export interface WorkspaceDataFile {
  /** Path relative to the workspace, with `/` separators. */
  path: string;
  format: DataFormat;
}

export interface WorkspaceDataFiles {
  files: WorkspaceDataFile[];
  /** Whether the walk stopped early at its entry limit. */
  incomplete: boolean;
}

/** Directories that hold tooling, not the user's data (protected entries are left out too). */
const skippedDirectories = new Set(['.git', 'node_modules', '.hataraku']);

/**
 * List the data files under `root` (an absolute, real path), visiting at most `maxEntries`
 * entries. Only names are read; the tools open files through `call-files.ts`.
 */
export function listWorkspaceDataFiles(
  root: string,
  protectedPaths?: ProtectedPaths,
  maxEntries = 20_000,
): WorkspaceDataFiles {
  const files: WorkspaceDataFile[] = [];
  let visited = 0;
  let incomplete = false;
  const pending = [root];
  while (pending.length > 0) {
    const directory = pending.shift() as string;
    let entries: Dirent[];
    try {
      entries = readdirSync(directory, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (++visited > maxEntries) {
        incomplete = true;
        break;
      }
      const full = join(directory, entry.name);
      if (protectedPaths?.isProtected(relative(root, full))) continue;
      if (entry.isDirectory()) {
        if (!skippedDirectories.has(entry.name)) pending.push(full);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        const format = dataFormatOf(entry.name);
        if (format !== undefined) files.push({ path: relative(root, full).split('\\').join('/'), format });
      }
    }
    if (incomplete) break;
  }
  files.sort((left, right) => left.path.localeCompare(right.path));
  return { files, incomplete };
}

/**
 * Bare table names: a file whose stem is a plain identifier (`sales` for `data/sales.csv`) can
 * be queried as `FROM sales`. A stem shared by two files is ambiguous and maps to all of them,
 * so that the caller can say which to pick. Keys are lower-cased (DuckDB names are not
 * case-sensitive).
 */
export function tableNamesOf(files: readonly WorkspaceDataFile[]): Map<string, WorkspaceDataFile[]> {
  const names = new Map<string, WorkspaceDataFile[]>();
  for (const file of files) {
    const stem = dataFileStem(file.path.slice(file.path.lastIndexOf('/') + 1));
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(stem)) continue;
    const key = stem.toLowerCase();
    const existing = names.get(key);
    if (existing) existing.push(file);
    else names.set(key, [file]);
  }
  return names;
}

/** The data files as a short, model-readable list. */
export function describeDataFiles(listing: WorkspaceDataFiles, limit = 30): string {
  if (listing.files.length === 0) return 'The workspace has no data files.';
  const shown = listing.files.slice(0, limit).map((file) => file.path);
  const more = listing.files.length - shown.length;
  const suffix = more > 0 ? `, and ${more} more` : listing.incomplete ? ', and possibly more' : '';
  return `Data files in the workspace: ${shown.join(', ')}${suffix}.`;
}
