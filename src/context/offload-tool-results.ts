/**
 * `offloadLargeToolResults`: tool results over a size limit are written to a file in the
 * workspace, and the model sees a handle instead: the file's path (readable with `files.read`,
 * by line range), its size, and a preview of its start and end.
 *
 * The file path depends only on the run, the result's position in the history and its tool
 * call id, and the replacement text only on the result, so every call rewrites a result the
 * same way: the history the model sees only grows, and the provider's prompt cache stays valid.
 * A file is written once (atomically, through a temporary file and a rename); a run resumed in
 * another process finds it in place and does not write it again.
 *
 * The files live in `.hataraku-results/`, not in the protected `.hataraku/`: the model must read
 * them back with `files.read`, and no tool may read a protected entry. What is there is only
 * what tools already returned to the model, so the model reaching it gives it nothing new. They
 * are written through `writeWorkspaceFile`, which opens each directory relative to its checked
 * parent and renames into place, so a link planted there by the model cannot redirect the
 * host's write outside the workspace.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelMessage, ToolResultMessage } from '../models/spec.js';
import { workspaceAccess, writeWorkspaceFile } from '../toolchain/files/workspace-access.js';
import type { ContextStrategy } from './context-strategy.js';

export interface OffloadOptions {
  /** Tool results longer than this many characters are offloaded (default 8,000). */
  maxCharacters?: number;
  /** Characters of preview the model sees: two thirds from the start, one third from the end (default 1,500). */
  previewCharacters?: number;
  /** Workspace-relative directory for the files (default {@link defaultOffloadDirectory}). */
  directory?: string;
}

/** Where offloaded results go: readable by the file tools, unlike the protected `.hataraku/`. */
export const defaultOffloadDirectory = '.hataraku-results/tool-results';

/** Marks a tool result that is already a handle, so that it is never offloaded twice. */
export const offloadedResultPrefix = '[Tool result stored in the workspace';

/**
 * The workspace-relative path of the file a tool result at `position` in the history is kept in.
 * Positions never change because the loop only appends to the history.
 */
export function offloadedResultPath(directory: string, runId: string, position: number, toolCallId: string): string {
  return `${directory}/${safeName(runId)}/${position}-${safeName(toolCallId)}.txt`;
}

/** Create the strategy. */
export function offloadLargeToolResults(options: OffloadOptions = {}): ContextStrategy {
  const maxCharacters = options.maxCharacters ?? 8_000;
  const previewCharacters = options.previewCharacters ?? 1_500;
  const directory = (options.directory ?? defaultOffloadDirectory).replace(/\/+$/, '');
  if (!Number.isInteger(maxCharacters) || maxCharacters < 1)
    throw new RangeError(`offloadLargeToolResults: maxCharacters must be a positive integer (got ${maxCharacters})`);
  if (!Number.isInteger(previewCharacters) || previewCharacters < 0 || previewCharacters >= maxCharacters)
    throw new RangeError(
      `offloadLargeToolResults: previewCharacters must be a non-negative integer below maxCharacters (got ${previewCharacters})`,
    );
  // The same source message always gets the same replacement object back, so token counts
  // cached per message object stay valid across calls.
  const replacements = new WeakMap<ModelMessage, { path: string; message: ToolResultMessage }>();
  // Files this process has written or found in place (absolute path → length in bytes).
  const known = new Map<string, number>();

  return {
    name: 'offload-large-tool-results',
    async prepare(input) {
      const notes: string[] = [];
      if (input.workspace === undefined) {
        const large = input.messages.some(
          (message) => message.role === 'tool' && message.content.length > maxCharacters && !isHandle(message),
        );
        if (large) notes.push('offload-large-tool-results: the run has no workspace, so large results were kept');
        return { messages: [...input.messages], notes };
      }
      const workspace = input.workspace;
      const messages: ModelMessage[] = [];
      for (const [position, message] of input.messages.entries()) {
        if (message.role !== 'tool' || message.content.length <= maxCharacters || isHandle(message)) {
          messages.push(message);
          continue;
        }
        const path = offloadedResultPath(directory, input.runId, position, message.toolCallId);
        const absolute = join(workspace, path);
        const bytes = Buffer.byteLength(message.content);
        if (known.get(absolute) !== bytes) {
          let written: boolean;
          try {
            written = await writeOnce(workspace, path, message.content, bytes);
          } catch (error) {
            // Refused (a link out, a protected name): the result stays in the history as it is.
            notes.push(
              `offload-large-tool-results: ${path} could not be written (${(error as Error).message}); kept in place`,
            );
            messages.push(message);
            continue;
          }
          known.set(absolute, bytes);
          if (written) {
            notes.push(
              `offload-large-tool-results: ${message.toolName} result (${message.content.length} characters) → ${path}`,
            );
            input.recordArtifact?.({
              path,
              mediaType: 'text/plain',
              description: `Full result of ${message.toolName} (call ${message.toolCallId}), offloaded from the model's context`,
            });
          }
        }
        let replacement = replacements.get(message);
        if (replacement === undefined || replacement.path !== path) {
          replacement = { path, message: handleMessage(message, path, previewCharacters) };
          replacements.set(message, replacement);
        }
        messages.push(replacement.message);
      }
      return { messages, notes };
    },
  };
}

function isHandle(message: ToolResultMessage): boolean {
  return message.content.startsWith(offloadedResultPrefix);
}

/** Write `content` to `path` unless a file of the same size is already there. True when written. */
async function writeOnce(workspace: string, path: string, content: string, bytes: number): Promise<boolean> {
  const existing = await stat(join(workspace, path)).catch(() => undefined);
  if (existing?.isFile() && existing.size === bytes) return false;
  writeWorkspaceFile(workspaceAccess(workspace), path, content);
  return true;
}

function handleMessage(message: ToolResultMessage, path: string, previewCharacters: number): ToolResultMessage {
  const content = message.content;
  const lines = content.split('\n').length;
  const headLength = Math.ceil((previewCharacters * 2) / 3);
  const tailLength = previewCharacters - headLength;
  const head = content.slice(0, headLength);
  const tail = tailLength > 0 ? content.slice(content.length - tailLength) : '';
  const omitted = content.length - head.length - tail.length;
  const text = [
    `${offloadedResultPrefix}: ${path} (${content.length} characters, ${lines} lines). The full text is in that file;`,
    `read the part you need with files.read, e.g. {"path": "${path}", "startLine": 1, "endLine": 200}. Start and end of it:]`,
    head,
    `[... ${omitted} characters not shown ...]`,
    tail,
  ].join('\n');
  return {
    role: 'tool',
    toolCallId: message.toolCallId,
    toolName: message.toolName,
    content: text,
    ...(message.isError === undefined ? {} : { isError: message.isError }),
  };
}

function safeName(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
  return cleaned === '' ? '_' : cleaned;
}
