/**
 * What a run's model calls cost, and the budgets they run under: pricing a response per model
 * for the ledger, and the budget rules (per run, agent, tenant or everything; per day or in total)
 * turned into the engine's budget scopes.
 */

import { costOfUsage } from '../cost/cost.js';
import type { PriceSource } from '../cost/price-source.js';
import type { BudgetScope, Engine, LedgerEntry } from '../engine/engine.js';
import { sumUsage } from '../models/collect-response.js';
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
  const ledger = response.usageByModel.map(({ model: name, usage }) => {
    const separator = name.indexOf(':');
    const price = prices?.lookup(name.slice(0, separator), name.slice(separator + 1), {
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
