/**
 * DOCX to markdown: mammoth turns the document into semantic HTML (headings by style, lists,
 * tables, bold and italic), which becomes markdown the same way as HTML files — all of it in the
 * bounded document worker (`document-parser.ts`, which checks the ZIP's expanded size before
 * inflating anything). Images are left out: a model cannot see them here and their data would
 * flood the text.
 */
import { DocumentError } from './document-error.js';
import { type DocumentParseLimits, defaultDocumentParseLimits, parseDocument } from './document-parser.js';

/**
 * Convert a DOCX file's bytes to markdown (or plain text), whole or the section under one
 * heading, with the count of its headings.
 */
export async function docxToMarkdown(
  data: Buffer,
  name: string,
  limits: DocumentParseLimits = defaultDocumentParseLimits,
  options: { section?: string | undefined; format?: 'markdown' | 'text'; signal?: AbortSignal } = {},
): Promise<{ markdown: string; headings: number }> {
  const parsed = await parseDocument(
    {
      kind: 'docx',
      data,
      name,
      section: options.section,
      format: options.format ?? 'markdown',
      signal: options.signal,
    },
    limits,
  );
  if (parsed.kind !== 'markdown') throw new DocumentError(`${name} could not be read as a DOCX file.`);
  return { markdown: parsed.markdown, headings: parsed.headings };
}
