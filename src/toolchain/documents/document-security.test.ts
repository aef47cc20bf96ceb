/**
 * Security suite, documents: decompression bombs built here (a small DOCX whose document.xml
 * inflates to 48 MB, one whose ZIP directory lies about it, a PDF with a 48 MB compressed
 * content stream), a parser held past its time limit, and protected entries. Each gets a clear
 * error, and the host process carries on: the event loop keeps turning meanwhile.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, crc32, deflateRawSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createToolContext } from '../../tools/tool-context.js';
import { createDocumentTools, type DocumentToolOptions } from './doc-read-tool.js';

const expandedBytes = 48 * 1024 * 1024;

async function read(directory: string, path: string, options: DocumentToolOptions = {}): Promise<string> {
  const [docRead] = createDocumentTools(options);
  const validation = docRead!.validate({ path });
  if (!validation.success) throw new Error(JSON.stringify(validation.issues));
  try {
    return String(await docRead!.execute(validation.data, createToolContext({ workspace: directory })));
  } catch (error) {
    return `Error: ${(error as Error).message}`;
  }
}

/** A ZIP of `entries` (deflated); `declaredSize` overrides the uncompressed size the directory states. */
function zip(entries: Array<{ name: string; data: Buffer; declaredSize?: number }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const size = entry.declaredSize ?? entry.data.length;
    const checksum = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function docxBomb(declaredSize?: number): Buffer {
  const paragraph = '<w:p><w:r><w:t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</w:t></w:r></w:p>';
  return docxWith(paragraph.repeat(Math.ceil(expandedBytes / paragraph.length)), '', declaredSize);
}

/** A DOCX whose document.xml has `doctype` before its root and `body` in its body. */
function docxWith(body: string, doctype: string, declaredSize?: number): Buffer {
  const head = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>${doctype}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`;
  const tail = '</w:body></w:document>';
  const documentXml = Buffer.from(head + body + tail);
  return zip([
    {
      name: '[Content_Types].xml',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
      ),
    },
    {
      name: '_rels/.rels',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
      ),
    },
    { name: 'word/document.xml', data: documentXml, ...(declaredSize === undefined ? {} : { declaredSize }) },
  ]);
}

/** A one-page PDF whose content stream inflates to 48 MB (the cross-reference table is left for pdfjs to rebuild). */
function pdfBomb(): Buffer {
  const content = deflateSync(Buffer.alloc(expandedBytes, ' '), { level: 9 });
  const parts = [
    Buffer.from('%PDF-1.4\n'),
    Buffer.from('1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'),
    Buffer.from('2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n'),
    Buffer.from('3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n'),
    Buffer.from(`4 0 obj << /Length ${content.length} /Filter /FlateDecode >>\nstream\n`),
    content,
    Buffer.from('\nendstream\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
  ];
  return Buffer.concat(parts);
}

/**
 * A zlib stream of `megabytes` MB of spaces, built by repeating one deflated megabyte (its blocks
 * end byte-aligned and refer only to spaces), so that the test itself stays fast and small.
 */
function deflatedSpaces(megabytes: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1024 * 1024, ' '), { finishFlush: constants.Z_FULL_FLUSH });
  // zlib header, the blocks, an empty final block; pdfjs does not check the trailing checksum.
  return Buffer.concat([Buffer.from([0x78, 0x9c]), ...Array(megabytes).fill(block), Buffer.from([0x03, 0x00])]);
}

/**
 * A one-page PDF whose content stream's dictionary claims to be an image: the expanded-size
 * check skips images (text extraction never decodes one), but pdfjs decodes a page's contents
 * whatever the dictionary says, into a typed array outside the V8 heap.
 */
function pdfBufferBomb(megabytes: number): Buffer {
  const content = deflatedSpaces(megabytes);
  return Buffer.concat([
    Buffer.from('%PDF-1.4\n'),
    Buffer.from('1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'),
    Buffer.from('2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n'),
    Buffer.from('3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n'),
    Buffer.from(`4 0 obj << /Subtype /Image /Length ${content.length} /Filter /FlateDecode >>\nstream\n`),
    content,
    Buffer.from('\nendstream\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
  ]);
}

/**
 * A 1.5 KB PDF of 2^levels pages: a tree of page-tree nodes, each of whose two kids is the same
 * node below, down to one page saying "hello". pdfjs reads its page count as declared.
 */
function pdfPageTreeBomb(levels: number): Buffer {
  const content = 'BT /F1 12 Tf 72 700 Td (hello) Tj ET';
  const objects = [
    `<< /Type /Catalog /Pages ${3 + levels} 0 R >>`,
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Page /Parent 4 0 R /MediaBox [0 0 612 792] /Contents 2 0 R >>',
  ];
  for (let level = 1; level <= levels; level++) {
    const child = level === 1 ? 3 : 2 + level;
    objects.push(`<< /Type /Pages /Kids [${child} 0 R ${child} 0 R] /Count ${2 ** level} >>`);
  }
  let text = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(text.length);
    text += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const table = offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  const start = text.length;
  text += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${table}`;
  text += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${start}\n%%EOF\n`;
  return Buffer.from(text);
}

/** Counts event-loop turns while `work` runs: the host must keep turning. */
async function whileCounting(work: () => Promise<string>): Promise<{ output: string; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const output = await work();
    return { output, ticks };
  } finally {
    clearInterval(timer);
  }
}

describe('doc.read: decompression bombs', () => {
  it('refuses a small DOCX whose document.xml declares 48 MB, before inflating it', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-bomb-'));
    const bomb = docxBomb();
    expect(bomb.length).toBeLessThan(1024 * 1024);
    writeFileSync(join(directory, 'bomb.docx'), bomb);
    const output = await read(directory, 'bomb.docx');
    expect(output).toMatch(/^Error: bomb\.docx was not read: its text parts expand to more than 32 MB/);
    expect(output).toContain('decompression bomb');
  });

  it('refuses a DOCX whose directory lies about the size, and the host lives', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-bomb-'));
    writeFileSync(join(directory, 'liar.docx'), docxBomb(1_000));
    const { output, ticks } = await whileCounting(() =>
      read(directory, 'liar.docx', { maxParseMemoryMb: 64, parseTimeoutMs: 20_000 }),
    );
    // The ZIP reader checks each inflated part against its declared size.
    expect(output).toMatch(/^Error: liar\.docx is not a readable DOCX file .*size mismatch/);
    expect(ticks).toBeGreaterThan(0);
  });

  it('stops a parse at the memory cap when the size cap lets a document through, and the host lives', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-bomb-'));
    writeFileSync(join(directory, 'bomb.docx'), docxBomb());
    const { output, ticks } = await whileCounting(() =>
      read(directory, 'bomb.docx', {
        maxExpandedBytes: 512 * 1024 * 1024,
        maxParseMemoryMb: 64,
        parseTimeoutMs: 25_000,
      }),
    );
    expect(output).toMatch(
      /^Error: bomb\.docx (needs more than the 64 MB that reading a document may use|took longer than 25 s)/,
    );
    expect(ticks).toBeGreaterThan(0);
  }, 40_000);

  it('refuses a PDF with a 48 MB compressed stream, and the host lives', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-bomb-'));
    const bomb = pdfBomb();
    expect(bomb.length).toBeLessThan(1024 * 1024);
    writeFileSync(join(directory, 'bomb.pdf'), bomb);
    const { output } = await whileCounting(() => read(directory, 'bomb.pdf'));
    expect(output).toMatch(/^Error: bomb\.pdf was not read: its compressed streams expand to more than 32 MB/);
  });

  it('parses a burst of bombs two at a time, each refused, and the host lives', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-bomb-'));
    writeFileSync(join(directory, 'bomb.pdf'), pdfBomb());
    writeFileSync(join(directory, 'bomb.docx'), docxBomb());
    const [docRead] = createDocumentTools();
    const context = createToolContext({ workspace: directory });
    const outputs = await Promise.all(
      Array.from({ length: 8 }, async (_, index) => {
        const validation = docRead!.validate({ path: index % 2 === 0 ? 'bomb.pdf' : 'bomb.docx' });
        if (!validation.success) throw new Error('invalid');
        return Promise.resolve(docRead!.execute(validation.data, context)).then(
          String,
          (error: Error) => error.message,
        );
      }),
    );
    for (const output of outputs) expect(output).toMatch(/was not read: .* expand to more than 32 MB/);
  });

  it('stops a parse whose buffers outgrow the memory cap while its heap stays small', async () => {
    // In a worker thread, whose heap cap does not count typed arrays, this grew the host by
    // 1.3 GB (768 MB decoded) under a 64 MB cap, and the document was read.
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-bomb-'));
    const bomb = pdfBufferBomb(640);
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    writeFileSync(join(directory, 'buffers.pdf'), bomb);
    const { output, ticks } = await whileCounting(() =>
      read(directory, 'buffers.pdf', { maxParseMemoryMb: 64, parseTimeoutMs: 25_000 }),
    );
    expect(output).toMatch(/^Error: buffers\.pdf needs more than the 64 MB that reading a document may use/);
    expect(ticks).toBeGreaterThan(0);
  }, 40_000);

  it('reads a PDF that declares two billion pages by range, without a list of them', async () => {
    // "5-" used to become a Set of every page number on the host's thread: 33 million pages
    // (25 levels) cost 419 MB and a 1.3 s stall; with no range, two billion pages were an
    // Array.from({ length: 2 ** 31 }) there.
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-bomb-'));
    const bomb = pdfPageTreeBomb(31);
    expect(bomb.length).toBeLessThan(4096);
    writeFileSync(join(directory, 'pages.pdf'), bomb);
    const [docRead] = createDocumentTools({ maxCharacters: 20 });
    const context = createToolContext({ workspace: directory });
    const output = String(await docRead!.execute({ path: 'pages.pdf', pages: '5-', format: 'markdown' }, context));
    expect(output).toMatch(/^pages\.pdf: PDF, 2147483648 pages; showing pages 5-9\./);
    const whole = String(await docRead!.execute({ path: 'pages.pdf', format: 'text' }, context));
    expect(whole).toMatch(/^pages\.pdf: PDF, 2147483648 pages; showing pages 1-5\./);
  });

  it('stops a parse at its time limit with a clear error', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-bomb-'));
    writeFileSync(join(directory, 'bomb.pdf'), pdfBomb());
    const output = await read(directory, 'bomb.pdf', { maxExpandedBytes: 512 * 1024 * 1024, parseTimeoutMs: 1 });
    expect(output).toMatch(/^Error: bomb\.pdf took longer than 0\.001 s to read and was stopped/);
  });
});

describe('doc.read: HTML built to be slow', () => {
  it('converts HTML off the main thread, stops it at the time limit, and refuses HTML over the cap', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-html-'));
    const paragraph = '<p>Some <em>text</em> in a <a href="x">paragraph</a>.</p>';
    writeFileSync(join(directory, 'slow.html'), `<html><body>${paragraph.repeat(40_000)}</body></html>`);
    const { output, ticks } = await whileCounting(() => read(directory, 'slow.html', { parseTimeoutMs: 200 }));
    expect(output).toMatch(/^Error: slow\.html took longer than 0\.2 s to read and was stopped/);
    expect(ticks).toBeGreaterThan(0);
    expect(await read(directory, 'slow.html', { maxHtmlBytes: 1_000 })).toMatch(
      /^Error: slow\.html is \d+ characters of HTML, over the 1000-character limit for converting it/,
    );
  });

  it('refuses a small table whose markdown would be hundreds of times its size', async () => {
    // 160 KB of HTML: one row of 10,000 cells, then 1,000 empty rows, each padded to 10,000
    // cells. The 30 MB of markdown used to be sent back to the host (2,000 rows of 20,000: 120 MB).
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-html-'));
    const html = `<html><body><table><tr>${'<td>a</td>'.repeat(10_000)}</tr>${'<tr></tr>'.repeat(1_000)}</table></body></html>`;
    writeFileSync(join(directory, 'wide.html'), html);
    const output = await read(directory, 'wide.html');
    expect(output).toMatch(/^Error: wide\.html was not read: its text comes to \d+ characters, more than the 16777216/);
  });
});

describe('doc.read: XML entities', () => {
  it('expands no entity of a DOCX: not a file outside, not a protected one, not a billion laughs', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-xml-'));
    writeFileSync(join(directory, '.env'), 'API_KEY=sk-entity-secret');
    const external = `<!DOCTYPE d [<!ENTITY host SYSTEM "file:///etc/hostname"><!ENTITY key SYSTEM "file://${directory}/.env">]>`;
    writeFileSync(
      join(directory, 'external.docx'),
      docxWith('<w:p><w:r><w:t>a &host; &key; b</w:t></w:r></w:p>', external),
    );
    let laughs = '<!ENTITY l0 "lollollollollollollollollollol">';
    for (let level = 1; level <= 9; level++) laughs += `<!ENTITY l${level} "${`&l${level - 1};`.repeat(10)}">`;
    writeFileSync(
      join(directory, 'laughs.docx'),
      docxWith('<w:p><w:r><w:t>&l9;</w:t></w:r></w:p>', `<!DOCTYPE d [${laughs}]>`),
    );
    const outside = await read(directory, 'external.docx');
    expect(outside).toMatch(/^Error: external\.docx is not a readable DOCX file .*entity not found/);
    expect(outside).not.toContain('sk-entity-secret');
    expect(await read(directory, 'laughs.docx')).toMatch(
      /^Error: laughs\.docx is not a readable DOCX file .*entity not found/,
    );
  });
});

describe('doc.read: sections built to be slow', () => {
  it('finds headings in linear time, in the parsing process', async () => {
    // A 48 KB page whose heading is padded with 8,000 no-break spaces: the heading regular
    // expression, run on the host's thread, backtracked in cubic time and held it for 128 s.
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-html-'));
    const html = `<html><body><h1>Plan${'&nbsp;'.repeat(8_000)}x</h1><p>Body</p><h1>Other</h1></body></html>`;
    writeFileSync(join(directory, 'padded.html'), html);
    const [docRead] = createDocumentTools();
    const context = createToolContext({ workspace: directory });
    const { output, ticks } = await whileCounting(async () =>
      String(await docRead!.execute({ path: 'padded.html', section: 'Other', format: 'text' }, context)),
    );
    expect(output).toBe('padded.html: HTML document with 2 headings; showing section "Other".\n\nOther');
    expect(ticks).toBeGreaterThan(0);
  });

  it('lists long headings cut short when a section is not found', async () => {
    // Three headings of 50,000 characters each used to be listed whole in the error: 150 KB.
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-html-'));
    const long = 'h'.repeat(50_000);
    writeFileSync(
      join(directory, 'long.html'),
      `<html><body><h1>${long}</h1><h2>${long}</h2><h2>Short</h2></body></html>`,
    );
    const [docRead] = createDocumentTools();
    const error = await Promise.resolve(
      docRead!.execute(
        { path: 'long.html', section: 'Missing', format: 'markdown' },
        createToolContext({ workspace: directory }),
      ),
    ).then(
      () => '',
      (thrown: Error) => thrown.message,
    );
    expect(error).toMatch(
      /^long\.html: no heading matches "Missing"; use one of these headings exactly: # h{80}…; ## h{80}…; ## Short$/,
    );
  });

  it('says that HTML nested too deeply cannot be read', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-html-'));
    const depth = 20_000;
    writeFileSync(
      join(directory, 'deep.html'),
      `<html><body>${'<div>'.repeat(depth)}x${'</div>'.repeat(depth)}</body></html>`,
    );
    expect(await read(directory, 'deep.html')).toMatch(/^Error: deep\.html is nested too deeply to read/);
  });
});

describe('doc.read: a stopped run', () => {
  it('stops the parse under way and starts none of those waiting', async () => {
    // Without the run's signal, eight slow parses queued two at a time went on for their whole
    // time limit each after the run was stopped, starting a process for every one.
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-stop-'));
    const paragraph = '<p>Some <em>text</em> in a <a href="x">paragraph</a>.</p>';
    writeFileSync(join(directory, 'slow.html'), `<html><body>${paragraph.repeat(40_000)}</body></html>`);
    const [docRead] = createDocumentTools({ parseTimeoutMs: 20_000 });
    const controller = new AbortController();
    const context = createToolContext({ workspace: directory, abortSignal: controller.signal });
    const calls = Array.from({ length: 8 }, () =>
      Promise.resolve(docRead!.execute({ path: 'slow.html', format: 'markdown' }, context)).then(
        () => 'read',
        (error: Error) => error.message,
      ),
    );
    setTimeout(() => controller.abort(), 200);
    const outcomes = await Promise.all(calls);
    expect(outcomes).toEqual(Array(8).fill('slow.html was not read: the run was stopped.'));
  });
});

describe('doc.read: protected entries and links', () => {
  it('refuses protected entries and links that lead to them or outside', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-doc-protected-'));
    mkdirSync(join(directory, '.git'));
    writeFileSync(join(directory, '.git', 'notes.html'), '<p>secret</p>');
    writeFileSync(join(directory, '.env.html'), '<p>secret</p>');
    symlinkSync('.git/notes.html', join(directory, 'notes.html'));
    symlinkSync('/etc/hostname', join(directory, 'host.html'));
    expect(await read(directory, '.git/notes.html')).toMatch(/is protected/);
    expect(await read(directory, '.ENV.html')).toMatch(/is protected/);
    expect(await read(directory, 'notes.html')).toMatch(/is protected/);
    expect(await read(directory, 'host.html')).toMatch(/link that points outside the workspace|does not exist/);
  });
});
