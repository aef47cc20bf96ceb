/**
 * Hataraku's worker threads start whatever Node options the process was started with. Some
 * options describe only the main entry, and a thread that inherits them breaks:
 * `--input-type=module` (a script run with `node --input-type=module -e "…"` that imports
 * Hataraku) makes a thread refuse a file as its entry, and turns code given as text into a
 * module, where `require` is missing. These tests start the built modules (dist/) from such a
 * script and use each thread: the server's, the ledger writer's, the JavaScript sandbox's and the
 * file search's. A V8 option is there too, as a thread refuses one given to it explicitly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtCli } from './__fixtures__/serve-process.js';

const distUrl = (path: string) => pathToFileURL(join(builtCli, '..', '..', path)).href;

/** Run `code` as `node --max-semi-space-size=16 --input-type=module -e code` in `cwd`. */
function runEmbedded(code: string, cwd: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--max-semi-space-size=16', '--input-type=module', '-e', code], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  return new Promise((resolve) => child.once('exit', (exitCode) => resolve({ code: exitCode, output })));
}

describe('Hataraku imported from `node --input-type=module -e`', () => {
  it('serves, with its ledger written by the ledger thread, and stops on Ctrl-C', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-embedded-serve-'));
    const script = `
      process.argv = [process.argv[0], 'hataraku', 'serve', '--dev', '--port', '0'];
      const started = Date.now();
      const ready = setInterval(async () => {
        if (Date.now() - started > 20000) process.exit(9);
      }, 100);
      const { stdout } = process;
      const write = stdout.write.bind(stdout);
      stdout.write = (text, ...rest) => {
        const match = /listening on (http:[^ ]+)/.exec(String(text));
        if (match) {
          clearInterval(ready);
          fetch(match[1] + '/health').then(async (answer) => {
            write('health ' + (await answer.text()) + '\\n');
            setTimeout(() => process.kill(process.pid, 'SIGINT'), 500);
          });
        }
        return write(text, ...rest);
      };
      await import(${JSON.stringify(pathToFileURL(builtCli).href)});
    `;
    const result = await runEmbedded(script, cwd);
    expect(result.output).toContain('health {"status":"ok"}');
    // The ledger's thread started from the same options: no fallback to the server's thread.
    expect(result.output).not.toMatch(/ledger worker failed|input-type|Error/);
    expect(result.code).toBe(0);
  }, 40_000);

  it("runs code in the JavaScript sandbox's thread and searches files in the search's thread", async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-embedded-tools-'));
    writeFileSync(join(cwd, 'notes.txt'), 'alpha\nbeta\n');
    const script = `
      const { QuickJsEngine } = await import(${JSON.stringify(distUrl('toolchain/code/quickjs-sandbox.js'))});
      const { searchFilesTool } = await import(${JSON.stringify(distUrl('toolchain/files/workspace-files.js'))});
      const { createToolContext } = await import(${JSON.stringify(distUrl('tools/tool-context.js'))});
      const { createProtectedPaths } = await import(${JSON.stringify(distUrl('toolchain/files/protected-paths.js'))});
      const engine = new QuickJsEngine({
        workspace: process.cwd(),
        protectedPaths: createProtectedPaths(),
        memoryMb: 64,
        maxOutputBytes: 10000,
        maxWriteBytes: 10000,
      });
      const ran = await engine.run('console.log(6 * 7)', 10000);
      console.log('sandbox ' + ran.stdout.trim() + ' ' + ran.exitCode);
      await engine.dispose();
      const found = await searchFilesTool.execute(
        { pattern: 'beta', path: '.', caseSensitive: true, literal: false },
        createToolContext({ workspace: process.cwd() }),
      );
      console.log('search ' + found);
      process.exit(0);
    `;
    const result = await runEmbedded(script, cwd);
    expect(result.output).toContain('sandbox 42 0');
    expect(result.output).toContain('search notes.txt:2:beta');
    expect(result.code).toBe(0);
  }, 40_000);
});
