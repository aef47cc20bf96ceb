/**
 * Security suite, workspace access: protected entries, hard links, and check-then-use races.
 * A second process flips a link between a directory inside the workspace and one outside while
 * the file tools read and write through it thousands of times: nothing outside may be read,
 * written or created.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createToolContext } from '../../tools/tool-context.js';
import { createProtectedPaths } from './protected-paths.js';
import { createFileTools } from './workspace-files.js';

const tools = new Map(createFileTools().map((tool) => [tool.name, tool]));

async function call(name: string, args: Record<string, unknown>, workspace: string, toolMap = tools): Promise<string> {
  const tool = toolMap.get(name);
  if (tool === undefined) throw new Error(`no tool ${name}`);
  const validation = tool.validate(args);
  if (!validation.success) return `Invalid: ${validation.issues.map((issue) => issue.message).join('; ')}`;
  try {
    return String(await tool.execute(validation.data, createToolContext({ workspace })));
  } catch (error) {
    return `Error from ${name}: ${(error as Error).message}`;
  }
}

function setup() {
  const workspace = realpathSync(mkdtempSync(join(tmpdir(), 'hataraku-access-')));
  const outside = realpathSync(mkdtempSync(join(tmpdir(), 'hataraku-access-outside-')));
  writeFileSync(join(outside, 'secret.txt'), 'TOP-SECRET');
  mkdirSync(join(workspace, '.git'));
  writeFileSync(join(workspace, '.git', 'config'), '[core]\n\tbare = false\n');
  mkdirSync(join(workspace, '.hataraku'));
  writeFileSync(join(workspace, '.hataraku', 'hataraku.db'), 'journal');
  writeFileSync(join(workspace, 'hataraku.config.json'), '{"model":"openai:gpt-4o-mini"}');
  writeFileSync(join(workspace, '.env'), 'OPENAI_API_KEY=sk-secret');
  writeFileSync(join(workspace, '.env.local'), 'TOKEN=secret');
  mkdirSync(join(workspace, 'vendor', 'lib', '.git'), { recursive: true });
  writeFileSync(join(workspace, 'vendor', 'lib', '.git', 'HEAD'), 'ref: refs/heads/main');
  writeFileSync(join(workspace, 'notes.txt'), 'hello');
  return { workspace, outside };
}

describe('protected entries', () => {
  const protectedPaths = [
    '.git/config',
    '.GIT/config',
    '.git',
    './.git/hooks/pre-commit',
    'notes/../.git/config',
    '.hataraku/hataraku.db',
    '.Hataraku/hataraku.db',
    'hataraku.config.json',
    'HATARAKU.CONFIG.JSON',
    '.env',
    '.env.local',
    '.ENV.production',
    'vendor/lib/.git/HEAD',
  ];

  it.each(protectedPaths)('no file tool reads or writes %j', async (path) => {
    const { workspace } = setup();
    const before = readFileSync(join(workspace, '.git', 'config'), 'utf8');
    for (const [name, args] of [
      ['files.read', { path }],
      ['files.stat', { path }],
      ['files.list', { path }],
      ['files.search', { pattern: '.', path }],
      ['files.write', { path, content: 'pwned' }],
      ['files.edit', { path, oldText: 'bare', newText: 'pwned' }],
    ] as const) {
      const output = await call(name, args, workspace);
      expect(output, `${name} ${path}`).toMatch(/is protected \(.*\.git.*\): no tool may read or write it/);
    }
    expect(readFileSync(join(workspace, '.git', 'config'), 'utf8')).toBe(before);
    expect(readFileSync(join(workspace, '.env'), 'utf8')).toBe('OPENAI_API_KEY=sk-secret');
  });

  it('refuses a link inside the workspace that points at a protected entry', async () => {
    const { workspace } = setup();
    symlinkSync('.git/config', join(workspace, 'innocent.txt'));
    symlinkSync('.git', join(workspace, 'repo'));
    symlinkSync('.env', join(workspace, 'settings.txt'));
    for (const path of ['innocent.txt', 'repo/config', 'settings.txt']) {
      expect(await call('files.read', { path }, workspace)).toMatch(/is protected/);
      expect(await call('files.write', { path, content: 'x' }, workspace)).toMatch(/is protected/);
    }
    expect(readFileSync(join(workspace, '.env'), 'utf8')).toBe('OPENAI_API_KEY=sk-secret');
  });

  it('leaves protected entries out of listings and searches', async () => {
    const { workspace } = setup();
    expect(await call('files.list', { path: '.' }, workspace)).toBe('notes.txt (5 bytes)');
    expect(await call('files.search', { pattern: 'secret|bare|journal|refs|gpt' }, workspace)).toBe(
      'No matches for /secret|bare|journal|refs|gpt/ in 1 files.',
    );
  });

  it('protects the configured patterns in addition to the defaults', async () => {
    const { workspace } = setup();
    mkdirSync(join(workspace, 'keys'));
    writeFileSync(join(workspace, 'keys', 'id_rsa'), 'PRIVATE');
    const custom = new Map(
      createFileTools({ protectedPaths: createProtectedPaths(['.git', 'keys/', '*.pem']) }).map((tool) => [
        tool.name,
        tool,
      ]),
    );
    expect(await call('files.read', { path: 'keys/id_rsa' }, workspace, custom)).toMatch(/is protected/);
    expect(await call('files.write', { path: 'server.PEM', content: 'x' }, workspace, custom)).toMatch(/is protected/);
    expect(existsSync(join(workspace, 'server.PEM'))).toBe(false);
    // An anchored file pattern reached through a link to its directory.
    mkdirSync(join(workspace, 'config'));
    writeFileSync(join(workspace, 'config', 'prod.json'), '{}');
    symlinkSync('config', join(workspace, 'settings'));
    const anchored = new Map(
      createFileTools({ protectedPaths: createProtectedPaths(['config/prod.json']) }).map((tool) => [tool.name, tool]),
    );
    expect(await call('files.write', { path: 'settings/prod.json', content: 'x' }, workspace, anchored)).toMatch(
      /is protected/,
    );
    expect(await call('files.read', { path: 'settings/prod.json' }, workspace, anchored)).toMatch(/is protected/);
    expect(readFileSync(join(workspace, 'config', 'prod.json'), 'utf8')).toBe('{}');
  });
});

describe('hard links and odd names', () => {
  it('refuses to read a file with a second name, and writes replace the name only', async () => {
    const { workspace, outside } = setup();
    // A hard link needs the same file system; the temporary directory gives both.
    linkSync(join(outside, 'secret.txt'), join(workspace, 'alias.txt'));
    expect(await call('files.read', { path: 'alias.txt' }, workspace)).toMatch(/has 2 hard links/);
    expect(await call('files.edit', { path: 'alias.txt', oldText: 'TOP', newText: 'x' }, workspace)).toMatch(
      /has 2 hard links/,
    );
    expect(await call('files.write', { path: 'alias.txt', content: 'replaced' }, workspace)).toBe(
      'Wrote 8 bytes to alias.txt.',
    );
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('TOP-SECRET');
    expect(readFileSync(join(workspace, 'alias.txt'), 'utf8')).toBe('replaced');
  });

  it('handles unicode names, long names and `..` through a link lexically', async () => {
    const { workspace, outside } = setup();
    expect(await call('files.write', { path: 'données/résumé-日本.txt', content: 'ok' }, workspace)).toMatch(/^Wrote/);
    expect(await call('files.read', { path: 'données/résumé-日本.txt' }, workspace)).toBe('ok');
    expect(await call('files.write', { path: `${'a'.repeat(300)}.txt`, content: 'x' }, workspace)).toMatch(
      /^Error from files\.write: "a{80}…" is too long; use a shorter name\.$/,
    );
    symlinkSync(join(outside), join(workspace, 'out'));
    // `out/..` is the workspace itself when read as a path, never the outside directory's parent.
    expect(await call('files.read', { path: 'out/../notes.txt' }, workspace)).toBe('hello');
    expect(await call('files.read', { path: 'out/../../etc/passwd' }, workspace)).toMatch(/outside the workspace/);
  });

  it('never creates anything outside through a dangling directory link', async () => {
    const { workspace, outside } = setup();
    symlinkSync(join(outside, 'new-dir'), join(workspace, 'drop'));
    expect(await call('files.write', { path: 'drop/file.txt', content: 'x' }, workspace)).toMatch(
      /link whose target does not exist/,
    );
    expect(readdirSync(outside)).toEqual(['secret.txt']);
  });
});

describe('check-then-use races', () => {
  let flipper: ChildProcess | undefined;
  afterEach(() => {
    flipper?.kill('SIGKILL');
    flipper = undefined;
  });

  it('a link flipped between inside and outside never lets a read or a write escape', async () => {
    const { workspace, outside } = setup();
    mkdirSync(join(workspace, 'inside'));
    writeFileSync(join(workspace, 'inside', 'secret.txt'), 'inside');
    symlinkSync('inside', join(workspace, 'flip'));
    // Swap `flip` atomically (a rename over it) between the two directories, as fast as it goes.
    const script = `
      const fs = require('node:fs');
      const [workspace, outside] = process.argv.slice(1);
      let i = 0;
      for (;;) {
        const temporary = workspace + '/flip.' + (i % 2);
        try { fs.unlinkSync(temporary); } catch {}
        fs.symlinkSync(i % 2 === 0 ? outside : 'inside', temporary);
        fs.renameSync(temporary, workspace + '/flip');
        i++;
      }`;
    flipper = spawn(process.execPath, ['-e', script, workspace, outside], { stdio: 'ignore' });
    const outcomes = { read: 0, refused: 0, written: 0 };
    for (let round = 0; round < 2_000; round++) {
      const read = await call('files.read', { path: 'flip/secret.txt' }, workspace);
      expect(read).not.toContain('TOP-SECRET');
      if (read === 'inside') outcomes.read++;
      else outcomes.refused++;
      const written = await call(
        'files.write',
        { path: `flip/written-${round % 10}.txt`, content: 'pwned' },
        workspace,
      );
      if (written.startsWith('Wrote')) outcomes.written++;
      const edited = await call('files.edit', { path: 'flip/secret.txt', oldText: 'TOP', newText: 'pwned' }, workspace);
      expect(edited).not.toMatch(/^Replaced/);
      const stat = await call('files.stat', { path: 'flip/secret.txt' }, workspace);
      expect(stat).not.toMatch(/size: 10 bytes/);
    }
    flipper.kill('SIGKILL');
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('TOP-SECRET');
    // The race really happened: both sides of the flip were seen.
    expect(outcomes.read).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.written).toBeGreaterThan(0);
  }, 120_000);
});
