/**
 * Text of PDF pages with pdfjs-dist (its legacy build, the one meant for Node). Lines are rebuilt
 * from the positions of the text runs. Encrypted and damaged files become `DocumentError`s that
 * say what to do, instead of pdfjs's terse exceptions.
 */
import { DocumentError } from './document-error.js';
import { parsePageRange } from './page-range.js';

export interface PdfText {
  pageCount: number;
  /** The selected pages, in order. */
  pages: Array<{ number: number; text: string }>;
}

interface TextRun {
  str?: string;
  hasEOL?: boolean;
  transform?: number[];
  width?: number;
}

/** Extract the text of the pages `range` selects (all when undefined). */
export async function extractPdfText(
  data: Uint8Array,
  options: { pages?: string | undefined; password?: string | undefined; name: string },
): Promise<PdfText> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  // pdfjs takes ownership of (detaches) the buffer it is given, so it gets a copy.
  const task = getDocument({
    data: new Uint8Array(data),
    ...(options.password === undefined ? {} : { password: options.password }),
    verbosity: 0,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
  });
  try {
    let document: Awaited<typeof task.promise>;
    try {
      document = await task.promise;
    } catch (error) {
      throw pdfOpenError(error, options);
    }
    const numbers =
      options.pages === undefined ? range(document.numPages) : pageNumbers(options.pages, document.numPages);
    const pages: PdfText['pages'] = [];
    for (const number of numbers) {
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      pages.push({ number, text: joinRuns(content.items as TextRun[]) });
      page.cleanup();
    }
    return { pageCount: document.numPages, pages };
  } finally {
    await task.destroy();
  }
}

function pageNumbers(pages: string, pageCount: number): number[] {
  try {
    return parsePageRange(pages, pageCount);
  } catch (error) {
    throw new DocumentError((error as Error).message);
  }
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index + 1);
}

/** Rebuild lines from text runs: a run that starts lower on the page starts a new line. */
function joinRuns(runs: TextRun[]): string {
  let text = '';
  let lastY: number | undefined;
  let lastEnd: number | undefined;
  for (const run of runs) {
    const value = run.str ?? '';
    const x = run.transform?.[4];
    const y = run.transform?.[5];
    const size = Math.abs(run.transform?.[0] ?? 10) || 10;
    if (value !== '') {
      if (lastY !== undefined && y !== undefined && Math.abs(y - lastY) > size / 2 && !text.endsWith('\n')) {
        text += '\n';
      } else if (
        lastEnd !== undefined &&
        x !== undefined &&
        x - lastEnd > size * 0.15 &&
        !/\s$/.test(text) &&
        !/^\s/.test(value)
      ) {
        text += ' ';
      }
      text += value;
      if (y !== undefined) lastY = y;
      if (x !== undefined) lastEnd = x + (run.width ?? 0);
    }
    if (run.hasEOL && !text.endsWith('\n')) text += '\n';
  }
  return text.replace(/[ \t]+\n/g, '\n').trim();
}

function pdfOpenError(error: unknown, options: { password?: string | undefined; name: string }): Error {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'PasswordException') {
    return new DocumentError(
      options.password === undefined
        ? `${options.name} is an encrypted PDF that needs a password; ask the user for it and pass it as \`password\`.`
        : `the password given for ${options.name} is wrong; ask the user for the right one.`,
    );
  }
  if (name === 'InvalidPDFException' || name === 'FormatError' || name === 'UnknownErrorException') {
    return new DocumentError(
      `${options.name} is not a readable PDF (it is damaged or not a PDF at all: ${(error as Error).message}).`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
