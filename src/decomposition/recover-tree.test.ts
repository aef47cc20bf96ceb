/**
 * Recovery of an interrupted run tree: `hataraku.recover()` resumes the parent, which resumes
 * its unfinished child; the child is not also resumed on its own (that would run it twice in
 * one process), and no committed step of the child runs again.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../agent/agent.js';
import { run } from '../agent/run.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createHataraku } from '../hataraku.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import { tool } from '../tools/define-tool.js';
import { delegateTool } from './delegate-tool.js';

describe('recovering an interrupted tree', () => {
  it('resumes the child through its parent only, without repeating committed steps', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-recover-tree-'));
    const workspace = join(directory, 'workspace');
    mkdirSync(workspace);
    const engine = openSqliteEngine({ path: join(directory, 'journal.db'), leaseMs: 50 });
    const executions: string[] = [];
    const controller = new AbortController();
    const record = tool({
      name: 'record',
      description: 'Record an item.',
      input: z.object({ n: z.number() }),
      effect: 'side-effect',
      execute: ({ n }, context) => {
        executions.push(context.idempotencyKey);
        if (n === 1) controller.abort(); // interrupted after the first item is committed
        return `recorded ${n}`;
      },
    });
    const child = agent({
      name: 'child',
      instructions: '',
      model: createScriptedModel({
        script: {
          turns: [
            { toolCalls: [{ name: 'record', arguments: { n: 0 } }] },
            { toolCalls: [{ name: 'record', arguments: { n: 1 } }] },
            { toolCalls: [{ name: 'record', arguments: { n: 2 } }] },
            { text: 'three recorded' },
          ],
        },
      }),
      tools: [record],
    });
    const lead = agent({
      name: 'lead',
      instructions: '',
      model: createScriptedModel({
        script: {
          turns: [{ toolCalls: [{ name: 'delegate', arguments: { agent: 'child', task: 'record' } }] }, { text: 'ok' }],
        },
      }),
      tools: [delegateTool({ agents: [child] })],
    });
    await expect(
      run(lead, 'go', { engine, workspace, runId: 'run_rec', signal: controller.signal }).result,
    ).rejects.toThrow(/interrupted/);
    expect((await engine.getRun('run_rec.1'))?.status).toBe('pending');
    await engine.close();

    // A new process: its engine on the same journal.
    const hataraku = createHataraku({
      cwd: directory,
      env: {},
      engine: openSqliteEngine({ path: join(directory, 'journal.db'), leaseMs: 50 }),
    });
    await new Promise((resolve) => setTimeout(resolve, 60)); // the old leases expire
    const report = await hataraku.recover({ agentFor: (candidate) => (candidate.agentName === 'lead' ? lead : child) });
    expect(report.results.map((result) => [result.runId, result.status])).toEqual([['run_rec', 'completed']]);
    expect(report.skipped).toEqual([{ runId: 'run_rec.1', reason: 'resumed by its parent run run_rec' }]);
    // Each item ran once: the two committed before the interruption were not run again.
    expect(executions).toEqual(['run_rec.1:1', 'run_rec.1:3', 'run_rec.1:5']);
    expect(await hataraku.engine.listSteps('run_rec.1')).toHaveLength(7);
    await hataraku.close();
  });
});
