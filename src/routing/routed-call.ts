/**
 * What every routing model shares: naming the models it calls, attributing their usage to them,
 * and listing what a route may call (its `routesTo`), so that the loop prices each model's
 * tokens at that model's own rates and estimates a call at its most expensive candidate.
 */
import { sumUsage } from '../models/collect-response.js';
import { modelLabel } from '../models/model-label.js';
import type { Model, ModelStreamEvent, Usage } from '../models/spec.js';

/** The provider every routing model reports; a route named `cheap-first` is `route:cheap-first`. */
export const routeProvider = 'route';

/** `provider:modelId` of a model, as usage, routing events and prices name it. */
export { modelLabel };

/**
 * Pass an inner model's event on, naming the model on its usage. A usage event without a model
 * belongs to the model that emitted it; once it leaves the routing model it would otherwise be
 * charged to the route, which has no price.
 */
export function attributeUsage(event: ModelStreamEvent, model: Model): ModelStreamEvent {
  if (event.type !== 'usage' || event.model !== undefined) return event;
  return { ...event, model: modelLabel(model) };
}

/**
 * Usage reports of the calls a route makes, made cumulative per model. Within one call a
 * model's last report counts (as `collectResponse` reads it); a route that calls the same model
 * twice (a cascade or fallback listing one model name on two endpoints) must report the sum, or
 * the second call's report would replace the first's.
 */
export interface UsageTally {
  /** The event to pass on for an inner model's event: usage named and summed with earlier calls. */
  pass(event: ModelStreamEvent, model: Model): ModelStreamEvent;
  /** The current inner call has ended (successfully or not). */
  endCall(): void;
}

export function createUsageTally(): UsageTally {
  const earlier = new Map<string, Usage>();
  let current = new Map<string, Usage>();
  return {
    pass(event, model) {
      const attributed = attributeUsage(event, model);
      if (attributed.type !== 'usage' || attributed.model === undefined) return attributed;
      current.set(attributed.model, attributed.usage);
      const before = earlier.get(attributed.model);
      return before === undefined ? attributed : { ...attributed, usage: sumUsage([before, attributed.usage]) };
    },
    endCall() {
      for (const [name, usage] of current) {
        const before = earlier.get(name);
        earlier.set(name, before === undefined ? usage : sumUsage([before, usage]));
      }
      current = new Map();
    },
  };
}

/**
 * The models a route may call, flattened through nested routes and without repeats. A nested
 * route contributes its own `routesTo`, never its `route:` name, which has no price.
 */
export function routeTargets(models: readonly Model[]): string[] {
  const targets = new Set<string>();
  for (const model of models) for (const target of model.routesTo ?? [modelLabel(model)]) targets.add(target);
  return [...targets];
}

/** Check a route's name and member list, throwing a TypeError that names the factory. */
export function checkRouteOptions(factory: string, name: unknown, models: readonly unknown[]): void {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new TypeError(`${factory}: the name option must be a non-empty string.`);
  }
  if (models.length === 0) throw new TypeError(`${factory}(${name}): the models option must list at least one model.`);
  for (const [position, model] of models.entries()) {
    if (typeof model !== 'object' || model === null || typeof (model as Model).stream !== 'function') {
      throw new TypeError(`${factory}(${name}): models[${position}] is not a Model.`);
    }
  }
}
