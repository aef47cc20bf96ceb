import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeProcessTier } from './process-sandbox.js';
import type { Sandbox } from './sandbox.js';
import { createWasmSandbox } from './wasm-sandbox.js';

// Python runs inside bubblewrap where it works; elsewhere under Node's permission model only.
const pythonConfinement = (await probeProcessTier()).available
  ? ({ kind: 'bubblewrap', bubblewrapPath: '/usr/bin/bwrap' } as const)
  : ({ kind: 'permission-model' } as const);

let workspace: string;
let sandbox: Sandbox;

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'wasm-sandbox-'));
  writeFileSync(join(workspace, 'numbers.csv'), 'n\n1\n2\n3\n');
  sandbox = createWasmSandbox({ workspace, timeoutMs: 5_000, pythonConfinement });
});

afterAll(async () => {
  await sandbox.dispose();
  rmSync(workspace, { recursive: true, force: true });
});

describe('JavaScript in QuickJS', () => {
  it('prints, keeps globals between runs like a notebook, and reports a clean exit', async () => {
    const first = await sandbox.run({
      language: 'javascript',
      code: 'var total = 40; console.log("start", { ok: true })',
    });
    expect(first).toMatchObject({
      tier: 'wasm',
      language: 'javascript',
      exitCode: 0,
      stdout: 'start {"ok":true}\n',
      timedOut: false,
    });
    const second = await sandbox.run({ language: 'javascript', code: 'total += 2; console.log(total)' });
    expect(second.stdout).toBe('42\n');
  });

  it('reads, writes and lists workspace files and reports what changed', async () => {
    const result = await sandbox.run({
      language: 'javascript',
      code: 'const rows = readFile("numbers.csv").trim().split("\\n").slice(1).map(Number);\nwriteFile("out/sum.txt", String(rows.reduce((a, b) => a + b, 0)));\nconsole.log(listFiles("out"));',
    });
    expect(result.stdout).toBe('["sum.txt"]\n');
    expect(readFileSync(join(workspace, 'out/sum.txt'), 'utf8')).toBe('6');
    expect(result.filesChanged).toEqual([{ path: 'out/sum.txt', size: 1, change: 'created' }]);
  });

  it('reports an uncaught error with exit status 1 and the message on stderr', async () => {
    const result = await sandbox.run({ language: 'javascript', code: 'throw new TypeError("bad input")' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('TypeError: bad input');
  });

  it('settles promises and reports a rejected one', async () => {
    const resolved = await sandbox.run({
      language: 'javascript',
      code: 'Promise.resolve(5).then((value) => console.log("got", value))',
    });
    expect(resolved.stdout).toBe('got 5\n');
    const rejected = await sandbox.run({ language: 'javascript', code: 'Promise.reject(new Error("nope"))' });
    expect(rejected.exitCode).toBe(1);
    expect(rejected.stderr).toContain('nope');
  });
});

describe('Python in Pyodide', () => {
  it('reads workspace files, writes new ones back, and keeps variables between runs', async () => {
    const first = await sandbox.run({
      language: 'python',
      code: 'import csv\nrows = [int(row["n"]) for row in csv.DictReader(open("numbers.csv"))]\nopen("squares.txt", "w").write(",".join(str(n * n) for n in rows))\nprint(sum(rows))',
    });
    expect(first).toMatchObject({ exitCode: 0, stdout: '6\n' });
    expect(readFileSync(join(workspace, 'squares.txt'), 'utf8')).toBe('1,4,9');
    expect(first.filesChanged).toEqual([{ path: 'squares.txt', size: 5, change: 'created' }]);
    const second = await sandbox.run({ language: 'python', code: 'print(len(rows))' });
    expect(second.stdout).toBe('3\n');
  }, 60_000);

  it('sees files the host changed since the last run, and propagates deletions', async () => {
    writeFileSync(join(workspace, 'numbers.csv'), 'n\n10\n');
    const result = await sandbox.run({
      language: 'python',
      code: 'import os\nprint(open("numbers.csv").read().split())\nos.remove("squares.txt")',
    });
    expect(result.stdout).toBe("['n', '10']\n");
    expect(result.filesChanged).toEqual([{ path: 'squares.txt', size: 0, change: 'deleted' }]);
  });

  it('shows the traceback of the program, not of Pyodide', async () => {
    const result = await sandbox.run({ language: 'python', code: 'def f():\n    return 1 / 0\nf()' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('ZeroDivisionError');
    expect(result.stderr).toContain('File "<main>", line 2, in f');
    expect(result.stderr).not.toContain('_pyodide');
  });
});

describe('workspace file errors', () => {
  it('name the workspace path, not the host path, and say what to do', async () => {
    const result = await sandbox.run({ language: 'javascript', code: 'readFile("missing.txt")' });
    expect(result.stderr).toContain('missing.txt does not exist in the workspace; call listFiles()');
    expect(result.stderr).not.toContain(workspace);
  });
});

describe('the write limit (maxWriteBytes)', () => {
  let limited: Sandbox;
  let quotaWorkspace: string;

  beforeAll(() => {
    quotaWorkspace = mkdtempSync(join(tmpdir(), 'wasm-sandbox-quota-'));
    limited = createWasmSandbox({
      workspace: quotaWorkspace,
      timeoutMs: 20_000,
      pythonConfinement,
      maxWriteBytes: 1_000_000,
    });
  });

  afterAll(async () => {
    await limited.dispose();
    rmSync(quotaWorkspace, { recursive: true, force: true });
  });

  it('JavaScript: refuses the writeFile that would pass it, whole, with a clear error', async () => {
    const result = await limited.run({
      language: 'javascript',
      code: [
        'const block = "x".repeat(600000);',
        'writeFile("first.txt", block);',
        'try { writeFile("second.txt", block); } catch (error) { console.log(String(error.message ?? error)); }',
      ].join('\n'),
    });
    expect(result.stdout).toMatch(
      /^writeFile\("second\.txt"\) refused: a run may write at most 1000000 bytes in all \(the write limit, maxWriteBytes\), this one has written 600000 and this file is 600000\. Nothing was written/,
    );
    expect(result.limitExceeded).toBe('disk');
    expect(readdirSync(quotaWorkspace)).toEqual(['first.txt']);
    // The budget is per run: the next run may write again.
    const next = await limited.run({ language: 'javascript', code: 'writeFile("third.txt", "x".repeat(600000))' });
    expect(next).toMatchObject({ exitCode: 0, limitExceeded: undefined });
  });

  it('JavaScript: counts files and folders too, so empty files and deep paths cannot pass it', async () => {
    // 1,000,000 bytes allow 976 files and folders (one per KiB); each name of a path counts.
    const result = await limited.run({
      language: 'javascript',
      code: [
        'try { writeFile("deep/".repeat(1500) + "empty.txt", ""); } catch (error) { console.log(String(error.message ?? error)); }',
        'let made = 0;',
        'try { for (let i = 0; i < 5000; i++) { writeFile("empty/" + i, ""); made++; } } catch (error) { console.log(made, String(error.message ?? error)); }',
      ].join('\n'),
    });
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^writeFile\("deep\/deep.*"\) refused: a run may make at most 976 files and folders \(one per 1024 bytes of the write limit, maxWriteBytes\)/,
    );
    expect(lines[1]).toMatch(/^488 writeFile\("empty\/488"\) refused: a run may make at most 976 files and folders/);
    expect(result.limitExceeded).toBe('disk');
    expect(readdirSync(quotaWorkspace).sort()).toEqual(['empty', 'first.txt', 'third.txt']);
    expect(readdirSync(join(quotaWorkspace, 'empty'))).toHaveLength(488);
    rmSync(join(quotaWorkspace, 'empty'), { recursive: true });
  });

  it('Python: saves none of the files of a run that wrote past it', async () => {
    const result = await limited.run({
      language: 'python',
      code: 'for name in ("a.bin", "b.bin"):\n    open(name, "wb").write(b"x" * 600_000)',
    });
    expect(result.limitExceeded).toBe('disk');
    expect(result.notes.join(' ')).toMatch(
      /Python wrote 1200000 bytes of files, more than a run may write \(1000000 bytes, the write limit, maxWriteBytes\): none of them was saved/,
    );
    expect(readdirSync(quotaWorkspace).sort()).toEqual(['first.txt', 'third.txt']);
    // The next run sees the workspace as it is, not the files that were refused.
    const next = await limited.run({ language: 'python', code: 'import os\nprint(sorted(os.listdir(".")))' });
    expect(next.stdout).toBe("['first.txt', 'third.txt']\n");
  }, 60_000);

  it('Python: saves none of the files of a run that made more files and folders than it allows', async () => {
    const result = await limited.run({
      language: 'python',
      code: 'import os\nos.mkdir("empty")\nfor i in range(1000):\n    open(f"empty/{i}", "w").close()',
    });
    expect(result.limitExceeded).toBe('disk');
    expect(result.notes.join(' ')).toMatch(
      /Python wrote 1000 files whose paths name 2000 files and folders, more than a run may make .*: none of them was saved/,
    );
    expect(readdirSync(quotaWorkspace).sort()).toEqual(['first.txt', 'third.txt']);
  }, 60_000);
});
