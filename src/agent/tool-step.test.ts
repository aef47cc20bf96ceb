/**
 * Parallel tool steps that fail for one cause surface as that one error: here the run is taken
 * over by another executor while its two tool calls run, so both commits are refused.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Engine } from '../engine/engine.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { LeaseLostError } from '../errors.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import { tool } from '../tools/define-tool.js';
import { agent } from './agent.js';
import { run } from './run.js';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

describe('parallel tool steps failing for one cause', () => {
  it('fail the run with that one error, not an aggregate of copies', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hataraku-tool-step-')), 'journal.db');
    // No heartbeat and a 1 ms lease: the run is free to take over as soon as it starts.
    const owner = openSqliteEngine({ path, leaseMs: 1, heartbeatMs: 0 });
    const thief = openSqliteEngine({ path, heartbeatMs: 0 });
    engines.push(owner, thief);
    const look = tool({
      name: 'look',
      description: 'Look at a number.',
      input: z.object({ n: z.number() }),
      execute: async ({ n }) => {
        await thief.claimRun('run_parallel');
        return `saw ${n}`;
      },
    });
    const model = createScriptedModel({
      script: {
        turns: [
          {
            toolCalls: [
              { name: 'look', arguments: { n: 1 } },
              { name: 'look', arguments: { n: 2 } },
            ],
          },
          { text: 'Done.' },
        ],
      },
    });
    const handle = run(agent({ name: 'looker', instructions: '', model, tools: [look] }), 'go', {
      engine: owner,
      runId: 'run_parallel',
    });
    const error = await handle.result.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(LeaseLostError);
    expect((error as LeaseLostError).message).toMatch(
      /^run run_parallel: this process \(executor_\w+\) no longer owns the run/,
    );
    expect((await thief.getRun('run_parallel'))?.owner).toBe(thief.executorId);
    expect((await thief.listSteps('run_parallel')).map((step) => step.name)).toEqual(['model']);
  });
});
