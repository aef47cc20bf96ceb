/**
 * One budget for a run tree: parallel children, each asking for more than is left, cannot
 * overspend the parent's cost limit, because each child's slice is reserved atomically against
 * the parent's run budget (which counts the whole tree's spend). The worst overshoot seen is
 * measured and must stay within one call's estimate (the bound reservations give); with
 * estimates that cover each call it is zero.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../agent/agent.js';
import { run } from '../agent/run.js';
import type { PriceSource } from '../cost/price-source.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import { tool } from '../tools/define-tool.js';
import { delegateTool } from './delegate-tool.js';
import { loadRunTree } from './run-tree.js';

// $1,000 per million tokens both ways: a call of 1 input and 1,000 output tokens costs $1.001;
// its estimate before the call (the prompt's tokens counted, plus 1,000 output tokens at most)
// covers it, a little over $1.
const prices: PriceSource = { lookup: () => ({ inputPerMillion: 1000, outputPerMillion: 1000, source: 'test' }) };
const callCostUsd = 1.001;
/** The most one call's estimate is here: 1,000 output tokens plus a prompt of under 100 tokens. */
const oneCallEstimateUsd = 1.1;

const note = tool({
  name: 'note',
  description: 'Take a note.',
  input: z.object({ n: z.number() }),
  execute: ({ n }) => n,
});

/** A child that would keep calling the model for `turns` turns if its budget let it. */
function spender(name: string, turns: number) {
  return agent({
    name,
    instructions: '',
    maxOutputTokens: 1000,
    model: createScriptedModel({
      script: {
        turns: [
          ...Array.from({ length: turns }, (_, n) => ({
            toolCalls: [{ name: 'note', arguments: { n } }],
            usage: { inputTokens: 1, outputTokens: 1000 },
            delayMs: 2,
          })),
          { text: 'done', usage: { inputTokens: 1, outputTokens: 1000 } },
        ],
      },
    }),
    tools: [note],
    limits: { maxSteps: 50 },
  });
}

async function fanOut(input: { children: number; askUsd: number | undefined; limitUsd: number }) {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-tree-budget-'));
  const workspace = join(directory, 'workspace');
  mkdirSync(workspace);
  const engine = openSqliteEngine({ path: join(directory, 'journal.db') });
  const workers = Array.from({ length: input.children }, (_, n) => spender(`spender-${n}`, 20));
  const lead = agent({
    name: 'lead',
    instructions: '',
    maxOutputTokens: 1000,
    maxToolConcurrency: input.children,
    limits: { maxCostUsd: input.limitUsd },
    model: createScriptedModel({
      script: {
        turns: [
          {
            toolCalls: workers.map((worker) => ({
              name: 'delegate',
              arguments: {
                agent: worker.name,
                task: 'spend',
                ...(input.askUsd !== undefined ? { budgetUsd: input.askUsd } : {}),
              },
            })),
            usage: { inputTokens: 1, outputTokens: 1000 },
          },
          { text: 'summary', usage: { inputTokens: 1, outputTokens: 1000 } },
        ],
      },
    }),
    tools: [delegateTool({ agents: workers })],
  });
  await run(lead, 'fan out', { engine, workspace, runId: 'run_tree', prices });
  const tree = await loadRunTree(engine, 'run_tree');
  await engine.close();
  if (!tree) throw new Error('no tree');
  return tree;
}

describe('one budget across parallel children', () => {
  const cases = [
    { children: 4, askUsd: undefined, limitUsd: 10 },
    { children: 6, askUsd: 5, limitUsd: 10 },
    { children: 8, askUsd: 100, limitUsd: 12 },
    { children: 8, askUsd: 1.2, limitUsd: 7 },
  ];
  it.each(cases)('$children children asking $askUsd under $limitUsd: no overspend', async (input) => {
    const tree = await fanOut(input);
    const overshoot = tree.treeCostUsd - input.limitUsd;
    // The figure for the report: the worst overshoot over these cases (0 or negative: none).
    console.log(
      `tree budget: ${input.children} children asking ${input.askUsd ?? 'a share'} under $${input.limitUsd}: spent $${tree.treeCostUsd.toFixed(4)}, overshoot $${Math.max(0, overshoot).toFixed(4)}`,
    );
    expect(overshoot).toBeLessThanOrEqual(oneCallEstimateUsd);
    expect(overshoot).toBeLessThanOrEqual(1e-9);
    // Children did spend (the slices were real), and none spent past its own slice.
    const spent = tree.children.filter((child) => child.costUsd > 0);
    expect(spent.length).toBeGreaterThan(0);
    for (const child of tree.children) {
      if (child.maxCostUsd !== null) expect(child.treeCostUsd).toBeLessThanOrEqual(child.maxCostUsd + 1e-9);
    }
    expect(tree.treeCostUsd).toBeGreaterThanOrEqual(callCostUsd);
  });
});
