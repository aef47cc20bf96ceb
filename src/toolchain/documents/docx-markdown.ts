/**
 * DOCX to markdown: mammoth turns the document into semantic HTML (headings by style, lists,
 * tables, bold and italic) in a bounded worker thread (`document-parser.ts`, which checks the
 * ZIP's expanded size before inflating anything), and the HTML goes through the same
 * HTML-to-markdown path as HTML files. Images are left out: a model cannot see them here and
 * their data would flood the text.
 */
import { DocumentError } from './document-error.js';
import { type DocumentParseLimits, defaultDocumentParseLimits, parseDocument } from './document-parser.js';
import { htmlToMarkdown } from './html-markdown.js';

/** Convert a DOCX file's bytes to markdown. */
export async function docxToMarkdown(
  data: Buffer,
  name: string,
  limits: DocumentParseLimits = defaultDocumentParseLimits,
  maxHtmlBytes = Number.POSITIVE_INFINITY,
): Promise<string> {
  const parsed = await parseDocument({ kind: 'docx', data, name }, limits);
  if (parsed.kind !== 'docx') throw new DocumentError(`${name} could not be read as a DOCX file.`);
  if (parsed.html.length > maxHtmlBytes) {
    throw new DocumentError(
      `${name} holds more than ${maxHtmlBytes} characters of text, over the limit for converting it; ask for a smaller version or split it.`,
    );
  }
  return (await htmlToMarkdown(parsed.html)).markdown;
}
