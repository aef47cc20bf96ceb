/**
 * The program of the document-parsing process, kept as plain JavaScript text and run in a
 * bounded child process (`bounded-process.ts`, which gives it `parentPort` and `workerData`), so
 * that the same code runs from the TypeScript sources (tests) and from the compiled `dist/`.
 *
 * A document is attacker-made input: a few kilobytes of ZIP or PDF can expand to gigabytes, and
 * a parser fed one can fill the heap or its buffers, or run for minutes. So PDF and DOCX parsing
 * runs here, in a process the host starts with a heap cap and a cap on its resident memory, and
 * kills at a time limit, after checks of the
 * expanded size that need no trust in the parser:
 * - DOCX: the ZIP's central directory is read before anything is inflated; the declared sizes of
 *   the parts mammoth reads (everything but `word/media/`) must stay under the cap. A ZIP that
 *   lies about its sizes still meets the heap cap.
 * - PDF: every Flate stream but images (which text extraction never decodes) is inflated with
 *   zlib's `maxOutputLength`, all of them together under the cap, before pdfjs sees the file.
 *
 * HTML (a file, a web page, or what a DOCX becomes) is turned into markdown here too: linkedom
 * and turndown on a page built to be slow can take minutes, which the host must not wait out.
 *
 * The text sent back is at most `maxResultCharacters` (twice the HTML cap): the host holds it.
 *
 * Protocol: the worker posts `{ kind: 'opened', pageCount }` for a PDF and waits for
 * `{ spans: Array<{ first, last }> }` (the host parses the page range; spans, because a 1 KB PDF
 * can declare two billion pages), then posts `{ kind: 'done', result }`;
 * any failure is `{ kind: 'failed', reason, name, message }`.
 */
export const documentWorkerSource = String.raw`
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
    reading: for (const span of reply.spans) {
      for (let number = span.first; number <= span.last; number++) {
        const page = await document.getPage(number);
        const content = await page.getTextContent();
        const text = joinRuns(content.items);
        pages.push({ number, text });
        page.cleanup();
        characters += text.length;
        // Past what the tool can show, more pages only cost time and memory.
        if (characters > job.maxCharacters) break reading;
      }
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
  if (result.value.length > job.maxHtmlBytes) {
    throw new Refusal('too-large', 'its text expands to more than ' + megabytes(job.maxHtmlBytes) + ' of HTML');
  }
  return htmlToMarkdown(job, result.value, {});
}

// HTML to markdown. linkedom parses the page, noise is removed (scripts, styles, and for a web
// page its navigation, header and footer), and turndown writes the markdown. Tables become GFM
// tables, which turndown's core does not do.
const invisible = 'script, style, noscript, template, iframe, object, embed, svg, canvas, link, meta, [hidden]';
const pageChrome = 'nav, header, footer, aside, form, button, dialog, [role="navigation"], [role="banner"], [role="contentinfo"], [aria-hidden="true"]';

function htmlToMarkdown(job, html, options) {
  const { parseHTML } = require(job.linkedomPath);
  const Turndown = require(job.turndownPath);
  // linkedom puts a bare fragment (as mammoth writes) in the wrong place, so it gets a document around it.
  const full = /<html[\s>]/i.test(html) ? html : '<!doctype html><html>' + (/<body[\s>]/i.test(html) ? html : '<body>' + html + '</body>') + '</html>';
  const document = parseHTML(full).document;
  const titleElement = document.querySelector('title');
  const title = (titleElement && titleElement.textContent && titleElement.textContent.trim()) || undefined;
  for (const element of document.querySelectorAll(invisible)) element.remove();
  let root = document.body || document.documentElement;
  if (options.mode === 'page') {
    root = document.querySelector('main, article, [role="main"]') || root;
    if (root) for (const element of root.querySelectorAll(pageChrome)) element.remove();
  }
  if (options.baseUrl !== undefined && root) {
    for (const [selector, attribute] of [['a[href]', 'href'], ['img[src]', 'src']]) {
      for (const element of root.querySelectorAll(selector)) {
        const value = element.getAttribute(attribute);
        if (value === null) continue;
        try { element.setAttribute(attribute, new URL(value, options.baseUrl).href); } catch { /* kept as written */ }
      }
    }
  }
  const service = new Turndown({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' });
  service.addRule('table', { filter: 'table', replacement: (_content, node) => '\n\n' + markdownTable(node) + '\n\n' });
  // Links whose target is a script, and images without a description, are noise for a reader.
  service.addRule('script-link', {
    filter: (node) => node.nodeName === 'A' && (node.getAttribute('href') || '').trim().startsWith('javascript:'),
    replacement: (content) => content,
  });
  service.addRule('bare-image', {
    filter: (node) => node.nodeName === 'IMG' && (node.getAttribute('alt') || '').trim() === '',
    replacement: () => '',
  });
  const markdown = root ? service.turndown(root) : '';
  return { title, markdown: markdown.trim() };
}

// Sections and plain text, for doc.read: run here, under the time limit, not on the host's
// thread. A heading is "#" to "######", a space, its text; a closing run of "#" after a space is
// dropped. Lines in fenced code blocks are never headings. Parsed without a regular expression
// that can backtrack: "/^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/" took 3.5 s on the host for an 18 KB
// HTML file whose heading held 3,000 no-break spaces, and grows with the cube of that.
function markdownHeadings(markdown) {
  const headings = [];
  let fence;
  const lines = markdown.split('\n');
  for (let line = 0; line < lines.length; line++) {
    const text = lines[line];
    const fenceMatch = /^\s{0,3}(\x60{3,}|~{3,})/.exec(text);
    if (fenceMatch !== null) {
      const marker = fenceMatch[1];
      if (fence === undefined) fence = marker[0].repeat(marker.length);
      else if (marker.startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const opening = /^\s{0,3}(#{1,6})(\s|$)/.exec(text);
    if (opening === null) continue;
    let rest = text.slice(opening[0].length).trim();
    let end = rest.length;
    while (end > 0 && rest[end - 1] === '#') end--;
    if (end === 0) rest = '';
    else if (end < rest.length && /\s/.test(rest[end - 1])) rest = rest.slice(0, end).trimEnd();
    headings.push({ level: opening[1].length, text: rest, line });
  }
  return headings;
}

function normalizeHeading(text) {
  return text.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** The section under the heading named title (case and spacing ignored; a unique partial match is accepted). */
function markdownSection(markdown, headings, title) {
  const wanted = normalizeHeading(title);
  let matches = headings.filter((heading) => normalizeHeading(heading.text) === wanted);
  if (matches.length === 0) matches = headings.filter((heading) => normalizeHeading(heading.text).includes(wanted));
  if (matches.length !== 1) {
    // The list goes into the error the model reads: long headings are cut.
    const shown = (text) => (text.length <= 80 ? text : text.slice(0, 80) + '…');
    const listed = headings.slice(0, 60).map((heading) => '#'.repeat(heading.level) + ' ' + shown(heading.text)).join('; ');
    const reason = matches.length === 0 ? 'no heading matches "' + title + '"' : matches.length + ' headings match "' + title + '"';
    throw new Refusal('section', headings.length === 0
      ? reason + ': the document has no headings; read it without \x60section\x60.'
      : reason + '; use one of these headings exactly: ' + listed + (headings.length > 60 ? '; …' : ''));
  }
  const start = matches[0];
  const end = headings.find((heading) => heading.line > start.line && heading.level <= start.level);
  const lines = markdown.split('\n');
  return lines.slice(start.line, end === undefined ? lines.length : end.line).join('\n').trim();
}

/** Markdown without its markup, for format "text". */
function markdownToPlainText(markdown) {
  return markdown
    .replace(/^\s{0,3}#{1,6}\s+/gm, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^\w*])[*_]([^*_\n]+)[*_](?=[^\w*]|$)/g, '$1$2')
    .replace(/^\x60\x60\x60.*$/gm, '')
    .replace(/\\([\\\x60*_{}[\]()#+\-.!|])/g, '$1');
}

/** The heading count, then the section asked for and the format asked for (doc.read). */
function shapeMarkdown(job, result) {
  const headings = markdownHeadings(result.markdown);
  let markdown = result.markdown;
  if (job.section !== undefined) markdown = markdownSection(markdown, headings, job.section);
  if (job.format === 'text') markdown = markdownToPlainText(markdown);
  return { title: result.title, markdown, headings: headings.length };
}

function markdownTable(table) {
  const rows = [...table.querySelectorAll('tr')].map((row) =>
    [...row.querySelectorAll('th, td')].map((cell) => (cell.textContent || '').replace(/\s+/g, ' ').trim().replaceAll('|', '\\|')),
  );
  const width = Math.max(0, ...rows.map((cells) => cells.length));
  if (width === 0) return '';
  const padded = rows.map((cells) => [...cells, ...Array(width - cells.length).fill('')]);
  const [header, ...body] = padded;
  const line = (cells) => '| ' + cells.join(' | ') + ' |';
  return [line(header), line(Array(width).fill('---')), ...body.map(line)].join('\n');
}

(async () => {
  const job = workerData;
  try {
    let result =
      job.kind === 'pdf'
        ? await readPdf(job)
        : job.kind === 'docx'
          ? await readDocx(job)
          : htmlToMarkdown(job, job.html, { mode: job.mode, baseUrl: job.baseUrl });
    if (job.kind !== 'pdf') result = shapeMarkdown(job, result);
    // What is sent back is held by the host: a small table padded to its widest row, or one
    // page of a PDF, can come to hundreds of megabytes of text.
    const characters = result.pages ? result.pages.reduce((sum, page) => sum + page.text.length, 0) : result.markdown.length;
    if (characters > job.maxResultCharacters) {
      throw new Refusal('too-large', 'its text comes to ' + characters + ' characters, more than the ' + job.maxResultCharacters + ' a document may give');
    }
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
