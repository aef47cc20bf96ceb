/**
 * Tool-call arguments are written by a possibly hostile model. Arguments nested 100,000 levels
 * deep parse with `JSON.parse` but overflow the stack wherever they are next stringified or
 * cloned (the journal, a worker message): the run must answer the model with an error and go on,
 * not die with a RangeError.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../engine/engine.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import { createChartTools } from '../toolchain/charts/chart-tools.js';
import { createFileTools } from '../toolchain/files/workspace-files.js';
import { agent } from './agent.js';
import { run } from './run.js';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

const depth = 100_000;
const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('deeply nested tool-call arguments', () => {
  it.each([
    ['chart.render', `{"spec": {"data": {"values": ${deep}}, "mark": "bar"}, "outputPath": "c.svg"}`],
    ['files.read', `{"path": ${deep}}`],
  ])('%s: the run goes on and the model is told to send a flatter value', async (name, argumentText) => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-hostile-arguments-'));
    const engine = openSqliteEngine({ path: join(workspace, 'journal.db') });
    engines.push(engine);
    const model = createScriptedModel({
      script: { turns: [{ toolCalls: [{ name, arguments: argumentText }] }, { text: 'Done.' }] },
    });
    const tools = [...createChartTools(), ...createFileTools()];
    const handle = run(agent({ name: 'deep', instructions: '', model, tools }), 'go', { engine, workspace });
    const result = await handle.result;
    expect(result.status).toBe('completed');
    expect(result.output).toBe('Done.');
    const steps = await engine.listSteps(result.runId);
    expect(JSON.stringify(steps)).toContain('nests more than 64 levels deep');
  });
});
