/**
 * Workspace file access for sandboxes and charts, never following a link: open first, then
 * verify what was opened. A separate process flips links under the paths while thousands of
 * reads and writes run; not one may touch a file outside the workspace. Then each refusal on
 * its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProtectedPaths } from './protected-paths.js';
import {
  listDirectoryWithoutLinks,
  readFileWithoutLinks,
  removeFileWithoutLinks,
  WorkspaceFileError,
  workspaceAccess,
  writeFileWithoutLinks,
} from './workspace-access.js';

const linux = process.platform === 'linux';
let workspace: string;
let outside: string;
const protectedPaths = createProtectedPaths();
const access = () => workspaceAccess(workspace, protectedPaths);

beforeEach(() => {
  workspace = mkdtempSync(join(tmpdir(), 'descriptors-workspace-'));
  outside = mkdtempSync(join(tmpdir(), 'descriptors-outside-'));
  writeFileSync(join(outside, 'target.txt'), 'outside secret');
});

afterEach(() => {
  rmSync(workspace, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** A process that keeps swapping `out/` and `file.txt` between real entries and links to `outside`. */
function startFlipper(): ChildProcess {
  const source = String.raw`
const fs = require('node:fs');
const [workspace, outside] = process.argv.slice(1);
const directory = workspace + '/out';
const file = workspace + '/file.txt';
let flips = 0;
for (;;) {
  try { fs.rmSync(directory, { recursive: true, force: true }); fs.symlinkSync(outside, directory); } catch {}
  try { fs.rmSync(file, { force: true }); fs.symlinkSync(outside + '/target.txt', file); } catch {}
  try { fs.rmSync(directory, { recursive: true, force: true }); fs.mkdirSync(directory); } catch {}
  try { fs.rmSync(file, { force: true }); fs.writeFileSync(file, 'inside'); } catch {}
  if (++flips % 200 === 0) process.stdout.write('flip\n');
}
`;
  return spawn(process.execPath, ['-e', source, workspace, outside], { stdio: ['ignore', 'pipe', 'inherit'] });
}

describe.skipIf(!linux)('a concurrent link flipper', () => {
  it('gets zero escapes over thousands of reads and writes', async () => {
    const flipper = startFlipper();
    let flips = 0;
    flipper.stdout?.on('data', (chunk: Buffer) => {
      flips += chunk.toString().split('\n').filter(Boolean).length * 200;
    });
    await new Promise<void>((resolve) => flipper.stdout?.once('data', () => resolve()));
    const outcomes = { written: 0, read: 0, refused: 0, readOutside: 0 };
    try {
      for (let round = 0; round < 1_500; round++) {
        for (const path of ['out/written.txt', 'file.txt', `out/nested-${round % 5}/deep.txt`]) {
          try {
            writeFileWithoutLinks(access(), path, `round ${round}`);
            outcomes.written++;
          } catch {
            outcomes.refused++;
          }
        }
        for (const path of ['file.txt', 'out/written.txt']) {
          try {
            const text = readFileWithoutLinks(access(), path, 1_000).toString();
            if (text.includes('outside secret')) outcomes.readOutside++;
            outcomes.read++;
          } catch {
            outcomes.refused++;
          }
        }
        // Let the flipper's output in now and then.
        if (round % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      flipper.kill('SIGKILL');
    }
    // The flipper really ran alongside, and the operations really happened.
    expect(flips).toBeGreaterThan(0);
    expect(outcomes.written + outcomes.read + outcomes.refused).toBe(1_500 * 5);
    expect(outcomes.written).toBeGreaterThan(0);
    // Zero escapes: nothing created or changed outside, nothing read from outside.
    expect(readdirSync(outside)).toEqual(['target.txt']);
    expect(readFileSync(join(outside, 'target.txt'), 'utf8')).toBe('outside secret');
    expect(outcomes.readOutside).toBe(0);
  }, 120_000);
});

describe('each refusal', () => {
  const reason = (action: () => unknown): string | undefined => {
    try {
      action();
      return undefined;
    } catch (error) {
      return error instanceof WorkspaceFileError ? error.reason : `unexpected: ${String(error)}`;
    }
  };

  it('writes and reads a plain file, creating its directories', () => {
    expect(writeFileWithoutLinks(access(), 'a/b/c.txt', 'hello')).toBe(5);
    expect(readFileWithoutLinks(access(), 'a/b/c.txt', 100).toString()).toBe('hello');
    expect(listDirectoryWithoutLinks(access(), 'a/b')).toEqual(['c.txt']);
    removeFileWithoutLinks(access(), 'a/b/c.txt');
    expect(existsSync(join(workspace, 'a/b/c.txt'))).toBe(false);
  });

  it('refuses absolute paths, "..", NUL bytes and protected entries', () => {
    expect(reason(() => writeFileWithoutLinks(access(), join(outside, 'x'), 'x'))).toBe('invalid-path');
    expect(reason(() => writeFileWithoutLinks(access(), '../x', 'x'))).toBe('invalid-path');
    expect(reason(() => writeFileWithoutLinks(access(), 'a\0b', 'x'))).toBe('invalid-path');
    for (const path of ['.env', '.git/config', 'sub/.git/hooks/pre-commit', 'hataraku.config.json', '.hataraku/x.db']) {
      expect(
        reason(() => writeFileWithoutLinks(access(), path, 'x')),
        path,
      ).toBe('protected');
      expect(
        reason(() => readFileWithoutLinks(access(), path, 10)),
        path,
      ).toBe('protected');
    }
    expect(readdirSync(workspace)).toEqual([]);
  });

  it('never follows a link, in the middle or at the end, and creates nothing outside', () => {
    symlinkSync(outside, join(workspace, 'out'));
    symlinkSync(join(outside, 'target.txt'), join(workspace, 'file.txt'));
    symlinkSync(join(outside, 'missing.txt'), join(workspace, 'dangling.txt'));
    expect(reason(() => writeFileWithoutLinks(access(), 'out/new/x.txt', 'x'))).toBe('outside-workspace');
    expect(reason(() => writeFileWithoutLinks(access(), 'file.txt', 'x'))).toBe('outside-workspace');
    expect(reason(() => writeFileWithoutLinks(access(), 'dangling.txt', 'x'))).toBe('outside-workspace');
    expect(reason(() => readFileWithoutLinks(access(), 'file.txt', 100))).toBe('outside-workspace');
    expect(reason(() => listDirectoryWithoutLinks(access(), 'out'))).toBe('outside-workspace');
    removeFileWithoutLinks(access(), 'file.txt');
    expect(readdirSync(outside)).toEqual(['target.txt']);
    expect(readFileSync(join(outside, 'target.txt'), 'utf8')).toBe('outside secret');
  });

  it('refuses a file with another hard link, without changing it', () => {
    const shared = join(workspace, 'shared.txt');
    writeFileSync(shared, 'original');
    linkSync(shared, join(workspace, 'alias.txt'));
    expect(reason(() => writeFileWithoutLinks(access(), 'alias.txt', 'changed'))).toBe('not-a-regular-file');
    expect(readFileSync(shared, 'utf8')).toBe('original');
  });

  it.skipIf(!linux)('refuses a FIFO at once instead of blocking on it', async () => {
    mkdirSync(join(workspace, 'pipes'));
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [join(workspace, 'pipes', 'fifo')]);
    expect(reason(() => writeFileWithoutLinks(access(), 'pipes/fifo', 'x'))).toBe('not-a-regular-file');
    expect(reason(() => readFileWithoutLinks(access(), 'pipes/fifo', 10))).toBe('not-a-regular-file');
  });

  it('enforces the read cap', () => {
    writeFileSync(join(workspace, 'big.txt'), 'x'.repeat(100));
    expect(reason(() => readFileWithoutLinks(access(), 'big.txt', 10))).toBe('too-large');
  });
});
