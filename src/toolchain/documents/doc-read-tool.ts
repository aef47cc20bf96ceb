/**
 * `doc.read`: the text of a PDF, DOCX or HTML file in the workspace, as markdown or plain text,
 * whole or by page range (PDF) or section (DOCX and HTML, by heading).
 *
 * The file is opened and then checked through its descriptor (`workspace-access.ts`): inside the
 * workspace, not protected. PDF, DOCX and HTML are parsed in a child process with a heap cap, a
 * cap on its resident memory, a time limit and a cap on expanded size (`document-parser.ts`).
 */
import { closeSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import type { ProtectedPaths } from '../files/protected-paths.js';
import { openFileForReading, workspaceAccess } from '../files/workspace-access.js';
import { DocumentError } from './document-error.js';
import { createParseSlots, type DocumentParseLimits, defaultDocumentParseLimits } from './document-parser.js';
import { docxToMarkdown } from './docx-markdown.js';
import { htmlToMarkdown } from './html-markdown.js';
import { extractPdfText } from './pdf-text.js';

/** Options of {@link createDocumentTools}. */
export interface DocumentToolOptions {
  /** Most characters `doc.read` returns in one call (default 100 000). */
  maxCharacters?: number;
  /** Largest file `doc.read` opens, in bytes (default 50 MiB). */
  maxFileBytes?: number;
  /** Largest HTML (an HTML file, or the HTML a DOCX becomes) converted to markdown, in bytes (default 8 MiB). */
  maxHtmlBytes?: number;
  /** Heap of the process that parses a PDF, DOCX or HTML, in MB (default 512); its resident memory may be 256 MB more. */
  maxParseMemoryMb?: number;
  /** Time limit of parsing one PDF or DOCX, in milliseconds (default 30 000). */
  parseTimeoutMs?: number;
  /** Most bytes the compressed text-bearing parts of a PDF or DOCX may expand to (default 32 MiB). */
  maxExpandedBytes?: number;
  /** PDF and DOCX parses that run at once; more wait (default 2). Each may use `maxParseMemoryMb`. */
  maxConcurrentParses?: number;
  /** Workspace entries `doc.read` may not open (default: the protected defaults). */
  protectedPaths?: ProtectedPaths;
}

type DocumentKind = 'pdf' | 'docx' | 'html';

const readInput = z.object({
  path: z.string().min(1).describe('Document path relative to the workspace, e.g. "contracts/lease.pdf".'),
  pages: z
    .string()
    .optional()
    .describe('PDF only: pages to read, e.g. "3", "1-3", "2,5-7" or "10-" (to the end). Default: all.'),
  section: z
    .string()
    .optional()
    .describe(
      'DOCX and HTML only: the heading whose section to read (the heading and what follows it up to the next heading of the same level).',
    ),
  format: z
    .enum(['markdown', 'text'])
    .default('markdown')
    .describe('"markdown" (default) keeps headings, lists, tables and links; "text" is plain text.'),
  password: z.string().optional().describe('Password of an encrypted PDF, when the user has given one.'),
});

/**
 * Create the document tools (`doc.read`).
 * @throws RangeError naming the option when a limit is not a positive integer.
 */
export function createDocumentTools(options: DocumentToolOptions = {}) {
  const maxCharacters = positive(options.maxCharacters, 100_000, 'maxCharacters');
  const maxFileBytes = positive(options.maxFileBytes, 50 * 1024 * 1024, 'maxFileBytes');
  const maxHtmlBytes = positive(options.maxHtmlBytes, 8 * 1024 * 1024, 'maxHtmlBytes');
  const parseLimits: DocumentParseLimits = {
    maxMemoryMb: positive(options.maxParseMemoryMb, defaultDocumentParseLimits.maxMemoryMb, 'maxParseMemoryMb'),
    timeoutMs: positive(options.parseTimeoutMs, defaultDocumentParseLimits.timeoutMs, 'parseTimeoutMs'),
    maxExpandedBytes: positive(
      options.maxExpandedBytes,
      defaultDocumentParseLimits.maxExpandedBytes,
      'maxExpandedBytes',
    ),
    maxCharacters,
    maxHtmlBytes,
    slots: createParseSlots(positive(options.maxConcurrentParses, 2, 'maxConcurrentParses')),
  };
  const docRead = tool({
    name: 'doc.read',
    description: [
      'Extract the text of a PDF, DOCX (Word) or HTML file in the workspace, as markdown (default) or plain text.',
      'For a PDF, `pages` picks pages ("1-3", "2,5", "4-"); each page starts with a "## Page N" line.',
      'For DOCX and HTML, `section` picks the part under one heading. The first line says the type, page count and what is shown.',
      `At most ${maxCharacters} characters are returned; the output says when it was cut, so read the rest by pages or section.`,
      `Files over ${maxFileBytes} bytes are refused. For plain text files use files.read.`,
      'Example: {"path": "report.pdf", "pages": "1-2"}.',
    ].join(' '),
    input: readInput,
    effect: 'none',
    execute: async ({ path, pages, section, format, password }, context) => {
      const data = readDocument(workspaceAccess(context.workspace, options.protectedPaths), path, maxFileBytes);
      const kind = documentKind(path, data);
      if (pages !== undefined && kind !== 'pdf') {
        throw new DocumentError(
          `\`pages\` applies to PDF files only; ${path} is ${describeKind(kind)}. Use \`section\` with a heading instead.`,
        );
      }
      if (section !== undefined && kind === 'pdf') {
        throw new DocumentError(
          `\`section\` applies to DOCX and HTML files; ${path} is a PDF. Use \`pages\` instead, e.g. "1-3".`,
        );
      }
      let heading: string;
      let body: string;
      if (kind === 'pdf') {
        const pdf = await extractPdfText(
          data,
          { pages, password, name: path, signal: context.abortSignal },
          parseLimits,
        );
        const shown = pdf.pages.map((page) => page.number);
        heading = `${path}: PDF, ${pdf.pageCount} pages; showing ${describePages(shown, pdf.pageCount)}.`;
        body = pdf.pages.map((page) => `## Page ${page.number}\n\n${page.text}`).join('\n\n');
        if (format === 'text') body = pdf.pages.map((page) => page.text).join('\n\f\n');
      } else {
        // The section and the plain text are made in the parsing process, under its time limit.
        const shaped =
          kind === 'docx'
            ? await docxToMarkdown(data, path, parseLimits, { section, format, signal: context.abortSignal })
            : await htmlToMarkdown(
                data.toString('utf8'),
                { name: path, section, format, signal: context.abortSignal },
                parseLimits,
              );
        heading = `${path}: ${kind === 'docx' ? 'DOCX' : 'HTML'} document with ${shaped.headings} headings; showing ${section === undefined ? 'all of it' : `section "${section}"`}.`;
        body = shaped.markdown;
      }
      if (body.length > maxCharacters) {
        const hint = kind === 'pdf' ? 'read fewer pages with `pages`' : 'read one section at a time with `section`';
        body = `${body.slice(0, maxCharacters)}\n[truncated: showing ${maxCharacters} of ${body.length} characters; ${hint}]`;
      }
      return `${heading}\n\n${body}`;
    },
  });
  return [docRead];
}

/** The document's bytes, read from a descriptor opened and checked first. */
function readDocument(access: ReturnType<typeof workspaceAccess>, path: string, maxFileBytes: number): Buffer {
  const { descriptor, stats } = openFileForReading(access, path);
  try {
    if (stats.size > maxFileBytes) {
      throw new DocumentError(`${path} is ${stats.size} bytes, over the ${maxFileBytes}-byte limit of doc.read.`);
    }
    return readFileSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/** Decide the type by content first (a renamed file is still read right), then by extension. */
function documentKind(path: string, data: Buffer): DocumentKind {
  const extension = extname(path).toLowerCase();
  if (data.subarray(0, 1024).includes('%PDF-')) return 'pdf';
  if (data.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    if (extension === '.docx' || extension === '.docm' || extension === '') return 'docx';
  }
  if (['.html', '.htm', '.xhtml'].includes(extension)) return 'html';
  const head = data.subarray(0, 2048).toString('utf8').trimStart().toLowerCase();
  if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'html';
  if (extension === '.pdf') {
    throw new DocumentError(`${path} is not a readable PDF (it has no PDF header; it is damaged or not a PDF).`);
  }
  if (extension === '.docx') return 'docx';
  if (extension === '.doc') {
    throw new DocumentError(
      `${path} is an old binary Word (.doc) file; only .docx is supported. Ask for a .docx or PDF version.`,
    );
  }
  throw new DocumentError(
    `doc.read reads PDF, DOCX and HTML files; ${path} is none of these. For a plain text file use files.read; for CSV, JSON or spreadsheets use the data tools.`,
  );
}

function describeKind(kind: DocumentKind): string {
  return kind === 'docx' ? 'a DOCX file' : kind === 'html' ? 'an HTML file' : 'a PDF';
}

function describePages(shown: number[], pageCount: number): string {
  if (shown.length === pageCount) return 'all pages';
  const parts: string[] = [];
  let start = shown[0];
  let previous = shown[0];
  for (const page of [...shown.slice(1), undefined]) {
    if (page !== undefined && previous !== undefined && page === previous + 1) {
      previous = page;
      continue;
    }
    if (start !== undefined) parts.push(start === previous ? `${start}` : `${start}-${previous}`);
    start = page;
    previous = page;
  }
  return `page${shown.length === 1 ? '' : 's'} ${parts.join(', ')}`;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`createDocumentTools(): \`${name}\` must be a positive integer, got ${String(value)}`);
  }
  return value;
}
