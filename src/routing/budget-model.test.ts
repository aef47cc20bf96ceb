import { describe, expect, it } from 'vitest';
import { collectResponse } from '../models/collect-response.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import type { ModelRequest } from '../models/spec.js';
import { type BudgetStatus, createBudgetModel, remainingFraction } from './budget-model.js';

const request: ModelRequest = { messages: [{ role: 'user', content: 'Summarise the report.' }] };

function scripted(modelId: string) {
  return createScriptedModel({
    script: { turns: [{ text: `from ${modelId}`, usage: { inputTokens: 9, outputTokens: 3 } }] },
    modelId,
  });
}

function route(status: () => BudgetStatus | undefined) {
  const strong = scripted('strong');
  const middle = scripted('middle');
  const cheap = scripted('cheap');
  const model = createBudgetModel({
    name: 'thrifty',
    models: [
      { model: strong, minRemainingFraction: 0.5 },
      { model: middle, minRemainingFraction: 0.2 },
      { model: cheap, minRemainingFraction: 0.05 },
    ],
    budget: status,
  });
  return { model, strong, middle, cheap };
}

describe('createBudgetModel', () => {
  it('moves down to cheaper models as the budget runs out', async () => {
    let spent = 0;
    const { model } = route(() => ({ spentUsd: spent, limitUsd: 1 }));
    const chosen: string[] = [];
    for (const spend of [0, 0.49, 0.51, 0.8, 0.96, 1.2]) {
      spent = spend;
      chosen.push((await collectResponse(model, request)).text);
    }
    expect(chosen).toEqual(['from strong', 'from strong', 'from middle', 'from middle', 'from cheap', 'from cheap']);
  });

  it('records why it chose a model', async () => {
    const { model } = route(() => ({ spentUsd: 0.6, limitUsd: 1 }));
    const response = await collectResponse(model, request);
    expect(response.routing).toEqual([
      {
        model: 'scripted:middle',
        reason:
          'budget: 40% of $1.00 left ($0.60 spent); scripted:middle allowed at 20% or more; downgraded from scripted:strong (needs 50%)',
      },
    ]);
    expect(response.usageByModel).toEqual([
      { model: 'scripted:middle', usage: expect.objectContaining({ inputTokens: 9 }) },
    ]);
  });

  it('uses the cheapest model once spend passes the soft limit', async () => {
    const { model, strong } = route(() => ({ spentUsd: 0.3, limitUsd: 1, softLimitUsd: 0.25 }));
    const response = await collectResponse(model, request);
    expect(response.text).toBe('from cheap');
    expect(response.routing[0]?.reason).toBe(
      'budget: $0.30 spent, past the soft limit of $0.25; using the cheapest model scripted:cheap',
    );
    expect(strong.requests).toHaveLength(0);
  });

  it('falls to the cheapest model below every threshold', async () => {
    const { model } = route(() => ({ spentUsd: 0.99, limitUsd: 1 }));
    const response = await collectResponse(model, request);
    expect(response.text).toBe('from cheap');
    expect(response.routing[0]?.reason).toContain('below every threshold');
  });

  it('reads the budget the loop puts on the request, and the tighter of two budgets decides', async () => {
    const { model } = route(() => ({ spentUsd: 10, limitUsd: 100 }));
    expect((await collectResponse(model, request)).text).toBe('from strong');
    const tight = { ...request, budget: { spentUsd: 0.7, limitUsd: 1 } };
    expect((await collectResponse(model, tight)).text).toBe('from middle');
    const { model: noSource } = route(() => undefined);
    expect((await collectResponse(noSource, tight)).text).toBe('from middle');
    const unknown = await collectResponse(noSource, request);
    expect(unknown.text).toBe('from strong');
    expect(unknown.routing[0]?.reason).toBe('budget: no budget is known; using the strongest model scripted:strong');
  });

  it('accepts an async budget source', async () => {
    const model = createBudgetModel({
      name: 'ledger',
      models: [
        { model: scripted('strong'), minRemainingFraction: 0.5 },
        { model: scripted('cheap'), minRemainingFraction: 0 },
      ],
      budget: async () => ({ spentUsd: 3, limitUsd: 4 }),
    });
    expect((await collectResponse(model, request)).text).toBe('from cheap');
    expect(model.routesTo).toEqual(['scripted:strong', 'scripted:cheap']);
  });

  it('refuses thresholds out of range or out of order', () => {
    const strong = scripted('strong');
    const cheap = scripted('cheap');
    expect(() => createBudgetModel({ name: 'x', models: [{ model: strong, minRemainingFraction: 1.5 }] })).toThrow(
      RangeError,
    );
    expect(() =>
      createBudgetModel({
        name: 'x',
        models: [
          { model: cheap, minRemainingFraction: 0 },
          { model: strong, minRemainingFraction: 0.5 },
        ],
      }),
    ).toThrow(/strongest to the cheapest/);
  });

  it('computes the remaining share of a budget', () => {
    expect(remainingFraction({ spentUsd: 0.25, limitUsd: 1 })).toBe(0.75);
    expect(remainingFraction({ spentUsd: 2, limitUsd: 1 })).toBe(0);
    expect(remainingFraction({ spentUsd: 0, limitUsd: 0 })).toBe(0);
    expect(remainingFraction({ spentUsd: 5, limitUsd: Number.POSITIVE_INFINITY })).toBe(1);
  });
});
