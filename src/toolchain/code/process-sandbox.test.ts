import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessSandbox, probeProcessTier } from './process-sandbox.js';
import type { Sandbox } from './sandbox.js';

const probe = await probeProcessTier();
// In CI bubblewrap is installed, so a missing process tier is a failure there, not a skip.
const skip = !probe.available && process.env.CI === undefined && process.env.HATARAKU_REQUIRE_BUBBLEWRAP !== '1';
const hasPlotting =
  existsSync('/usr/lib/python3/dist-packages/pandas') && existsSync('/usr/lib/python3/dist-packages/matplotlib');

describe.skipIf(skip)('process sandbox (bubblewrap)', () => {
  let workspace: string;
  let sandbox: Sandbox;

  beforeAll(() => {
    workspace = mkdtempSync(join(tmpdir(), 'process-sandbox-'));
    writeFileSync(
      join(workspace, 'sales.csv'),
      'region,month,amount\nnorth,2024-01,10\nsouth,2024-01,7\nnorth,2024-02,12\nsouth,2024-02,9\n',
    );
    sandbox = createProcessSandbox({ workspace, timeoutMs: 20_000 });
  });

  afterAll(async () => {
    await sandbox.dispose();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('is available here', () => {
    expect(probe).toEqual({ available: true });
  });

  it("runs Debian's python3 in /workspace and reports created files", async () => {
    const result = await sandbox.run({
      language: 'python',
      code: 'import os, sys\nprint(sys.executable, os.getcwd())\nopen("hello.txt", "w").write("hi")',
    });
    expect(result).toMatchObject({ tier: 'process', exitCode: 0, stdout: '/usr/bin/python3 /workspace\n' });
    expect(result.filesChanged).toEqual([{ path: 'hello.txt', size: 2, change: 'created' }]);
  });

  it("runs the host's node with its built-in modules", async () => {
    const result = await sandbox.run({
      language: 'javascript',
      code: 'const fs = require("fs");\nconsole.log(fs.readFileSync("hello.txt", "utf8"), process.version);\nfs.writeFileSync("hello.txt", "bye");',
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`hi ${process.version}\n`);
    expect(readFileSync(join(workspace, 'hello.txt'), 'utf8')).toBe('bye');
    expect(result.filesChanged).toEqual([{ path: 'hello.txt', size: 3, change: 'modified' }]);
  });

  it('reports a failing program with its exit status and stderr', async () => {
    const result = await sandbox.run({
      language: 'python',
      code: 'import sys\nprint("oops", file=sys.stderr)\nsys.exit(3)',
    });
    expect(result).toMatchObject({ exitCode: 3, stderr: 'oops\n', timedOut: false, limitExceeded: undefined });
  });

  it('keeps state between runs through workspace files only', async () => {
    await sandbox.run({
      language: 'python',
      code: 'import json\nvalue = 41\njson.dump({"value": value}, open("state.json", "w"))',
    });
    const result = await sandbox.run({
      language: 'python',
      code: 'import json\nprint("value" in globals(), json.load(open("state.json"))["value"] + 1)',
    });
    expect(result.stdout).toBe('False 42\n');
  });

  it.skipIf(!hasPlotting)(
    'analyses a CSV with pandas and saves a matplotlib PNG',
    async () => {
      const result = await sandbox.run({
        language: 'python',
        code: [
          'import pandas as pd',
          'import matplotlib.pyplot as plt',
          'sales = pd.read_csv("sales.csv")',
          'totals = sales.groupby("region")["amount"].sum()',
          'print(totals.to_dict())',
          'totals.plot(kind="bar")',
          'plt.savefig("by-region.png")',
        ].join('\n'),
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe("{'north': 22, 'south': 16}\n");
      const png = readFileSync(join(workspace, 'by-region.png'));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(result.filesChanged.map((file) => file.path)).toContain('by-region.png');
    },
    60_000,
  );
});

describe.skipIf(skip)('process sandbox: the write limit (maxWriteBytes)', () => {
  const limit = 4_000_000;
  let workspace: string;
  let sandbox: Sandbox;

  beforeAll(() => {
    workspace = mkdtempSync(join(tmpdir(), 'process-sandbox-quota-'));
    writeFileSync(join(workspace, 'keep.txt'), 'kept');
    sandbox = createProcessSandbox({ workspace, timeoutMs: 20_000, maxWriteBytes: limit });
  });

  afterAll(async () => {
    await sandbox.dispose();
    rmSync(workspace, { recursive: true, force: true });
  });

  const workspaceFiles = () => readdirSync(workspace).sort();

  it('stops a Python program that keeps writing files, and keeps none of them', async () => {
    const result = await sandbox.run({
      language: 'python',
      code: 'i = 0\nwhile True:\n    open(f"junk-{i}.bin", "wb").write(b"x" * 1_000_000)\n    i += 1',
    });
    expect(result).toMatchObject({ limitExceeded: 'disk', timedOut: false, exitCode: null });
    expect(result.notes.join(' ')).toMatch(
      /^The run wrote more than 4000000 bytes \(the write limit, maxWriteBytes\) and was stopped\. The files it created were removed: junk-0\.bin/,
    );
    expect(workspaceFiles()).toEqual(['keep.txt']);
    expect(result.filesChanged).toEqual([]);
  });

  it('stops a Node program the same way, its children and /tmp counted too', async () => {
    const result = await sandbox.run({
      language: 'javascript',
      code: [
        'const { execSync } = require("child_process");',
        'const fs = require("fs");',
        'execSync("head -c 1500000 /dev/zero > /tmp/scratch.bin");',
        'for (let i = 0; ; i++) fs.writeFileSync("out-" + i + ".bin", Buffer.alloc(500_000));',
      ].join('\n'),
    });
    expect(result.limitExceeded).toBe('disk');
    expect(workspaceFiles()).toEqual(['keep.txt']);
  });

  it('catches growth that write() does not count (a file extended without writing)', async () => {
    const result = await sandbox.run({
      language: 'python',
      code: 'for i in range(3):\n    with open(f"sparse-{i}.bin", "wb") as f:\n        f.truncate(2_000_000)',
    });
    expect(result.limitExceeded).toBe('disk');
    expect(workspaceFiles()).toEqual(['keep.txt']);
  });

  it('gives /tmp no more room than the limit: the program gets ENOSPC', async () => {
    const result = await sandbox.run({
      language: 'python',
      code: 'try:\n    open("/tmp/big.bin", "wb").write(b"x" * 6_000_000)\nexcept OSError as error:\n    print(error.strerror)',
    });
    expect(result.stdout).toBe('No space left on device\n');
  });

  it('leaves no unsized memory file system to write into: /dev is read-only, /dev/shm as small as /tmp', async () => {
    // bubblewrap's own /dev is a tmpfs of half the host's memory; pages written through a memory
    // map there were counted by nothing.
    const result = await sandbox.run({
      language: 'python',
      code: [
        'import os',
        'try:',
        '    open("/dev/planted.bin", "wb").write(b"x")',
        'except OSError as error:',
        '    print(error.strerror)',
        'shm = os.statvfs("/dev/shm")',
        'print(shm.f_blocks * shm.f_frsize <= 4_100_000)', // the limit, rounded up to whole pages
        'open("/dev/null", "wb").write(b"devices still work")',
      ].join('\n'),
    });
    expect(result.stdout).toBe('Read-only file system\nTrue\n');
    expect(result.exitCode).toBe(0);
  });

  it('lets the code make no user namespace of its own, where it could mount an unsized tmpfs', async () => {
    const result = await sandbox.run({
      language: 'python',
      code: [
        'import ctypes, os',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000',
        'if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0:',
        '    print("mounted" if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0 else "not mounted")',
        'else:',
        '    print("refused")',
      ].join('\n'),
    });
    expect(result.stdout).toBe('refused\n');
  });

  it('refuses fallocate, which takes disk space past the file-size limit without a counted write', async () => {
    // FALLOC_FL_KEEP_SIZE (1) allocates blocks, leaves the size at 0 and skips RLIMIT_FSIZE: one
    // call could fill the host's disk with a file that looks empty.
    const result = await sandbox.run({
      language: 'python',
      code: [
        'import ctypes, os',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]',
        'fd = os.open("allocated.bin", os.O_CREAT | os.O_WRONLY)',
        'print(libc.fallocate(fd, 1, 0, 300_000_000), os.strerror(ctypes.get_errno()))',
        'os.close(fd)',
      ].join('\n'),
    });
    expect(result.stdout).toBe('-1 Operation not supported\n');
    expect(statSync(join(workspace, 'allocated.bin')).blocks).toBe(0);
    rmSync(join(workspace, 'allocated.bin'));
  });

  it('counts every folder, node_modules included, and what a file holds past its size', async () => {
    // The file list skips node_modules and .git; a run could grow files there without a counted write.
    const result = await sandbox.run({
      language: 'python',
      code: [
        'import os',
        'os.makedirs("node_modules/pkg")',
        'for i in range(3):',
        '    with open(f"node_modules/pkg/sparse-{i}.bin", "wb") as f:',
        '        f.truncate(2_000_000)',
      ].join('\n'),
    });
    expect(result.limitExceeded).toBe('disk');
    expect(result.notes.join(' ')).toMatch(
      /other new entries \(directories, links, files in skipped folders\) were removed/,
    );
    expect(workspaceFiles()).toEqual(['keep.txt']);
  });

  it('counts directories: thousands of them made without a write are over the limit, and removed', async () => {
    // Protected entries are left alone by the clean-up.
    writeFileSync(join(workspace, '.env'), 'TOKEN=kept');
    mkdirSync(join(workspace, '.git'));
    writeFileSync(join(workspace, '.git', 'config'), '[core]');
    const result = await sandbox.run({
      language: 'python',
      code: 'import os\nfor i in range(3000):\n    os.mkdir(f"directory-{i}")',
    });
    expect(result.limitExceeded).toBe('disk');
    expect(workspaceFiles()).toEqual(['.env', '.git', 'keep.txt']);
    expect(readFileSync(join(workspace, '.git', 'config'), 'utf8')).toBe('[core]');
    rmSync(join(workspace, '.env'));
    rmSync(join(workspace, '.git'), { recursive: true });
  });

  it('checks the disk after a run stopped by its deadline too', async () => {
    const result = await sandbox.run({
      language: 'python',
      timeoutMs: 1_500,
      code: [
        'import os, time',
        'os.makedirs("node_modules/.cache")',
        'with open("node_modules/.cache/blob.bin", "wb") as f:',
        '    f.truncate(6_000_000)',
        'time.sleep(60)',
      ].join('\n'),
    });
    expect(result.limitExceeded).toBe('disk');
    expect(workspaceFiles()).toEqual(['keep.txt']);
  });

  it('counts pages written through a memory map outside the workspace, while the program runs', async () => {
    // /var/cache/sandbox is on the host's disk and outside the workspace's before/after picture.
    const result = await sandbox.run({
      language: 'python',
      code: [
        'import mmap, os, time',
        'fd = os.open("/var/cache/sandbox/mapped.bin", os.O_CREAT | os.O_RDWR)',
        'os.ftruncate(fd, 20_000_000)',
        'view = mmap.mmap(fd, 20_000_000)',
        'for offset in range(0, 20_000_000, 4096):',
        '    view[offset] = 1',
        'view.flush()',
        'time.sleep(15)',
      ].join('\n'),
    });
    expect(result.limitExceeded).toBe('disk');
  });

  it('keeps the cache that outlives a run within the limit, however many runs write to it', async () => {
    // Each run stays under the limit; together they would fill the host's disk.
    const fill = (name: string) =>
      sandbox.run({ language: 'python', code: `open("/var/cache/sandbox/${name}", "wb").write(b"x" * 3_000_000)` });
    expect((await fill('first.bin')).limitExceeded).toBeUndefined();
    expect((await fill('second.bin')).limitExceeded).toBeUndefined();
    const result = await sandbox.run({
      language: 'python',
      code: 'import os\nprint(sum(entry.stat().st_size for entry in os.scandir("/var/cache/sandbox")) <= 4_000_000)',
    });
    expect(result.stdout).toBe('True\n');
  });

  it('counts each entry as 1 KiB: empty files in /tmp take no byte of its size, but kernel memory', async () => {
    const result = await sandbox.run({
      language: 'python',
      code: 'import os\nfor i in range(300_000):\n    os.close(os.open(f"/tmp/{i}", os.O_CREAT | os.O_WRONLY))\nprint("all made")',
    });
    expect(result.limitExceeded).toBe('disk');
    expect(result.stdout).toBe('');
  });

  it('counts each entry as 1 KiB in the workspace too, and removes the empty files of a run past it', async () => {
    const result = await sandbox.run({
      language: 'python',
      code: 'import os\nos.mkdir("many")\nfor i in range(6000):\n    open(f"many/{i}", "w").close()',
    });
    expect(result.limitExceeded).toBe('disk');
    expect(workspaceFiles()).toEqual(['keep.txt']);
  });

  it('counts a directory chain too deep to walk as over the limit, removes it, and the next run works', async () => {
    // Well under a large limit in bytes, but its paths pass the system's 4,096: every walk of the
    // workspace failed on it (ENAMETOOLONG), so this and every later run threw.
    const roomy = createProcessSandbox({ workspace, timeoutMs: 20_000, maxWriteBytes: 500_000_000 });
    try {
      const result = await roomy.run({
        language: 'python',
        code: 'import os\nfor i in range(3000):\n    os.mkdir("d" * 200)\n    os.chdir("d" * 200)\nprint("made")',
      });
      expect(result.stdout).toBe('made\n');
      expect(result.limitExceeded).toBe('disk');
      expect(workspaceFiles()).toEqual(['keep.txt']);
      const next = await roomy.run({ language: 'python', code: 'print("next")' });
      expect(next).toMatchObject({ stdout: 'next\n', exitCode: 0, limitExceeded: undefined });
    } finally {
      await roomy.dispose();
    }
  });

  it('refuses, in one line, a workspace that already holds a tree too deep to check', async () => {
    // Made outside any run (an older version, another program): nothing can be checked by name.
    const made = spawnSync('/usr/bin/python3', [
      '-c',
      'import os, sys\nos.chdir(sys.argv[1])\nfor i in range(30):\n    os.mkdir("d" * 200)\n    os.chdir("d" * 200)',
      workspace,
    ]);
    expect(made.status).toBe(0);
    await expect(sandbox.run({ language: 'python', code: 'print(1)' })).rejects.toThrow(
      /^the workspace holds a path too long to check for protected entries \(d{60}…, \d+ characters\); remove that directory tree and try again\.$/,
    );
    spawnSync('/bin/rm', ['-rf', join(workspace, 'd'.repeat(200))]);
    expect(workspaceFiles()).toEqual(['keep.txt']);
  });

  it('lets a run under the limit keep its files', async () => {
    const result = await sandbox.run({ language: 'python', code: 'open("small.bin", "wb").write(b"x" * 1_000_000)' });
    expect(result).toMatchObject({ exitCode: 0, limitExceeded: undefined });
    expect(workspaceFiles()).toEqual(['keep.txt', 'small.bin']);
  });
});
