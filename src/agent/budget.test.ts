/**
 * Budgets shared across runs, and the cost ledger: many calls in parallel against one budget
 * reserve their estimates, so spend stays within the limit plus one call's estimate; the ledger
 * totals equal the sum of the step costs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { PriceSource } from '../cost/price-source.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import { tool } from '../tools/define-tool.js';
import { agent } from './agent.js';
import { resume, run } from './run.js';

// $1,000 per million input tokens, $2,000 per million output tokens: every call is visible.
const prices: PriceSource = {
  lookup: () => ({ inputPerMillion: 1000, outputPerMillion: 2000, source: 'test' }),
};

function engineInTemporaryDirectory() {
  return openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-budget-')), 'journal.db') });
}

const note = tool({
  name: 'note',
  description: 'Take a note.',
  input: z.object({ n: z.number() }),
  execute: ({ n }) => n,
});

function worker(name: string) {
  // Each call reports 1,000 input and 100 output tokens: $1.20. The estimate before a call is
  // the prompt estimate plus 1,000 output tokens at most: a little over $2.
  return agent({
    name,
    instructions: '',
    maxOutputTokens: 1000,
    model: createScriptedModel({
      script: {
        turns: [
          {
            toolCalls: [{ name: 'note', arguments: { n: 1 } }],
            usage: { inputTokens: 1000, outputTokens: 100 },
            delayMs: 5,
          },
          {
            toolCalls: [{ name: 'note', arguments: { n: 2 } }],
            usage: { inputTokens: 1000, outputTokens: 100 },
            delayMs: 5,
          },
          { text: 'done', usage: { inputTokens: 1000, outputTokens: 100 }, delayMs: 5 },
        ],
      },
    }),
    tools: [note],
  });
}

describe('budgets under parallel calls', () => {
  it('hold a tenant budget across 20 concurrent runs, overshooting by no more than one estimate', async () => {
    const engine = engineInTemporaryDirectory();
    const limitUsd = 10;
    const results = await Promise.all(
      Array.from(
        { length: 20 },
        (_, index) =>
          run(worker(`worker-${index}`), 'work', {
            engine,
            prices,
            tenant: 'acme',
            budgets: [{ scope: 'tenant', limitUsd }],
          }).result,
      ),
    );
    const spent = await engine.spentUsd({ scope: 'tenant', key: 'acme', since: 0, limitUsd });
    const oneEstimate = 2.1;
    expect(spent).toBeLessThanOrEqual(limitUsd + oneEstimate);
    expect(spent).toBeGreaterThan(limitUsd - oneEstimate - 1.2);
    expect(results.filter((result) => result.stopReason === 'budget-exceeded').length).toBeGreaterThan(10);
    expect(results.every((result) => result.status === 'completed' || result.stopReason === 'budget-exceeded')).toBe(
      true,
    );

    // The ledger and the steps agree to the cent.
    const stepCosts = (
      await Promise.all(
        results.map(async (result) => (await engine.listSteps(result.runId)).map((step) => step.costUsd ?? 0)),
      )
    )
      .flat()
      .reduce((total, cost) => total + cost, 0);
    const byModel = await engine.costReport({ by: 'model' });
    expect(byModel.reduce((total, row) => total + row.costUsd, 0)).toBeCloseTo(stepCosts, 9);
    expect(spent).toBeCloseTo(stepCosts, 9);
    await engine.close();
  });

  it('stops a run with budget-exceeded and its partial result when a daily agent budget runs out', async () => {
    const engine = engineInTemporaryDirectory();
    const first = await run(worker('reporter'), 'work', {
      engine,
      prices,
      budgets: [{ scope: 'agent', period: 'day', limitUsd: 5 }],
    });
    expect(first.status).toBe('completed');
    const second = await run(worker('reporter'), 'work', {
      engine,
      prices,
      budgets: [{ scope: 'agent', period: 'day', limitUsd: 5 }],
    });
    expect(second).toMatchObject({ status: 'stopped', stopReason: 'budget-exceeded' });
    expect(second.totals.modelCalls).toBe(0);
    await engine.close();
  });
});

describe('budgets and approvals', () => {
  it('does not run an approved call when the tenant budget was spent while it waited', async () => {
    const engine = engineInTemporaryDirectory();
    const budgets = [{ scope: 'tenant' as const, limitUsd: 4 }];
    const payments: number[] = [];
    const pay = tool({
      name: 'pay',
      description: 'Pay an amount.',
      input: z.object({ amount: z.number() }),
      effect: 'side-effect',
      execute: ({ amount }) => {
        payments.push(amount);
        return 'paid';
      },
    });
    const payer = () =>
      agent({
        name: 'payer',
        instructions: '',
        maxOutputTokens: 1000,
        model: createScriptedModel({
          script: {
            turns: [
              {
                toolCalls: [{ name: 'pay', arguments: { amount: 10 } }],
                usage: { inputTokens: 1000, outputTokens: 100 },
              },
              { text: 'paid', usage: { inputTokens: 1000, outputTokens: 100 } },
            ],
          },
        }),
        tools: [pay],
        policies: [{ tool: 'pay', action: 'ask' }],
      });
    const waiting = await run(payer(), 'pay the bill', { engine, prices, tenant: 'acme', budgets });
    expect(waiting).toMatchObject({ status: 'waiting', stopReason: 'approval-required' });

    // Meanwhile another run of the tenant spends the rest ($3.60, on top of the payer's $1.20).
    await run(worker('other'), 'work', { engine, prices, tenant: 'acme' });
    expect(await engine.spentUsd({ scope: 'tenant', key: 'acme', since: 0, limitUsd: 4 })).toBeGreaterThan(4);

    await engine.decideApproval({ runId: waiting.runId, outcome: 'approve', actor: 'aiko' });
    const resumed = await resume(payer(), waiting.runId, { engine, prices, budgets });
    expect(payments).toEqual([]);
    expect(resumed).toMatchObject({ status: 'stopped', stopReason: 'budget-exceeded' });
    const audit = await engine.listAudit({ runId: waiting.runId });
    expect(audit.find((entry) => entry.action === 'budget-refused')?.note).toMatch(
      /^the tenant budget acme of \$4 is spent \(\$4\.8/,
    );
    await engine.close();
  });
});

describe('the cost ledger', () => {
  it('rolls costs up by model, agent, tenant, day, and run with its child runs', async () => {
    const engine = engineInTemporaryDirectory();
    const parent = await run(worker('planner'), 'plan', { engine, prices, tenant: 'acme' });
    await run(worker('helper'), 'help', { engine, prices, tenant: 'acme', parentRunId: parent.runId });
    await run(worker('helper'), 'other', { engine, prices, tenant: 'globex' });

    const byRun = await engine.costReport({ by: 'run' });
    expect(byRun.find((row) => row.key === parent.runId)).toMatchObject({ calls: 6, costUsd: expect.closeTo(7.2, 9) });
    expect(byRun).toHaveLength(2);
    const byTenant = await engine.costReport({ by: 'tenant' });
    expect(byTenant.map((row) => [row.key, row.calls])).toEqual([
      ['acme', 6],
      ['globex', 3],
    ]);
    const byAgent = await engine.costReport({ by: 'agent' });
    expect(byAgent.map((row) => [row.key, row.calls])).toEqual([
      ['helper', 6],
      ['planner', 3],
    ]);
    const byDay = await engine.costReport({ by: 'day' });
    expect(byDay).toEqual([expect.objectContaining({ key: new Date().toISOString().slice(0, 10), calls: 9 })]);
    const byModel = await engine.costReport({ by: 'model' });
    expect(byModel).toEqual([
      expect.objectContaining({ key: 'scripted:script', inputTokens: 9000, outputTokens: 900 }),
    ]);
    expect(await engine.costReport({ by: 'model', since: Date.now() + 60_000 })).toEqual([]);
    const globexByAgent = await engine.costReport({ by: 'agent', tenant: 'globex' });
    expect(globexByAgent.map((row) => [row.key, row.calls])).toEqual([['helper', 3]]);
    await engine.close();
  });

  it('counts calls with an unknown price as unpriced, never as free', async () => {
    const engine = engineInTemporaryDirectory();
    await run(worker('anyone'), 'work', { engine });
    expect(await engine.costReport({ by: 'model' })).toEqual([
      expect.objectContaining({ calls: 3, costUsd: 0, unpricedCalls: 3 }),
    ]);
    await engine.close();
  });
});
