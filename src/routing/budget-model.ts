/**
 * The `budget` route: use the strongest model the remaining budget allows, moving down to
 * cheaper ones as the budget runs out.
 *
 * Each model has a threshold, the share of the budget that must still be left to use it
 * (strongest first, thresholds falling). The route picks the first model whose threshold the
 * remaining share meets; below every threshold, and always once spend has passed a soft limit,
 * it picks the cheapest. The budget comes from the `budget` option (a function, so it can read
 * a run's or a tenant's ledger) and from the request's `budget` field (which the agent loop
 * fills with the tightest budget the call runs under); when both are known the tighter one
 * decides. With neither, the strongest model is used.
 */
import type { Model, ModelRequest, ModelStreamEvent } from '../models/spec.js';
import { attributeUsage, checkRouteOptions, modelLabel, routeProvider, routeTargets } from './routed-call.js';

/** Money spent against a limit. */
export interface BudgetStatus {
  spentUsd: number;
  limitUsd: number;
  /** Past this spend the route always uses its cheapest model. */
  softLimitUsd?: number | undefined;
}

/** One model of a budget route and when it may be used. */
export interface BudgetTier {
  model: Model;
  /** Share of the budget (0 to 1) that must remain to use this model; 0 for the cheapest. */
  minRemainingFraction: number;
}

/** Options of `createBudgetModel`. */
export interface BudgetModelOptions {
  /** Route name; the model is `route:<name>`. */
  name: string;
  /** Models from the strongest (highest threshold) to the cheapest. */
  models: BudgetTier[];
  /** Reads the budget before each call; undefined when none applies. */
  budget?: () => BudgetStatus | undefined | Promise<BudgetStatus | undefined>;
}

/**
 * Create a budget route. Throws a TypeError for a malformed option and a RangeError for a
 * threshold outside 0 to 1 or thresholds that are not in falling order.
 */
export function createBudgetModel(options: BudgetModelOptions): Model {
  const tiers = [...(options.models ?? [])];
  checkRouteOptions(
    'createBudgetModel',
    options.name,
    tiers.map((tier) => tier?.model),
  );
  for (const [position, tier] of tiers.entries()) {
    const threshold = tier.minRemainingFraction;
    if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
      throw new RangeError(
        `createBudgetModel(${options.name}): models[${position}].minRemainingFraction must be between 0 and 1, got ${threshold}.`,
      );
    }
    const before = tiers[position - 1];
    if (before !== undefined && threshold > before.minRemainingFraction) {
      throw new RangeError(
        `createBudgetModel(${options.name}): list models from the strongest to the cheapest, with falling minRemainingFraction; models[${position}] has ${threshold}, above ${before.minRemainingFraction}.`,
      );
    }
  }

  async function* stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    const statuses = [await options.budget?.(), request.budget].filter(
      (status): status is BudgetStatus => status !== undefined,
    );
    const { tier, reason } = chooseTier(tiers, statuses);
    yield { type: 'routing', model: modelLabel(tier.model), reason };
    for await (const event of tier.model.stream(request)) yield attributeUsage(event, tier.model);
  }

  return {
    specificationVersion: 'v1',
    provider: routeProvider,
    modelId: options.name,
    routesTo: routeTargets(tiers.map((tier) => tier.model)),
    stream,
  };
}

/** The share of `status`'s limit still left, from 0 (spent or no limit to speak of) to 1. */
export function remainingFraction(status: BudgetStatus): number {
  if (!(status.limitUsd > 0)) return 0;
  if (status.limitUsd === Number.POSITIVE_INFINITY) return 1;
  const fraction = (status.limitUsd - status.spentUsd) / status.limitUsd;
  // Rounded so that $0.80 spent of $1.00 leaves exactly 20%, not 19.999…%, against a 20% threshold.
  return Math.min(1, Math.max(0, Math.round(fraction * 1e9) / 1e9));
}

function chooseTier(
  tiers: readonly BudgetTier[],
  statuses: readonly BudgetStatus[],
): { tier: BudgetTier; reason: string } {
  const strongest = tiers[0] as BudgetTier;
  const cheapest = tiers.at(-1) as BudgetTier;
  if (statuses.length === 0) {
    return {
      tier: strongest,
      reason: `budget: no budget is known; using the strongest model ${modelLabel(strongest.model)}`,
    };
  }
  const pastSoftLimit = statuses.find(
    (status) => status.softLimitUsd !== undefined && status.spentUsd >= status.softLimitUsd,
  );
  if (pastSoftLimit !== undefined) {
    return {
      tier: cheapest,
      reason: `budget: ${money(pastSoftLimit.spentUsd)} spent, past the soft limit of ${money(pastSoftLimit.softLimitUsd ?? 0)}; using the cheapest model ${modelLabel(cheapest.model)}`,
    };
  }
  const tightest = statuses.reduce((tighter, status) =>
    remainingFraction(status) < remainingFraction(tighter) ? status : tighter,
  );
  const left = remainingFraction(tightest);
  const state = `${percent(left)} of ${money(tightest.limitUsd)} left (${money(tightest.spentUsd)} spent)`;
  const chosen = tiers.find((tier) => left >= tier.minRemainingFraction);
  if (chosen === undefined) {
    return {
      tier: cheapest,
      reason: `budget: ${state}, below every threshold; using the cheapest model ${modelLabel(cheapest.model)}`,
    };
  }
  const downgrade =
    chosen === strongest
      ? ''
      : `; downgraded from ${modelLabel(strongest.model)} (needs ${percent(strongest.minRemainingFraction)})`;
  return {
    tier: chosen,
    reason: `budget: ${state}; ${modelLabel(chosen.model)} allowed at ${percent(chosen.minRemainingFraction)} or more${downgrade}`,
  };
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

function money(usd: number): string {
  return `$${usd < 0.01 && usd > 0 ? usd.toPrecision(2) : usd.toFixed(2)}`;
}
