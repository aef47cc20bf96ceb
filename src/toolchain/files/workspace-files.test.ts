import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createToolContext } from '../../tools/tool-context.js';
import { listFilesTool, readFileTool, writeFileTool } from './workspace-files.js';

function workspace(): string {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-files-'));
  mkdirSync(join(directory, 'data'));
  writeFileSync(join(directory, 'data', 'notes.txt'), 'hello');
  return directory;
}

function context(directory: string) {
  return createToolContext({ workspace: directory });
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
});
