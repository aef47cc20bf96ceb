/**
 * The workspace file tools: `files.list`, `files.read`, `files.write`, `files.edit`,
 * `files.search` and `files.stat`. Every entry is opened first and then checked through its
 * descriptor (`workspace-access.ts`), so the tools cannot reach outside the run's workspace nor
 * a protected entry; every output is capped and says when it was cut.
 */
import type { Tool } from '../../tools/tool.js';
import { createEditFileTool } from './edit-file.js';
import { type FileToolOptions, resolveFileToolLimits } from './file-tool-options.js';
import { createListFilesTool } from './list-files.js';
import { createProtectedPaths } from './protected-paths.js';
import { createReadFileTool } from './read-file.js';
import { createSearchFilesTool } from './search-files.js';
import { createStatFileTool } from './stat-file.js';
import { createWriteFileTool } from './write-file.js';

/**
 * Create the six workspace file tools with the given limits.
 * @throws RangeError naming the option when a limit is not a positive integer.
 */
export function createFileTools(options: FileToolOptions = {}): Tool[] {
  const limits = resolveFileToolLimits(options);
  const protectedPaths = options.protectedPaths ?? createProtectedPaths();
  return [
    createListFilesTool(limits, protectedPaths),
    createReadFileTool(limits, protectedPaths),
    createWriteFileTool(limits, protectedPaths),
    createEditFileTool(limits, protectedPaths),
    createSearchFilesTool(limits, protectedPaths),
    createStatFileTool(protectedPaths),
  ] as Tool[];
}

const defaultLimits = resolveFileToolLimits();

/** `files.list` with the default limits. */
export const listFilesTool = createListFilesTool(defaultLimits);
/** `files.read` with the default limits. */
export const readFileTool = createReadFileTool(defaultLimits);
/** `files.write` with the default limits. */
export const writeFileTool = createWriteFileTool(defaultLimits);
/** `files.edit` with the default limits. */
export const editFileTool = createEditFileTool(defaultLimits);
/** `files.search` with the default limits. */
export const searchFilesTool = createSearchFilesTool(defaultLimits);
/** `files.stat`. */
export const statFileTool = createStatFileTool();

/** The file tools, for agents that work in a workspace; same as {@link createFileTools}. */
export function workspaceFileTools(options: FileToolOptions = {}): Tool[] {
  return createFileTools(options);
}

export type { FileToolOptions } from './file-tool-options.js';
