import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
