import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createToolContext } from '../../tools/tool-context.js';
import {
  createFileTools,
  editFileTool,
  listFilesTool,
  readFileTool,
  searchFilesTool,
  statFileTool,
  writeFileTool,
} from './workspace-files.js';

function workspace(): string {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-files-'));
  mkdirSync(join(directory, 'data'));
  writeFileSync(join(directory, 'data', 'notes.txt'), 'hello');
  return directory;
}

function context(directory: string) {
  return createToolContext({ workspace: directory });
}

function numberedLines(count: number): string {
  return Array.from({ length: count }, (_, index) => `line ${index + 1}`).join('\n');
}

describe('workspace file tools', () => {
  it('lists, reads and writes inside the workspace', async () => {
    const directory = workspace();
    expect(await listFilesTool.execute({ path: '.' }, context(directory))).toBe('data/notes.txt (5 bytes)');
    expect(await readFileTool.execute({ path: 'data/notes.txt' }, context(directory))).toBe('hello');
    await writeFileTool.execute({ path: 'out/report.md', content: '# Report' }, context(directory));
    expect(readFileSync(join(directory, 'out', 'report.md'), 'utf8')).toBe('# Report');
  });

  it('refuses absolute paths, .. and links that lead outside', async () => {
    const directory = workspace();
    const outside = mkdtempSync(join(tmpdir(), 'hataraku-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(outside, join(directory, 'escape'));
    const call = (path: string) => readFileTool.execute({ path }, context(directory));
    await expect(async () => call('/etc/passwd')).rejects.toThrow(/absolute/);
    await expect(async () => call('../secret.txt')).rejects.toThrow(/outside the workspace/);
    await expect(async () => call('escape/secret.txt')).rejects.toThrow(/link that points outside/);
    await expect(async () =>
      writeFileTool.execute({ path: 'escape/new.txt', content: 'x' }, context(directory)),
    ).rejects.toThrow(/link that points outside/);
  });

  it('says a binary file is binary instead of returning garbage', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'image.bin'), Buffer.from([0x89, 0x50, 0x00, 0x01]));
    expect(await readFileTool.execute({ path: 'image.bin' }, context(directory))).toMatch(/binary file \(4 bytes\)/);
  });

  it('creates all six tools with their effects', () => {
    const tools = createFileTools();
    expect(tools.map((tool) => `${tool.name}:${tool.effect}`)).toEqual([
      'files.list:none',
      'files.read:none',
      'files.write:idempotent',
      'files.edit:side-effect',
      'files.search:none',
      'files.stat:none',
    ]);
    expect(() => createFileTools({ maxReadBytes: 0 })).toThrow(/maxReadBytes/);
  });
});

describe('files.read', () => {
  it('reads a line range and says where to continue', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'long.txt'), `${numberedLines(10)}\n`);
    const output = await readFileTool.execute({ path: 'long.txt', startLine: 3, endLine: 5 }, context(directory));
    expect(output).toBe('line 3\nline 4\nline 5\n[showing lines 3-5 of a 71-byte file; continue with startLine 6]');
  });

  it('reads to the end from a start line and states the total', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'long.txt'), numberedLines(4));
    const output = await readFileTool.execute({ path: 'long.txt', startLine: 3 }, context(directory));
    expect(output).toBe('line 3\nline 4\n[showing lines 3-4 of 4]');
  });

  it('caps the bytes returned and states the truncation', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'long.txt'), numberedLines(1000));
    const [, read] = createFileTools({ maxReadBytes: 30 });
    const output = String(await read!.execute({ path: 'long.txt' }, context(directory)));
    expect(output.startsWith('line 1\nline 2\nline 3\nline 4\nli')).toBe(true);
    expect(output).toMatch(/\[truncated: the 30-byte cap was reached inside line 5 .*continue with startLine 6/);
  });

  it('does not split a UTF-8 character at the cap', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'kana.txt'), 'はたらく'.repeat(10));
    const [, read] = createFileTools({ maxReadBytes: 7 });
    const output = String(await read!.execute({ path: 'kana.txt' }, context(directory)));
    expect(output.split('\n')[0]).toBe('はた');
  });

  it('explains a start line past the end, a missing file and a directory', async () => {
    const directory = workspace();
    await expect(async () =>
      readFileTool.execute({ path: 'data/notes.txt', startLine: 9 }, context(directory)),
    ).rejects.toThrow(/has only 1 lines/);
    await expect(async () => readFileTool.execute({ path: 'nope.txt' }, context(directory))).rejects.toThrow(
      /does not exist; call files.list/,
    );
    await expect(async () => readFileTool.execute({ path: 'data' }, context(directory))).rejects.toThrow(
      /is a directory/,
    );
    expect(readFileTool.validate({ path: 'a', startLine: 5, endLine: 2 }).success).toBe(false);
  });
});

describe('files.edit', () => {
  it('replaces a span that occurs exactly once', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'app.py'), 'DEBUG = True\nNAME = "x"\n');
    const output = await editFileTool.execute(
      { path: 'app.py', oldText: 'DEBUG = True', newText: 'DEBUG = False', replaceAll: false },
      context(directory),
    );
    expect(output).toBe('Replaced 1 occurrence in app.py (line 1).');
    expect(readFileSync(join(directory, 'app.py'), 'utf8')).toBe('DEBUG = False\nNAME = "x"\n');
  });

  it('refuses an ambiguous span, saying how often and where it occurs', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'app.py'), 'x = 1\ny = 2\nx = 1\n');
    await expect(async () =>
      editFileTool.execute(
        { path: 'app.py', oldText: 'x = 1', newText: 'x = 3', replaceAll: false },
        context(directory),
      ),
    ).rejects.toThrow(/occurs 2 times in "app.py" \(at lines 1, 3\); include more surrounding text/);
    expect(readFileSync(join(directory, 'app.py'), 'utf8')).toBe('x = 1\ny = 2\nx = 1\n');
    const output = await editFileTool.execute(
      { path: 'app.py', oldText: 'x = 1', newText: 'x = 3', replaceAll: true },
      context(directory),
    );
    expect(output).toBe('Replaced 2 occurrences in app.py (lines 1, 3).');
    expect(readFileSync(join(directory, 'app.py'), 'utf8')).toBe('x = 3\ny = 2\nx = 3\n');
  });

  it('says when the span is missing, so a repeated edit fails instead of applying twice', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'a.txt'), 'alpha');
    const edit = { path: 'a.txt', oldText: 'alpha', newText: 'beta', replaceAll: false };
    await editFileTool.execute(edit, context(directory));
    await expect(async () => editFileTool.execute(edit, context(directory))).rejects.toThrow(
      /oldText was not found in "a.txt".*copy the text/,
    );
    await expect(async () =>
      editFileTool.execute({ ...edit, path: 'missing.txt' }, context(directory)),
    ).rejects.toThrow(/does not exist; create it with files.write/);
  });
});

describe('files.search', () => {
  it('finds matches as path:line:text, filtered by glob', async () => {
    const directory = workspace();
    mkdirSync(join(directory, 'src', 'lib'), { recursive: true });
    writeFileSync(join(directory, 'src', 'main.py'), 'import os\ndef load_data():\n    pass\n');
    writeFileSync(join(directory, 'src', 'lib', 'io.py'), 'def save_data(x):\n    return x\n');
    writeFileSync(join(directory, 'src', 'notes.md'), 'def load_data is documented here\n');
    const output = await searchFilesTool.execute(
      { pattern: 'def (load|save)_', path: '.', glob: '*.py', caseSensitive: true, literal: false },
      context(directory),
    );
    expect(output).toBe('src/lib/io.py:1:def save_data(x):\nsrc/main.py:2:def load_data():');
  });

  it('supports literal text, case folding and path globs', async () => {
    const directory = workspace();
    mkdirSync(join(directory, 'src'));
    writeFileSync(join(directory, 'src', 'a.ts'), 'const total = price * (1 + TAX);\n');
    writeFileSync(join(directory, 'b.ts'), 'price * (1 + tax)\n');
    const output = await searchFilesTool.execute(
      { pattern: 'price * (1 + tax)', path: '.', glob: 'src/**/*.ts', caseSensitive: false, literal: true },
      context(directory),
    );
    expect(output).toBe('src/a.ts:1:const total = price * (1 + TAX);');
  });

  it('caps the matches and states the total', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'many.txt'), Array.from({ length: 50 }, () => 'hit').join('\n'));
    const search = createFileTools({ maxSearchMatches: 5 }).find((tool) => tool.name === 'files.search')!;
    const output = String(
      await search.execute({ pattern: 'hit', path: '.', caseSensitive: true, literal: false }, context(directory)),
    );
    expect(output.split('\n').slice(0, 5)).toEqual([1, 2, 3, 4, 5].map((line) => `many.txt:${line}:hit`));
    expect(output).toMatch(/\[truncated: showing 5 of 50 matches/);
  });

  it('explains an invalid pattern', async () => {
    const directory = workspace();
    await expect(async () =>
      searchFilesTool.execute({ pattern: 'load(', path: '.', caseSensitive: true, literal: false }, context(directory)),
    ).rejects.toThrow(/not a valid regular expression.*literal to true/);
  });

  it('stops a catastrophically slow pattern at the time limit and stays responsive', async () => {
    const directory = workspace();
    writeFileSync(join(directory, 'evil.txt'), `${'a'.repeat(40)}!\n`);
    const search = createFileTools({ searchTimeoutMs: 300 }).find((tool) => tool.name === 'files.search')!;
    const started = Date.now();
    const output = String(
      await search.execute({ pattern: '^(a+)+$', path: '.', caseSensitive: true, literal: false }, context(directory)),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(output).toMatch(/stopped after 300 ms: results are incomplete/);
  });
});

describe('files.stat', () => {
  it('describes files, directories and missing paths', async () => {
    const directory = workspace();
    const file = String(await statFileTool.execute({ path: 'data/notes.txt' }, context(directory)));
    expect(file).toMatch(/^path: data\/notes.txt\ntype: file\nsize: 5 bytes\ncontent: text\nmodified: \d{4}-/);
    const folder = String(await statFileTool.execute({ path: 'data' }, context(directory)));
    expect(folder).toMatch(/type: directory\nentries: 1/);
    expect(await statFileTool.execute({ path: 'ghost.txt' }, context(directory))).toBe('ghost.txt does not exist.');
  });
});
