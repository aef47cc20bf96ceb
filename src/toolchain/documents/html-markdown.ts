/**
 * HTML to markdown, shared by `doc.read` (local HTML files, and DOCX through mammoth's HTML) and
 * `web.fetch` (pages). The conversion — linkedom parses, noise is removed (scripts, styles, and
 * for a web page its navigation, header and footer), turndown writes the markdown with GFM
 * tables — runs in the bounded document worker (`document-parser.ts`): a page built to be slow
 * to parse or convert meets a time limit and a heap cap there, never the host's event loop.
 */
import { DocumentError } from './document-error.js';
import { type DocumentParseLimits, defaultDocumentParseLimits, parseDocument } from './document-parser.js';

export interface HtmlToMarkdownOptions {
  /**
   * `page` (a web page): keep only the main content, dropping navigation, headers, footers and
   * asides. `document` (a file): keep everything that is visible text. Default `document`.
   */
  mode?: 'page' | 'document';
  /** Address the page came from; relative links and images are made absolute against it. */
  baseUrl?: string;
  /** The name shown in errors (default "the HTML"). */
  name?: string;
  /** Keep only the section under this heading. */
  section?: string | undefined;
  /** `text` strips the markdown. Default `markdown`. */
  format?: 'markdown' | 'text';
  /** Stops the conversion when the run is stopped. */
  signal?: AbortSignal;
}

export interface MarkdownDocument {
  title: string | undefined;
  markdown: string;
  /** Headings of the whole document. */
  headings: number;
}

/** Convert an HTML string to markdown, off the main thread within `limits`. */
export async function htmlToMarkdown(
  html: string,
  options: HtmlToMarkdownOptions = {},
  limits: DocumentParseLimits = defaultDocumentParseLimits,
): Promise<MarkdownDocument> {
  const name = options.name ?? 'the HTML';
  const maxHtmlBytes = limits.maxHtmlBytes ?? defaultDocumentParseLimits.maxHtmlBytes ?? Number.POSITIVE_INFINITY;
  if (html.length > maxHtmlBytes) {
    throw new DocumentError(
      `${name} is ${html.length} characters of HTML, over the ${maxHtmlBytes}-character limit for converting it; read it by line range with files.read instead.`,
    );
  }
  const parsed = await parseDocument(
    {
      kind: 'html',
      html,
      name,
      mode: options.mode ?? 'document',
      baseUrl: options.baseUrl,
      section: options.section,
      format: options.format ?? 'markdown',
      signal: options.signal,
    },
    limits,
  );
  if (parsed.kind !== 'markdown') throw new DocumentError(`${name} could not be converted to markdown.`);
  return { title: parsed.title, markdown: parsed.markdown, headings: parsed.headings };
}
