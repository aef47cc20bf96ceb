/**
 * Runs PDF and DOCX parsing, and HTML-to-markdown conversion, in a child process with a heap
 * cap, a cap on its resident memory (heap plus 256 MB: decoded buffers live outside the heap), a
 * time limit and a cap on the expanded size (see `bounded-process.ts` and
 * `document-worker-source.ts`), so that a document bomb or a page built to be slow gets a clear
 * error in bounded time and memory while the host process carries on. One process per document:
 * it is killed when the answer is in, so nothing a document left behind outlives the call.
 */
import { createRequire } from 'node:module';
import { BoundedProcess, residentHeadroomMb } from './bounded-process.js';
import { DocumentError } from './document-error.js';
import { documentWorkerSource } from './document-worker-source.js';
import { allPages, type PageSpan } from './page-range.js';

const require = createRequire(import.meta.url);

/** Limits of one parse. */
export interface DocumentParseLimits {
  /** Heap of the parsing process, in MB (default 512); its resident memory may be 256 MB more. */
  maxMemoryMb: number;
  /** Wall-clock limit, in milliseconds (default 30 000). */
  timeoutMs: number;
  /** Most bytes the compressed text-bearing parts may expand to (default 32 MiB). */
  maxExpandedBytes: number;
  /** Characters after which no more PDF pages are extracted. */
  maxCharacters: number;
  /** Most characters of HTML converted to markdown (an HTML file, a page, or what a DOCX becomes); default 8 MiB. */
  maxHtmlBytes?: number;
  /**
   * Parses that may run at once (their heaps add up); more wait their turn. Shared by the
   * calls of one set of document tools. Default: no limit.
   */
  slots?: ParseSlots;
}

/** A limit on the parses running at once. */
export interface ParseSlots {
  run<Value>(work: () => Promise<Value>): Promise<Value>;
}

/** At most `count` parses at once; the others wait in order. */
export function createParseSlots(count: number): ParseSlots {
  let running = 0;
  const waiting: Array<() => void> = [];
  return {
    async run(work) {
      if (running >= count) await new Promise<void>((resolve) => waiting.push(resolve));
      running++;
      try {
        return await work();
      } finally {
        running--;
        waiting.shift()?.();
      }
    },
  };
}

const defaultMaxHtmlBytes = 8 * 1024 * 1024;

export const defaultDocumentParseLimits: DocumentParseLimits = {
  maxMemoryMb: 512,
  timeoutMs: 30_000,
  maxExpandedBytes: 32 * 1024 * 1024,
  maxCharacters: 100_000,
  maxHtmlBytes: defaultMaxHtmlBytes,
};

export type ParsedDocument =
  | { kind: 'pdf'; pageCount: number; pages: Array<{ number: number; text: string }> }
  | { kind: 'markdown'; title: string | undefined; markdown: string; headings: number };

export interface ParseRequest {
  /** `docx` and `html` become markdown. */
  kind: 'pdf' | 'docx' | 'html';
  /** The file (PDF, DOCX). */
  data?: Uint8Array;
  /** The HTML (`html`). */
  html?: string;
  /** For `html`: a web page (keep the main content) or a document (keep all text). */
  mode?: 'page' | 'document';
  /** For `docx` and `html`: keep only the section under this heading (doc.read). */
  section?: string | undefined;
  /** For `docx` and `html`: `text` strips the markdown (doc.read). */
  format?: 'markdown' | 'text';
  /** For `html`: the address relative links are made absolute against. */
  baseUrl?: string | undefined;
  /** The name shown in errors. */
  name: string;
  password?: string | undefined;
  /** Stops the parse (or its wait for a slot) when the run is stopped. */
  signal?: AbortSignal | undefined;
  /** For a PDF: the pages to extract, given the page count (throws a DocumentError to refuse). */
  selectPages?: (pageCount: number) => PageSpan[];
}

type WorkerMessage =
  | { kind: 'opened'; pageCount: number }
  | {
      kind: 'done';
      result:
        | { pageCount: number; pages: Array<{ number: number; text: string }> }
        | { title?: string; markdown: string; headings: number };
    }
  | { kind: 'failed'; reason: string; name?: string; message: string };

/** Parse a PDF or DOCX in a bounded child process within `limits`. */
export function parseDocument(
  request: ParseRequest,
  limits: DocumentParseLimits = defaultDocumentParseLimits,
): Promise<ParsedDocument> {
  return limits.slots === undefined
    ? parseInProcess(request, limits)
    : limits.slots.run(() => parseInProcess(request, limits));
}

function parseInProcess(request: ParseRequest, limits: DocumentParseLimits): Promise<ParsedDocument> {
  // A call whose run was stopped while it waited for a slot starts no process.
  if (request.signal?.aborted === true) return Promise.reject(stoppedError(request.name));
  return new Promise((resolve, reject) => {
    let settled = false;
    const reader = new BoundedProcess(
      documentWorkerSource,
      {
        kind: request.kind,
        data: request.data,
        html: request.html,
        mode: request.mode,
        baseUrl: request.baseUrl,
        section: request.section,
        format: request.format,
        password: request.password,
        maxExpandedBytes: limits.maxExpandedBytes,
        maxCharacters: limits.maxCharacters,
        maxHtmlBytes: limits.maxHtmlBytes ?? defaultMaxHtmlBytes,
        maxResultCharacters: 2 * (limits.maxHtmlBytes ?? defaultMaxHtmlBytes),
        pdfjsPath: require.resolve('pdfjs-dist/legacy/build/pdf.mjs'),
        mammothPath: require.resolve('mammoth'),
        linkedomPath: require.resolve('linkedom'),
        turndownPath: require.resolve('turndown'),
      },
      { heapMb: limits.maxMemoryMb, residentMb: limits.maxMemoryMb + residentHeadroomMb },
    );
    const onAbort = () => finish(stoppedError(request.name));
    const finish = (outcome: ParsedDocument | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      reader.terminate();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish(
          new DocumentError(
            `${request.name} took longer than ${limits.timeoutMs / 1000} s to read and was stopped; it is too large or built to stall a reader. Ask for a smaller or plainer version.`,
          ),
        ),
      limits.timeoutMs,
    );
    request.signal?.addEventListener('abort', onAbort, { once: true });
    reader.on('message', (message: WorkerMessage) => {
      if (message.kind === 'opened') {
        try {
          const spans = request.selectPages?.(message.pageCount) ?? allPages(message.pageCount);
          reader.postMessage({ spans });
        } catch (error) {
          finish(error instanceof Error ? error : new Error(String(error)));
        }
      } else if (message.kind === 'done') {
        const result = message.result;
        finish(
          'markdown' in result
            ? { kind: 'markdown', title: result.title, markdown: result.markdown, headings: result.headings }
            : { kind: 'pdf', ...result },
        );
      } else finish(failure(message, request));
    });
    reader.on('out-of-memory', () =>
      finish(
        new DocumentError(
          `${request.name} needs more than the ${limits.maxMemoryMb} MB that reading a document may use, and was stopped; it is too large or built to exhaust memory. Ask for a smaller version.`,
        ),
      ),
    );
    reader.on('exit', () =>
      finish(new DocumentError(`${request.name} could not be read: the reader stopped without an answer.`)),
    );
  });
}

function stoppedError(name: string): DocumentError {
  return new DocumentError(`${name} was not read: the run was stopped.`);
}

function failure(message: { reason: string; name?: string; message: string }, request: ParseRequest): Error {
  const name = request.name;
  if (message.reason === 'too-large') {
    return new DocumentError(
      `${name} was not read: ${message.message}, over the limit for documents; it may be a decompression bomb. Ask for a smaller version.`,
    );
  }
  if (message.reason === 'section') return new DocumentError(`${name}: ${message.message}`);
  if (message.name === 'RangeError' && /call stack/i.test(message.message)) {
    return new DocumentError(
      `${name} is nested too deeply to read (its elements go deeper than the reader's stack); ask for a flatter version, or read it by line range with files.read.`,
    );
  }
  if (message.reason === 'damaged') {
    return new DocumentError(`${name} is not a readable DOCX file (it is damaged: ${message.message}).`);
  }
  if (request.kind === 'html')
    return new DocumentError(`${name} could not be converted to markdown: ${message.message}`);
  if (request.kind === 'docx') {
    return new DocumentError(
      `${name} is not a readable DOCX file (it is damaged, encrypted, or another format such as the older .doc: ${message.message}).`,
    );
  }
  if (message.name === 'PasswordException') {
    return new DocumentError(
      request.password === undefined
        ? `${name} is an encrypted PDF that needs a password; ask the user for it and pass it as \`password\`.`
        : `the password given for ${name} is wrong; ask the user for the right one.`,
    );
  }
  if (
    message.name === 'InvalidPDFException' ||
    message.name === 'FormatError' ||
    message.name === 'UnknownErrorException'
  ) {
    return new DocumentError(`${name} is not a readable PDF (it is damaged or not a PDF at all: ${message.message}).`);
  }
  return new DocumentError(`${name} could not be read: ${message.message}`);
}
