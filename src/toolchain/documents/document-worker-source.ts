/**
 * The program of the document-parsing worker thread, kept as plain JavaScript text and started
 * with `new Worker(source, { eval: true })`, so that the same code runs from the TypeScript
 * sources (tests) and from the compiled `dist/`.
 *
 * A document is attacker-made input: a few kilobytes of ZIP or PDF can expand to gigabytes, and
 * a parser fed one can fill the heap or run for minutes. So PDF and DOCX parsing runs here, in a
 * thread the host starts with a heap cap and terminates at a time limit, after checks of the
 * expanded size that need no trust in the parser:
 * - DOCX: the ZIP's central directory is read before anything is inflated; the declared sizes of
 *   the parts mammoth reads (everything but `word/media/`) must stay under the cap. A ZIP that
 *   lies about its sizes still meets the heap cap.
 * - PDF: every Flate stream but images (which text extraction never decodes) is inflated with
 *   zlib's `maxOutputLength`, all of them together under the cap, before pdfjs sees the file.
 *
 * Protocol: the worker posts `{ kind: 'opened', pageCount }` for a PDF and waits for
 * `{ pages: number[] }` (the host parses the page range), then posts `{ kind: 'done', result }`;
 * any failure is `{ kind: 'failed', reason, name, message }`.
 */
export const documentWorkerSource = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');

class Refusal extends Error {
  constructor(reason, message) { super(message); this.reason = reason; }
}

function megabytes(bytes) { return Math.round(bytes / 1048576) + ' MB'; }

/** Sum of the declared uncompressed sizes of the parts mammoth reads, from the central directory. */
function checkZip(data, maxExpandedBytes) {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const searchFrom = Math.max(0, view.length - 65557);
  let end = -1;
  for (let index = view.length - 22; index >= searchFrom; index--) {
    if (view.readUInt32LE(index) === 0x06054b50) { end = index; break; }
  }
  if (end < 0) throw new Refusal('damaged', 'no ZIP directory found');
  const entries = view.readUInt16LE(end + 10);
  let offset = view.readUInt32LE(end + 16);
  let total = 0;
  for (let count = 0; count < entries; count++) {
    if (offset + 46 > view.length || view.readUInt32LE(offset) !== 0x02014b50) {
      throw new Refusal('damaged', 'its ZIP directory is damaged');
    }
    const size = view.readUInt32LE(offset + 24);
    const nameLength = view.readUInt16LE(offset + 28);
    const extraLength = view.readUInt16LE(offset + 30);
    const commentLength = view.readUInt16LE(offset + 32);
    const name = view.toString('utf8', offset + 46, offset + 46 + nameLength);
    if (size === 0xffffffff) throw new Refusal('too-large', 'its part ' + name + ' is over 4 GB when expanded');
    if (!name.startsWith('word/media/')) total += size;
    if (total > maxExpandedBytes) {
      throw new Refusal('too-large', 'its text parts expand to more than ' + megabytes(maxExpandedBytes) + ' (' + name + ' alone declares ' + megabytes(size) + ')');
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
}

/** Inflate each Flate stream of the PDF with a cap, so that pdfjs never meets a bomb. */
function checkPdf(data, maxExpandedBytes) {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let total = 0;
  let from = 0;
  for (;;) {
    const start = view.indexOf('stream', from, 'latin1');
    if (start < 0) return;
    if (start >= 3 && view.toString('latin1', start - 3, start) === 'end') { from = start + 6; continue; }
    let bodyStart = start + 6;
    if (view[bodyStart] === 0x0d) bodyStart++;
    if (view[bodyStart] === 0x0a) bodyStart++;
    const bodyEnd = view.indexOf('endstream', bodyStart, 'latin1');
    if (bodyEnd < 0) return;
    from = bodyEnd + 9;
    const before = view.toString('latin1', Math.max(0, start - 1024), start);
    const dictionary = before.slice(Math.max(0, before.lastIndexOf(' obj')));
    if (!/\/FlateDecode|\/Fl\b/.test(dictionary)) continue;
    // Text extraction never decodes images, so their size does not matter here.
    if (/\/Subtype\s*\/Image/.test(dictionary)) continue;
    const room = maxExpandedBytes - total;
    let expanded;
    try {
      expanded = zlib.inflateSync(view.subarray(bodyStart, bodyEnd), { maxOutputLength: room + 1, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (error) {
      if (error && (error.code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError)) {
        throw new Refusal('too-large', 'its compressed streams expand to more than ' + megabytes(maxExpandedBytes));
      }
      continue; // A damaged stream is pdfjs's to report or skip.
    }
    total += expanded.length;
    if (total > maxExpandedBytes) {
      throw new Refusal('too-large', 'its compressed streams expand to more than ' + megabytes(maxExpandedBytes));
    }
  }
}

/** Rebuild lines from text runs: a run that starts lower on the page starts a new line. */
function joinRuns(runs) {
  let text = '';
  let lastY;
  let lastEnd;
  for (const run of runs) {
    const value = run.str || '';
    const x = run.transform ? run.transform[4] : undefined;
    const y = run.transform ? run.transform[5] : undefined;
    const size = Math.abs(run.transform ? run.transform[0] : 10) || 10;
    if (value !== '') {
      if (lastY !== undefined && y !== undefined && Math.abs(y - lastY) > size / 2 && !text.endsWith('\n')) {
        text += '\n';
      } else if (lastEnd !== undefined && x !== undefined && x - lastEnd > size * 0.15 && !/\s$/.test(text) && !/^\s/.test(value)) {
        text += ' ';
      }
      text += value;
      if (y !== undefined) lastY = y;
      if (x !== undefined) lastEnd = x + (run.width || 0);
    }
    if (run.hasEOL && !text.endsWith('\n')) text += '\n';
  }
  return text.replace(/[ \t]+\n/g, '\n').trim();
}

function nextMessage() {
  return new Promise((resolve) => parentPort.once('message', resolve));
}

async function readPdf(job) {
  checkPdf(job.data, job.maxExpandedBytes);
  const { pathToFileURL } = require('node:url');
  const { getDocument } = await import(pathToFileURL(job.pdfjsPath).href);
  const task = getDocument({
    data: new Uint8Array(job.data),
    ...(job.password === undefined ? {} : { password: job.password }),
    verbosity: 0,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
  });
  try {
    const document = await task.promise;
    parentPort.postMessage({ kind: 'opened', pageCount: document.numPages });
    const reply = await nextMessage();
    const pages = [];
    let characters = 0;
    for (const number of reply.pages) {
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      const text = joinRuns(content.items);
      pages.push({ number, text });
      page.cleanup();
      characters += text.length;
      // Past what the tool can show, more pages only cost time and memory.
      if (characters > job.maxCharacters) break;
    }
    return { pageCount: document.numPages, pages };
  } finally {
    await task.destroy();
  }
}

async function readDocx(job) {
  checkZip(job.data, job.maxExpandedBytes);
  const mammoth = require(job.mammothPath);
  const result = await mammoth.convertToHtml(
    { buffer: Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength) },
    { convertImage: mammoth.images.imgElement(async () => ({ src: '' })), externalFileAccess: false },
  );
  return { html: result.value };
}

(async () => {
  const job = workerData;
  try {
    const result = job.kind === 'pdf' ? await readPdf(job) : await readDocx(job);
    parentPort.postMessage({ kind: 'done', result });
  } catch (error) {
    parentPort.postMessage({
      kind: 'failed',
      reason: error instanceof Refusal ? error.reason : 'parse-failed',
      name: error && error.name,
      message: String((error && error.message) || error),
    });
  }
})();
`;
