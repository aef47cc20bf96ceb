/**
 * Text of PDF pages with pdfjs-dist (its legacy build, the one meant for Node), parsed in a
 * bounded worker thread (`document-parser.ts`). Lines are rebuilt from the positions of the text
 * runs. Encrypted and damaged files become `DocumentError`s that say what to do, instead of
 * pdfjs's terse exceptions.
 */
import { DocumentError } from './document-error.js';
import { type DocumentParseLimits, defaultDocumentParseLimits, parseDocument } from './document-parser.js';
import { allPages, type PageSpan, parsePageRange } from './page-range.js';

export interface PdfText {
  pageCount: number;
  /** The selected pages, in order (possibly fewer when the text passed the limit of characters). */
  pages: Array<{ number: number; text: string }>;
}

/** Extract the text of the pages `range` selects (all when undefined). */
export async function extractPdfText(
  data: Uint8Array,
  options: { pages?: string | undefined; password?: string | undefined; name: string; signal?: AbortSignal },
  limits: DocumentParseLimits = defaultDocumentParseLimits,
): Promise<PdfText> {
  const parsed = await parseDocument(
    {
      kind: 'pdf',
      data,
      name: options.name,
      password: options.password,
      signal: options.signal,
      selectPages: (pageCount) =>
        options.pages === undefined ? allPages(pageCount) : pageSpans(options.pages, pageCount),
    },
    limits,
  );
  if (parsed.kind !== 'pdf') throw new DocumentError(`${options.name} could not be read as a PDF.`);
  return { pageCount: parsed.pageCount, pages: parsed.pages };
}

function pageSpans(pages: string, pageCount: number): PageSpan[] {
  try {
    return parsePageRange(pages, pageCount);
  } catch (error) {
    throw new DocumentError((error as Error).message);
  }
}
