/**
 * `hataraku runs list --json | head -1`: the reader goes away after one line, and the command
 * stops quietly (no EPIPE trace, no error status), like any Unix tool. Real processes and a real
 * pipe: the built CLI (`npm run build` first) writes into `head`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';

const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;

describe('output into a closed pipe', () => {
  it.skipIf(!existsSync(cli))('runs list --json | head -1 prints one line and stops quietly', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-epipe-'));
    mkdirSync(join(cwd, '.hataraku'));
    const engine = openSqliteEngine({ path: join(cwd, '.hataraku', 'hataraku.db') });
    // Far more than a pipe's buffer holds (64 KiB), so the writer meets the closed pipe.
    const task = 'Summarise the quarterly sales figures for every region. '.repeat(40);
    for (let index = 0; index < 400; index++) {
      await engine.createRun({
        id: `run_${index}`,
        agentName: 'assistant',
        model: 'scripted:x',
        input: task,
        spec: {},
      });
    }
    await engine.close();
    const shell = spawnSync('sh', ['-c', `"${process.execPath}" "${cli}" runs list --json --limit 400 | head -1`], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const lines = shell.stdout.split('\n').filter((line) => line !== '');
    expect(JSON.parse(lines[0] ?? '{}').id).toMatch(/^run_/);
    expect(shell.stderr).toBe('');
    const bash = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${cli}" runs list --json --limit 400 | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`,
      ],
      { cwd, encoding: 'utf8' },
    );
    expect(bash.stderr).toBe('');
    expect(bash.stdout.trim()).toBe('0');
  });
});
