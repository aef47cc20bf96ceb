/**
 * The decomposition seen from the CLI: `hataraku runs show ID --tree` (text and JSON) draws the
 * run and its delegated runs with status, cost and time; an approval waiting inside a child is
 * shown on the parent and decided through the parent's id with `hataraku runs approve`.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../agent/agent.js';
import { resume, run } from '../agent/run.js';
import { captureCliIo } from '../cli/__fixtures__/captured-io.js';
import { main } from '../cli/main.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import { tool } from '../tools/define-tool.js';
import { delegateTool } from './delegate-tool.js';

describe('runs show --tree and approvals through the parent', () => {
  it('shows the tree, surfaces the child approval, and approves it by the parent id', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'hataraku-tree-cli-'));
    const workspace = join(cwd, 'workspace');
    mkdirSync(workspace);
    const journal = join(cwd, '.hataraku', 'hataraku.db');
    mkdirSync(join(cwd, '.hataraku'));
    const engine = openSqliteEngine({ path: journal });
    const publish = tool({
      name: 'publish',
      description: 'Publish a page.',
      input: z.object({ page: z.string() }),
      effect: 'side-effect',
      execute: ({ page }) => `published ${page}`,
    });
    const writer = agent({
      name: 'writer',
      instructions: 'Write and publish.',
      model: createScriptedModel({
        script: { turns: [{ toolCalls: [{ name: 'publish', arguments: { page: 'q3' } }] }, { text: 'Published q3.' }] },
      }),
      tools: [publish],
      policies: [{ tool: 'publish', action: 'ask', reason: 'public page' }],
    });
    const counter = agent({
      name: 'counter',
      instructions: 'Count.',
      model: createScriptedModel({ script: { turns: [{ text: '42 rows.' }] } }),
    });
    const lead = agent({
      name: 'lead',
      instructions: '',
      model: createScriptedModel({
        script: {
          turns: [
            {
              toolCalls: [
                { name: 'delegate', arguments: { agent: 'counter', task: 'Count rows.' } },
                { name: 'delegate', arguments: { agent: 'writer', task: 'Publish the q3 page.' } },
              ],
            },
            { text: '42 rows; q3 published.' },
          ],
        },
      }),
      tools: [delegateTool({ agents: [counter, writer] })],
    });
    const first = await run(lead, 'Count and publish', { engine, workspace, runId: 'run_cli_tree' });
    expect(first.status).toBe('waiting');

    const tree = captureCliIo(cwd);
    expect(await main(['runs', 'show', 'run_cli_tree', '--tree'], tree.io)).toBe(0);
    const lines = tree.stdout().split('\n');
    expect(lines[0]).toMatch(/^run_cli_tree {2}lead {2}waiting/);
    expect(lines[1]).toMatch(/^├─ run_cli_tree\.1 {2}counter {2}completed \(final-answer\)/);
    expect(lines[2]).toMatch(/^└─ run_cli_tree\.2 {2}writer {2}waiting/);
    expect(tree.stdout()).toMatch(/waiting: run run_cli_tree\.2 step 1 publish \(public page\)/);

    const json = captureCliIo(cwd);
    expect(await main(['runs', 'show', 'run_cli_tree', '--tree', '--json'], json.io)).toBe(0);
    const shown = JSON.parse(json.stdout());
    expect(shown.children.map((child: { runId: string; status: string }) => [child.runId, child.status])).toEqual([
      ['run_cli_tree.1', 'completed'],
      ['run_cli_tree.2', 'waiting'],
    ]);
    expect(shown.children[0]).toHaveProperty('durationMs');
    expect(shown.children[0]).toHaveProperty('costUsd');
    expect(shown.pendingApprovals).toHaveLength(1);

    const plain = captureCliIo(cwd);
    expect(await main(['runs', 'show', 'run_cli_tree'], plain.io)).toBe(0);
    expect(plain.stdout()).toMatch(/waiting: run_cli_tree\.2 step 1 publish/);

    const approved = captureCliIo(cwd);
    expect(await main(['runs', 'approve', 'run_cli_tree', '--as', 'aiko'], approved.io)).toBe(0);
    expect(approved.stdout()).toMatch(
      /Approved step 1 of run run_cli_tree\.2 \(publish\), a task delegated by run_cli_tree/,
    );

    const second = await resume(lead, 'run_cli_tree', { engine });
    expect(second.status).toBe('completed');
    expect(second.output).toBe('42 rows; q3 published.');
    // The finished child was not run again: one model step.
    expect(await engine.listSteps('run_cli_tree.1')).toHaveLength(1);
    await engine.close();
  });
});
