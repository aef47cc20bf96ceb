/**
 * A minimal set of workspace file tools for the CLI agent and the examples: list, read and write
 * text files inside the run's workspace. Outputs are capped and say when they were truncated.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import type { Tool } from '../../tools/tool.js';
import { resolveInWorkspace } from './workspace-path.js';

const maxListedEntries = 500;
const maxReadCharacters = 100_000;

export const listFilesTool = tool({
  name: 'files.list',
  description:
    'List files in the workspace (recursively), with their sizes in bytes. `path` is a directory relative to the workspace; omit it for the whole workspace.',
  input: z.object({ path: z.string().default('.').describe('Directory relative to the workspace.') }),
  effect: 'none',
  execute: ({ path }, context) => {
    const root = resolveInWorkspace(context.workspace, '.');
    const start = resolveInWorkspace(context.workspace, path);
    const lines: string[] = [];
    let total = 0;
    const walk = (directory: string) => {
      for (const entry of readdirSync(directory, { withFileTypes: true }).sort((a, b) =>
        a.name.localeCompare(b.name),
      )) {
        if (entry.name === '.hataraku' || entry.name === 'node_modules' || entry.name === '.git') continue;
        const full = join(directory, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.isFile()) {
          total++;
          if (lines.length < maxListedEntries) lines.push(`${relative(root, full)} (${statSync(full).size} bytes)`);
        }
      }
    };
    walk(start);
    if (total > lines.length) lines.push(`[truncated: showing ${lines.length} of ${total} files]`);
    return lines.length > 0 ? lines.join('\n') : 'No files.';
  },
});

export const readFileTool = tool({
  name: 'files.read',
  description: 'Read a UTF-8 text file from the workspace. `path` is relative to the workspace.',
  input: z.object({ path: z.string().min(1).describe('File path relative to the workspace.') }),
  effect: 'none',
  execute: ({ path }, context) => {
    const target = resolveInWorkspace(context.workspace, path);
    const buffer = readFileSync(target);
    if (buffer.subarray(0, 8000).includes(0))
      return `${path} is a binary file (${buffer.length} bytes); it cannot be read as text.`;
    const text = buffer.toString('utf8');
    if (text.length <= maxReadCharacters) return text;
    return `${text.slice(0, maxReadCharacters)}\n[truncated: showing ${maxReadCharacters} of ${text.length} characters]`;
  },
});

export const writeFileTool = tool({
  name: 'files.write',
  description:
    'Write a UTF-8 text file in the workspace, creating directories as needed and replacing any existing file. `path` is relative to the workspace.',
  input: z.object({
    path: z.string().min(1).describe('File path relative to the workspace.'),
    content: z.string().describe('The full text to write.'),
  }),
  // Writing the same content to the same path twice has the effect of writing it once.
  effect: 'idempotent',
  execute: ({ path, content }, context) => {
    const target = resolveInWorkspace(context.workspace, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    return `Wrote ${Buffer.byteLength(content)} bytes to ${path}.`;
  },
});

/** The file tools, for agents that work in a workspace. */
export function workspaceFileTools(): Tool[] {
  return [listFilesTool, readFileTool, writeFileTool] as Tool[];
}
