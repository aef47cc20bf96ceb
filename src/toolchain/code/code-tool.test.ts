import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolContext } from '../../tools/tool-context.js';
import { describeSandboxChoice } from './choose-sandbox.js';
import { type CodeRunOutput, createCodeTool, maxListedFiles } from './code-tool.js';
import { probeProcessTier } from './process-sandbox.js';

let workspace: string;
beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'code-tool-'));
});
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

const processTier = await probeProcessTier();
const hasPlotting = existsSync('/usr/lib/python3/dist-packages/matplotlib');

describe('code.run', () => {
  it('declares a side-effecting tool with a schema the model can follow', () => {
    const codeTool = createCodeTool({ tier: 'wasm' });
    expect(codeTool.name).toBe('code.run');
    expect(codeTool.effect).toBe('side-effect');
    expect(codeTool.validate({ language: 'ruby', code: 'puts 1' }).success).toBe(false);
    expect(codeTool.validate({ language: 'python', code: 'print(1)', timeoutMs: 10 }).success).toBe(false);
    expect(codeTool.validate({ language: 'python', code: 'print(1)' }).success).toBe(true);
  });

  it('reuses one sandbox per run, so globals persist across calls, and reports the tier', async () => {
    const codeTool = createCodeTool({ tier: 'wasm' });
    const context = createToolContext({ workspace });
    try {
      await codeTool.execute({ language: 'javascript', code: 'var counter = 1' }, context);
      const output = (await codeTool.execute(
        { language: 'javascript', code: 'console.log(++counter)' },
        context,
      )) as CodeRunOutput;
      expect(output.stdout).toBe('2\n');
      expect(output.choice.tier).toBe('wasm');
      expect(output.text).toContain('sandbox: wasm tier (the wasm tier was configured)');
      expect(output.text).toContain('exit status: 0');
    } finally {
      await context.dispose();
    }
  });

  it('reports a run stopped at the write limit, with the refused file absent', async () => {
    const codeTool = createCodeTool({ tier: 'wasm', maxWriteBytes: 1000 });
    const context = createToolContext({ workspace });
    try {
      const output = await codeTool.execute(
        { language: 'javascript', code: 'writeFile("too-big.txt", "x".repeat(2000))' },
        context,
      );
      expect(output.limitExceeded).toBe('disk');
      expect(output.text).toContain('status: stopped because it wrote more than a run may write (the write limit');
      expect(output.text).toContain('writeFile("too-big.txt") refused: a run may write at most 1000 bytes in all');
      expect(existsSync(join(workspace, 'too-big.txt'))).toBe(false);
    } finally {
      await context.dispose();
    }
  });

  it('caps what the model sees and says so', async () => {
    const codeTool = createCodeTool({ tier: 'wasm', maxShownCharacters: 100 });
    const context = createToolContext({ workspace });
    try {
      const output = await codeTool.execute(
        { language: 'javascript', code: 'for (let i = 0; i < 100; i++) console.log("line", i)' },
        context,
      );
      expect(output.text).toMatch(/stdout \(truncated: showing the first and last 50 of \d+ characters\)/);
      expect(output.text).toContain('line 0');
      expect(output.text).toContain('line 99');
      expect(output.text).not.toContain('line 50\n');
    } finally {
      await context.dispose();
    }
  });

  it('tells the model how to fix a run that hit its time limit', async () => {
    const codeTool = createCodeTool({ tier: 'wasm' });
    const context = createToolContext({ workspace });
    try {
      const output = await codeTool.execute(
        { language: 'javascript', code: 'while (true) {}', timeoutMs: 200 },
        context,
      );
      expect(output.timedOut).toBe(true);
      expect(output.text).toContain('stopped at the time limit of 200 ms');
    } finally {
      await context.dispose();
    }
  });

  it('lists at most 200 changed files, counts the rest, and records only those as artifacts', async () => {
    const own = mkdtempSync(join(tmpdir(), 'hataraku-code-many-files-'));
    const codeTool = createCodeTool({ tier: 'wasm' });
    const context = createToolContext({ workspace: own });
    try {
      const output = await codeTool.execute(
        { language: 'javascript', code: 'for (let i = 0; i < 1000; i++) writeFile("t" + i + ".svg", "<svg/>");' },
        context,
      );
      expect(output.exitCode).toBe(0);
      expect(output.filesChanged).toHaveLength(maxListedFiles);
      expect(output.text.split('\n').filter((line) => /^- t\d+\.svg/.test(line))).toHaveLength(maxListedFiles);
      expect(output.text).toContain('note: 800 more files changed and are not listed; use files.list to see them.');
      expect(context.artifacts).toHaveLength(maxListedFiles);
    } finally {
      await context.dispose();
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('chooses the process tier on auto when bubblewrap works, and the wasm tier otherwise', async () => {
    const choice = await describeSandboxChoice({ tier: 'auto' });
    expect(choice.tier).toBe(processTier.available ? 'process' : 'wasm');
    expect(choice.reason.length).toBeGreaterThan(0);
    expect(choice.description.cannot.join(' ')).toMatch(/network/);
  });

  it.skipIf(!processTier.available || !hasPlotting)(
    'records a PNG written by the program as a run artifact',
    async () => {
      writeFileSync(join(workspace, 'points.csv'), 'x,y\n1,2\n2,4\n3,3\n');
      const codeTool = createCodeTool({ tier: 'process', timeoutMs: 30_000 });
      const context = createToolContext({ workspace });
      try {
        const output = await codeTool.execute(
          {
            language: 'python',
            code: 'import pandas as pd\nimport matplotlib.pyplot as plt\npd.read_csv("points.csv").plot(x="x", y="y")\nplt.savefig("chart.png")\nprint("saved")',
          },
          context,
        );
        expect(output.stdout).toBe('saved\n');
        expect(output.text).toContain('- chart.png (created,');
        expect(context.artifacts).toEqual([
          { path: 'chart.png', mediaType: 'image/png', description: 'written by code.run (python)' },
        ]);
      } finally {
        await context.dispose();
      }
    },
    60_000,
  );
});
