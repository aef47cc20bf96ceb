import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createToolContext } from '../../tools/tool-context.js';
import { createDocumentTools } from './doc-read-tool.js';

const fixtures = join(import.meta.dirname, '__fixtures__');
const [docRead] = createDocumentTools();

/** A workspace holding copies of every fixture. */
function workspace(): string {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-docs-'));
  for (const name of readdirSync(fixtures)) copyFileSync(join(fixtures, name), join(directory, name));
  return directory;
}

async function read(directory: string, args: Record<string, unknown>): Promise<string> {
  const validation = docRead!.validate(args);
  if (!validation.success) throw new Error(JSON.stringify(validation.issues));
  return String(await docRead!.execute(validation.data, createToolContext({ workspace: directory })));
}

describe('doc.read: PDF', () => {
  it('extracts every page with page headings', async () => {
    const output = await read(workspace(), { path: 'report.pdf' });
    expect(output).toBe(
      [
        'report.pdf: PDF, 3 pages; showing all pages.',
        '',
        '## Page 1\n\nQuarterly Report\nPage one: revenue grew 12 percent.',
        '',
        '## Page 2\n\nRegional Results\nPage two: the north region led sales.',
        '',
        '## Page 3\n\nOutlook\nPage three: we expect steady growth.',
      ].join('\n'),
    );
  });

  it('reads a page range', async () => {
    const output = await read(workspace(), { path: 'report.pdf', pages: '2-3' });
    expect(output.split('\n')[0]).toBe('report.pdf: PDF, 3 pages; showing pages 2-3.');
    expect(output).toContain('## Page 2');
    expect(output).not.toContain('Quarterly');
    const single = await read(workspace(), { path: 'report.pdf', pages: '3', format: 'text' });
    expect(single).toBe('report.pdf: PDF, 3 pages; showing page 3.\n\nOutlook\nPage three: we expect steady growth.');
  });

  it('explains a bad page range', async () => {
    await expect(read(workspace(), { path: 'report.pdf', pages: '7' })).rejects.toThrow(
      /starts past the end: the document has 3 pages/,
    );
    await expect(read(workspace(), { path: 'report.pdf', pages: 'first' })).rejects.toThrow(/write it like "3", "1-3"/);
  });

  it('says an encrypted PDF needs a password, and reads it with the right one', async () => {
    const directory = workspace();
    await expect(read(directory, { path: 'encrypted.pdf' })).rejects.toThrow(
      /encrypted.pdf is an encrypted PDF that needs a password; ask the user/,
    );
    await expect(read(directory, { path: 'encrypted.pdf', password: 'guess' })).rejects.toThrow(
      /password given .* is wrong/,
    );
    expect(await read(directory, { path: 'encrypted.pdf', password: 'userpass', pages: '1' })).toContain(
      'revenue grew 12 percent',
    );
  });

  it('says a corrupt PDF is damaged', async () => {
    await expect(read(workspace(), { path: 'corrupt.pdf' })).rejects.toThrow(/corrupt.pdf is not a readable PDF/);
  });
});

describe('doc.read: DOCX', () => {
  it('converts headings and emphasis to markdown', async () => {
    const output = await read(workspace(), { path: 'plan.docx' });
    expect(output).toBe(
      [
        'plan.docx: DOCX document with 4 headings; showing all of it.',
        '',
        '# Project Plan',
        '',
        'This plan covers the spring release.',
        '',
        '## Goals',
        '',
        'Ship the toolchain and **keep it safe.**',
        '',
        '## Risks',
        '',
        'Parsers of untrusted files may fail.',
        '',
        '# Appendix',
        '',
        'Contact the team for details.',
      ].join('\n'),
    );
  });

  it('reads one section, up to the next heading of its level', async () => {
    const output = await read(workspace(), { path: 'plan.docx', section: 'project plan' });
    expect(output.endsWith('Parsers of untrusted files may fail.')).toBe(true);
    expect(output).not.toContain('Appendix');
    const goals = await read(workspace(), { path: 'plan.docx', section: 'Goals', format: 'text' });
    expect(goals).toBe(
      'plan.docx: DOCX document with 4 headings; showing section "Goals".\n\nGoals\n\nShip the toolchain and keep it safe.',
    );
  });

  it('lists the headings when a section is not found', async () => {
    await expect(read(workspace(), { path: 'plan.docx', section: 'Budget' })).rejects.toThrow(
      /no heading matches "Budget"; use one of these headings exactly: # Project Plan; ## Goals; ## Risks; # Appendix/,
    );
  });

  it('says a corrupt DOCX is damaged', async () => {
    await expect(read(workspace(), { path: 'corrupt.docx' })).rejects.toThrow(
      /corrupt.docx is not a readable DOCX file/,
    );
  });
});

describe('doc.read: HTML', () => {
  it('drops scripts and styles and keeps structure, tables included', async () => {
    const output = await read(workspace(), { path: 'article.html' });
    expect(output).not.toMatch(/tracking|color: red/);
    expect(output).toContain('A short guide with **bold advice** and a [link](https://example.org/more).');
    expect(output).toContain('| Bird | Color |\n| --- | --- |\n| Robin | Red |\n| Jay | Blue |');
  });

  it('reads a section, ignoring "#" lines inside code blocks', async () => {
    const output = await read(workspace(), { path: 'article.html', section: 'Trees' });
    expect(output).toBe(
      'article.html: HTML document with 3 headings; showing section "Trees".\n\n## Trees\n\n-   Oak\n-   Birch\n\n```\n# not a heading\nprint("hi")\n```\n\nCopyright footer',
    );
  });
});

describe('doc.read: limits and misuse', () => {
  it('caps the output and says how to read the rest', async () => {
    const [small] = createDocumentTools({ maxCharacters: 40 });
    const output = String(
      await small!.execute({ path: 'report.pdf', format: 'markdown' }, createToolContext({ workspace: workspace() })),
    );
    expect(output).toMatch(/\[truncated: showing 40 of \d+ characters; read fewer pages with `pages`\]$/);
  });

  it('refuses unsupported files, wrong range kinds and paths outside the workspace', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'notes.txt'), 'plain');
    await expect(read(directory, { path: 'notes.txt' })).rejects.toThrow(/reads PDF, DOCX and HTML files.*files.read/);
    await expect(read(directory, { path: 'plan.docx', pages: '1' })).rejects.toThrow(/applies to PDF files only/);
    await expect(read(directory, { path: 'report.pdf', section: 'Outlook' })).rejects.toThrow(/use `pages` instead/i);
    await expect(read(directory, { path: '../etc/passwd' })).rejects.toThrow(/outside the workspace/);
    await expect(read(directory, { path: 'missing.pdf' })).rejects.toThrow(/does not exist/);
    const [tiny] = createDocumentTools({ maxFileBytes: 100 });
    await expect(
      Promise.resolve().then(() =>
        tiny!.execute({ path: 'report.pdf', format: 'markdown' }, createToolContext({ workspace: directory })),
      ),
    ).rejects.toThrow(/over the 100-byte limit/);
  });
});
