/**
 * Images and PDFs given to a run with its task (`hataraku run "…" --attach chart.png`).
 *
 * A file is read from the workspace only (the same confinement as the file tools), its media
 * type is taken from its first bytes, not its name, and it must fit the size limit. The parts
 * are stored with the run in the journal as base64, so a resumed run, even on another machine,
 * sends the model the same bytes and the request digests match.
 */
import { readFileSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { FilePart, ImageMediaType, ImagePart, JsonValue, UserMessage } from '../models/spec.js';
import { resolveInWorkspace, WorkspacePathError } from '../toolchain/files/workspace-path.js';

/** An image or document given to the model with the task. */
export type Attachment = ImagePart | FilePart;

/** Largest image: Anthropic's per-image limit (OpenAI takes up to 20 MB). */
export const maxImageBytes = 5 * 1024 * 1024;
/** Largest PDF: it travels as base64 inside a request that providers cap at about 32 MB. */
export const maxPdfBytes = 20 * 1024 * 1024;

/** The media type of `bytes` by their signature, or undefined when it is none Hataraku sends. */
export function sniffMediaType(bytes: Uint8Array): ImageMediaType | 'application/pdf' | undefined {
  const starts = (signature: number[], offset = 0) =>
    signature.every((byte, position) => bytes[offset + position] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61)
    return 'image/gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  return undefined;
}

/**
 * Read `path` (relative to `workspace`) as an attachment.
 * @throws UserError `usage` with one line saying what is wrong and how to fix it.
 */
export function loadAttachment(workspace: string, path: string): Attachment {
  let absolute: string;
  try {
    absolute = resolveInWorkspace(workspace, path);
  } catch (error) {
    if (error instanceof WorkspacePathError) throw new UserError('usage', `--attach ${path}: ${error.message}`);
    throw error;
  }
  let size: number;
  try {
    const stats = statSync(absolute);
    if (!stats.isFile()) throw new UserError('usage', `--attach ${path}: not a file; attach an image or a PDF.`);
    size = stats.size;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError('usage', `--attach ${path}: no such file in the workspace (${workspace}).`);
  }
  // Checked before reading, so a huge file is never loaded; the exact limit depends on the type.
  if (size > Math.max(maxImageBytes, maxPdfBytes)) throw tooLarge(path, size, maxPdfBytes);
  const bytes = readFileSync(absolute);
  const mediaType = sniffMediaType(bytes);
  if (mediaType === undefined) {
    throw new UserError(
      'usage',
      `--attach ${path}: not a PNG, JPEG, GIF, WebP or PDF file (by its contents); convert it to one of these.`,
    );
  }
  const data = bytes.toString('base64');
  if (mediaType === 'application/pdf') {
    if (size > maxPdfBytes) throw tooLarge(path, size, maxPdfBytes);
    return { type: 'file', mediaType, data, filename: path };
  }
  if (size > maxImageBytes) throw tooLarge(path, size, maxImageBytes);
  return { type: 'image', mediaType, data, filename: path };
}

function tooLarge(path: string, size: number, limit: number): UserError {
  const megabytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return new UserError(
    'usage',
    `--attach ${path}: ${megabytes(size)} is over the ${megabytes(limit)} limit; shrink or split it.`,
  );
}

/** The task's user message: plain text, or text then the attachments. */
export function userMessageWith(input: string, attachments: readonly Attachment[]): UserMessage {
  if (attachments.length === 0) return { role: 'user', content: input };
  return { role: 'user', content: [{ type: 'text', text: input }, ...attachments] };
}

/** The attachments recorded with a run (in its spec), checked, since the journal is an edge. */
export function attachmentsFromSpec(spec: JsonValue | undefined): Attachment[] {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return [];
  const recorded = spec.attachments;
  if (!Array.isArray(recorded)) return [];
  return recorded.flatMap((entry): Attachment[] => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return [];
    const { type, mediaType, data, filename } = entry;
    if (typeof data !== 'string' || typeof mediaType !== 'string') return [];
    const named = typeof filename === 'string' ? { filename } : {};
    if (type === 'image' && isImageMediaType(mediaType)) return [{ type: 'image', mediaType, data, ...named }];
    if (type === 'file' && mediaType === 'application/pdf') return [{ type: 'file', mediaType, data, ...named }];
    return [];
  });
}

function isImageMediaType(value: string): value is ImageMediaType {
  return value === 'image/png' || value === 'image/jpeg' || value === 'image/gif' || value === 'image/webp';
}
