/**
 * Security suite, file tools: path traversal, symbolic-link escape and huge files. Every attempt
 * must end in a clear refusal (or a bounded answer), nothing outside the workspace may be read or
 * written, and the process must stay healthy.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tool } from '../../tools/tool.js';
import { createToolContext } from '../../tools/tool-context.js';
import { createFileTools } from './workspace-files.js';

const tools = new Map(createFileTools().map((tool) => [tool.name, tool]));

function fileTool(name: string): Tool {
  const found = tools.get(name);
  if (found === undefined) throw new Error(`no tool ${name}`);
  return found;
}

/** Call a tool as the agent loop does: validate, execute, and turn a throw into the error text. */
async function call(name: string, args: Record<string, unknown>, workspace: string): Promise<string> {
  const tool = fileTool(name);
  const validation = tool.validate(args);
  if (!validation.success) return `Invalid: ${validation.issues.map((issue) => issue.message).join('; ')}`;
  try {
    return String(await tool.execute(validation.data, createToolContext({ workspace })));
  } catch (error) {
    return `Error from ${name}: ${(error as Error).message}`;
  }
}

function setup() {
  const workspace = mkdtempSync(join(tmpdir(), 'hataraku-security-'));
  const outside = mkdtempSync(join(tmpdir(), 'hataraku-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'TOP-SECRET-CONTENT');
  mkdirSync(join(workspace, 'data'));
  writeFileSync(join(workspace, 'data', 'notes.txt'), 'hello');
  return { workspace, outside };
}

/** The same path tried with every tool that takes one. */
function attempts(path: string): Array<[string, Record<string, unknown>]> {
  return [
    ['files.list', { path }],
    ['files.read', { path }],
    ['files.stat', { path }],
    ['files.search', { pattern: '.', path }],
    ['files.write', { path, content: 'pwned' }],
    ['files.edit', { path, oldText: 'root', newText: 'pwned' }],
  ];
}

describe('file tools: path traversal', () => {
  it.each([
    ['../../etc/passwd', /outside the workspace/],
    ['data/../../../etc/passwd', /outside the workspace/],
    ['..', /outside the workspace/],
    ['/etc/passwd', /absolute/],
    ['data/\0/../../etc/passwd', /NUL byte/],
  ])('refuses %j with every tool', async (path, message) => {
    const { workspace } = setup();
    for (const [name, args] of attempts(path)) {
      const output = await call(name, args, workspace);
      expect(output, name).toMatch(new RegExp(`^Error from ${name.replace('.', '\\.')}: .*${message.source}`));
      expect(output).not.toMatch(/root:/);
    }
    expect(readFileSync('/etc/passwd', 'utf8')).not.toContain('pwned');
  });

  it.each(['%2e%2e/%2e%2e/etc/passwd', '..%2f..%2fetc%2fpasswd', '..\\..\\etc\\passwd', '~/.ssh/id_rsa'])(
    'treats encoded or foreign forms like %j as plain names inside the workspace',
    async (path) => {
      const { workspace } = setup();
      expect(await call('files.read', { path }, workspace)).toMatch(/does not exist/);
      expect(await call('files.write', { path, content: 'inside' }, workspace)).toMatch(/^Wrote 6 bytes/);
      // The file landed inside the workspace, under its literal name.
      expect(readFileSync(join(workspace, path), 'utf8')).toBe('inside');
    },
  );
});

describe('file tools: paths too long or too deep', () => {
  it('refuses them before making any directory, with every tool', async () => {
    // files.write made 2,000 directories of a 3,000-level path before the system refused the
    // rest, a tree every later walk of the workspace (code.run's included) failed on.
    const { workspace } = setup();
    for (const path of [
      `${'d/'.repeat(3000)}x.txt`,
      `${'d/'.repeat(64)}x.txt`,
      `${'n'.repeat(200)}/${'m'.repeat(900)}`,
    ]) {
      for (const [name, args] of attempts(path)) {
        expect(await call(name, args, workspace)).toMatch(
          /is too long \(\d+ characters, \d+ levels\); a workspace path may have at most 1024 characters and 64 levels/,
        );
      }
    }
    expect(readdirSync(workspace)).toEqual(['data']);
    expect(await call('files.write', { path: `${'d/'.repeat(63)}x.txt`, content: 'deep' }, workspace)).toMatch(
      /^Wrote 4 bytes/,
    );
  });
});

describe('file tools: symbolic-link escape', () => {
  it('refuses a file link, a directory link and a relative link that point outside', async () => {
    const { workspace, outside } = setup();
    symlinkSync('/etc/passwd', join(workspace, 'passwd'));
    symlinkSync('/etc', join(workspace, 'etc'));
    symlinkSync(outside, join(workspace, 'data', 'vault'));
    symlinkSync('../..', join(workspace, 'data', 'up'));
    for (const path of ['passwd', 'etc/passwd', 'etc', 'data/vault/secret.txt', 'data/up', 'data/up/etc/passwd']) {
      for (const [name, args] of attempts(path)) {
        const output = await call(name, args, workspace);
        expect(output, `${name} ${path}`).toMatch(/link that points outside the workspace/);
        expect(output).not.toMatch(/root:|TOP-SECRET/);
      }
    }
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('TOP-SECRET-CONTENT');
  });

  it('refuses a chain of links whose last hop leaves the workspace', async () => {
    const { workspace, outside } = setup();
    symlinkSync(outside, join(workspace, 'hop2'));
    symlinkSync('hop2', join(workspace, 'hop1'));
    expect(await call('files.read', { path: 'hop1/secret.txt' }, workspace)).toMatch(/link that points outside/);
  });

  it('refuses to write through a dangling link, which would create its target outside', async () => {
    const { workspace, outside } = setup();
    const target = join(outside, 'created-by-link.txt');
    symlinkSync(target, join(workspace, 'drop.txt'));
    expect(await call('files.write', { path: 'drop.txt', content: 'x' }, workspace)).toMatch(
      /link whose target does not exist/,
    );
    expect(existsSync(target)).toBe(false);
  });

  it('lists and searches without following links out of the workspace', async () => {
    const { workspace, outside } = setup();
    symlinkSync('/etc', join(workspace, 'etc'));
    symlinkSync(outside, join(workspace, 'vault'));
    const listing = await call('files.list', { path: '.' }, workspace);
    expect(listing).toBe(`data/notes.txt (5 bytes)\netc -> /etc\nvault -> ${outside}`);
    const search = await call('files.search', { pattern: 'root:|TOP-SECRET' }, workspace);
    expect(search).toBe('No matches for /root:|TOP-SECRET/ in 1 files.');
  });

  it('allows links that stay inside the workspace', async () => {
    const { workspace } = setup();
    symlinkSync('data/notes.txt', join(workspace, 'shortcut.txt'));
    expect(await call('files.read', { path: 'shortcut.txt' }, workspace)).toBe('hello');
  });
});

describe('file tools: huge files', () => {
  const gigabytes = 5 * 1024 ** 3;

  it('answers quickly and in bounded memory for a sparse 5 GB file', async () => {
    const { workspace } = setup();
    const path = join(workspace, 'huge.bin');
    writeFileSync(path, '');
    truncateSync(path, gigabytes);
    const memoryBefore = process.memoryUsage().rss;
    const started = Date.now();
    expect(await call('files.read', { path: 'huge.bin' }, workspace)).toBe(
      `huge.bin is a binary file (${gigabytes} bytes); it cannot be read as text.`,
    );
    expect(await call('files.stat', { path: 'huge.bin' }, workspace)).toMatch(
      /size: 5368709120 bytes\ncontent: binary/,
    );
    expect(await call('files.search', { pattern: 'x' }, workspace)).toMatch(/skipped 1 files over 10485760 bytes/);
    expect(await call('files.edit', { path: 'huge.bin', oldText: 'a', newText: 'b' }, workspace)).toMatch(
      /over the 10485760-byte limit of files.edit/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(process.memoryUsage().rss - memoryBefore).toBeLessThan(200 * 1024 ** 2);
  });

  it('reads a range of a 5 GB text file without loading it, and caps an unbounded read', async () => {
    const { workspace } = setup();
    const path = join(workspace, 'huge.log');
    writeFileSync(path, Array.from({ length: 20_000 }, (_, index) => `entry ${index + 1}`).join('\n'));
    // Extending the file keeps its first bytes as text: the binary check sees only those.
    truncateSync(path, gigabytes);
    const started = Date.now();
    const range = await call('files.read', { path: 'huge.log', startLine: 10_000, endLine: 10_002 }, workspace);
    expect(range).toBe(
      `entry 10000\nentry 10001\nentry 10002\n[showing lines 10000-10002 of a ${gigabytes}-byte file; continue with startLine 10003]`,
    );
    const whole = await call('files.read', { path: 'huge.log' }, workspace);
    expect(whole.length).toBeLessThan(101_000);
    expect(whole).toMatch(/\[truncated: the 100000-byte cap was reached inside line \d+ \(of a 5368709120-byte file\)/);
    const far = await call('files.read', { path: 'huge.log', startLine: 5_000_000 }, workspace);
    expect(far).toMatch(/beyond the first 67108864 bytes that files.read scans; use files.search/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('file tools: edits that multiply or rescan a file', () => {
  it('refuses a replaceAll that would grow the file past the edit limit, and leaves the file as it was', async () => {
    const { workspace } = setup();
    const original = 'a'.repeat(1024 * 1024);
    writeFileSync(join(workspace, 'a.txt'), original);
    // 1 MiB of one-byte matches, each replaced by 40 bytes: 40 MiB, four times the limit.
    const output = await call(
      'files.edit',
      { path: 'a.txt', oldText: 'a', newText: 'b'.repeat(40), replaceAll: true },
      workspace,
    );
    expect(output).toBe(
      'Error from files.edit: the edit would make "a.txt" 41943040 bytes (1048576 replacements), over the 10485760-byte limit of files.edit; replace fewer occurrences or change the file with code instead.',
    );
    expect(readFileSync(join(workspace, 'a.txt'), 'utf8')).toBe(original);
  });

  it('replaces millions of occurrences in one pass (line numbers were counted from the start for each)', async () => {
    const { workspace } = setup();
    // Without the one-pass line count this call ran past the 30 s test limit (quadratic); it takes
    // well under the test's time limit.
    writeFileSync(join(workspace, 'b.txt'), `${'a'.repeat(2 * 1024 * 1024)}\nend\n`);
    const output = await call('files.edit', { path: 'b.txt', oldText: 'a', newText: 'c', replaceAll: true }, workspace);
    expect(output).toBe('Replaced 2097152 occurrences in b.txt (lines 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, …).');
    expect(readFileSync(join(workspace, 'b.txt'), 'utf8')).toBe(`${'c'.repeat(2 * 1024 * 1024)}\nend\n`);
  });

  it('states the line of each of the first occurrences when oldText is not unique', async () => {
    const { workspace } = setup();
    writeFileSync(join(workspace, 'c.txt'), 'x\ny x\n\nx\n');
    expect(await call('files.edit', { path: 'c.txt', oldText: 'x', newText: 'z' }, workspace)).toMatch(
      /oldText occurs 3 times in "c.txt" \(at lines 1, 2, 4\)/,
    );
  });
});

describe('file tools: costly globs', () => {
  it('files.search refuses an over-long glob and stops a costly one with a clear error', async () => {
    const { workspace } = setup();
    mkdirSync(join(workspace, 'many'));
    for (let index = 0; index < 1_000; index++) {
      writeFileSync(join(workspace, 'many', `${String(index).padStart(4, '0')}${'n'.repeat(96)}.txt`), 'x');
    }
    expect(await call('files.search', { pattern: 'x', glob: '*'.repeat(20_000) }, workspace)).toMatch(
      /^Error from files\.search: the glob "\*{80}…" is 20000 characters long; a glob may have at most 1024\. Use a shorter one\.$/,
    );
    expect(await call('files.search', { pattern: 'x', glob: `${'*'.repeat(1_000)}z` }, workspace)).toMatch(
      /^Error from files\.search: the glob "\*{80}…" is too costly to match against this many files \(over 100000000 steps\); use fewer \* and \{…\} alternatives, or a narrower path\.$/,
    );
    // An ordinary glob over the same files still works.
    expect(await call('files.search', { pattern: 'x', glob: '0001*.txt' }, workspace)).toBe(
      `many/0001${'n'.repeat(96)}.txt:1:x`,
    );
  });
});

describe('file tools: a pattern that exhausts the regular-expression stack', () => {
  it('files.search skips the line it cannot run on, says so, and still reports the other files', async () => {
    const { workspace } = setup();
    // (a|b)* over 9 MiB of "a" runs out of backtracking stack at once: the whole search failed
    // with "Maximum call stack size exceeded" and lost the other files' matches.
    writeFileSync(join(workspace, 'big.txt'), 'a'.repeat(9 * 1024 * 1024));
    writeFileSync(join(workspace, 'small.txt'), 'ac\n');
    expect(await call('files.search', { pattern: '(a|b)*c' }, workspace)).toBe(
      'small.txt:1:ac\n[skipped 1 lines too long for this pattern (it ran out of stack) in big.txt; use a simpler pattern, e.g. [ab]* instead of (a|b)*]',
    );
  });
});
