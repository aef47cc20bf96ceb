/**
 * What a run's model calls cost, and the budgets they run under: pricing a response per model
 * for the ledger, and the budget rules (per run, agent, tenant or everything; per day or in total)
 * turned into the engine's budget scopes.
 */

import { costOfUsage } from '../cost/cost.js';
import type { PriceSource } from '../cost/price-source.js';
import type { BudgetScope, Engine, LedgerEntry } from '../engine/engine.js';
import { sumUsage } from '../models/collect-response.js';
import { modelLabel, parseModelLabel } from '../models/model-label.js';
import type { ModelRequest, ModelResponse } from '../models/spec.js';

/** A spend limit, in config form. */
export interface BudgetRule {
  scope: BudgetScope['scope'];
  /** Counted per UTC day, or over all time (default). */
  period?: 'day' | 'all';
  limitUsd: number;
  /** Past this, routing models move to cheaper models (see `ModelRequest.budget`). */
  softLimitUsd?: number;
}

/**
 * The cost of a response: each model it used priced at its own rates. Unknown when any part is
 * unknown (a price, or a token count), never counted as zero.
 */
export function priceResponse(
  response: ModelResponse,
  prices: PriceSource | undefined,
): { costUsd: number | undefined; ledger: LedgerEntry[] } {
  return priceUsageByModel(response.usageByModel, prices);
}

/** `priceResponse` for usage given per model label (`provider:modelId`). */
export function priceUsageByModel(
  usageByModel: ModelResponse['usageByModel'],
  prices: PriceSource | undefined,
): { costUsd: number | undefined; ledger: LedgerEntry[] } {
  const ledger = usageByModel.map(({ model: name, usage }) => {
    const { provider, modelId } = parseModelLabel(name);
    const price = prices?.lookup(provider, modelId, {
      inputTokens: usage.inputTokens,
    });
    return { model: name, usage, costUsd: costOfUsage(price, usage).usd };
  });
  const known = ledger.length > 0 && ledger.every((entry) => entry.costUsd !== undefined);
  return { costUsd: known ? ledger.reduce((total, entry) => total + (entry.costUsd ?? 0), 0) : undefined, ledger };
}

/** One ledger entry per model: a step that called a model twice (a summary) adds them up. */
export function mergeLedger(entries: LedgerEntry[]): LedgerEntry[] {
  const merged = new Map<string, LedgerEntry>();
  for (const entry of entries) {
    const existing = merged.get(entry.model);
    if (!existing) {
      merged.set(entry.model, { ...entry });
      continue;
    }
    const usage = sumUsage([existing.usage, entry.usage]);
    const costUsd =
      existing.costUsd === undefined || entry.costUsd === undefined ? undefined : existing.costUsd + entry.costUsd;
    merged.set(entry.model, { model: entry.model, usage, costUsd });
  }
  return [...merged.values()];
}

export function startOfUtcDay(time: number): number {
  const day = new Date(time);
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
}

/** The budget with the least room left, as routing models see it. */
export async function tightestBudget(
  engine: Engine,
  scopes: Array<{ scope: BudgetScope; softLimitUsd: number | undefined }>,
): Promise<ModelRequest['budget']> {
  let tightest: ModelRequest['budget'];
  for (const { scope, softLimitUsd } of scopes) {
    const spentUsd = await engine.spentUsd(scope);
    if (!tightest || scope.limitUsd - spentUsd < tightest.limitUsd - tightest.spentUsd) {
      tightest = { spentUsd, limitUsd: scope.limitUsd, softLimitUsd };
    }
  }
  return tightest;
}

/** What the loop needs to check a call's cost before making it. */
export interface CallCostPlan {
  /** The most a call could cost (a routing model's most expensive candidate); undefined when unpriced. */
  estimateCallCost(inputTokens: number): number | undefined;
  /** Models the call may use that have no known price. */
  unpriced: Array<{ provider: string; modelId: string }>;
  /** The run's budgets as engine scopes, with their soft limits. */
  budgetScopes: Array<{ scope: BudgetScope; softLimitUsd: number | undefined }>;
}

export function planCallCosts(input: {
  model: { provider: string; modelId: string; routesTo?: readonly string[] | undefined };
  prices: PriceSource | undefined;
  maxOutputTokens: number;
  budgets: readonly BudgetRule[];
  keys: { run: string; agent: string; tenant: string | undefined };
}): CallCostPlan {
  const candidates = (input.model.routesTo ?? [modelLabel(input.model)]).map(parseModelLabel);
  return {
    estimateCallCost(inputTokens) {
      let highest: number | undefined;
      for (const candidate of candidates) {
        const cost = costOfUsage(input.prices?.lookup(candidate.provider, candidate.modelId, { inputTokens }), {
          inputTokens,
          outputTokens: input.maxOutputTokens,
        }).usd;
        if (cost === undefined) return undefined;
        highest = Math.max(highest ?? 0, cost);
      }
      return highest;
    },
    unpriced: candidates.filter(
      (candidate) => input.prices?.lookup(candidate.provider, candidate.modelId) === undefined,
    ),
    budgetScopes: input.budgets.flatMap((rule) => {
      const since = rule.period === 'day' ? startOfUtcDay(Date.now()) : 0;
      const key = { run: input.keys.run, agent: input.keys.agent, tenant: input.keys.tenant, global: '*' }[rule.scope];
      if (key === undefined) return [];
      return [{ scope: { scope: rule.scope, key, since, limitUsd: rule.limitUsd }, softLimitUsd: rule.softLimitUsd }];
    }),
  };
}
