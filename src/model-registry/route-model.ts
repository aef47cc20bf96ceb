/**
 * Routing models from the `routes` in config: fallback (circuit breakers), cascade (verifiers),
 * budget tiers, per-step routing and self-consistency. Each is a `Model` over member models,
 * which the registry builds by name (`member`), so routes can name other routes.
 */
import type { RouteConfig } from '../config/load-config.js';
import { UserError } from '../errors.js';
import type { Model } from '../models/spec.js';
import { createBudgetModel } from '../routing/budget-model.js';
import { createCascadeModel } from '../routing/cascade-model.js';
import { type CircuitBreakerRegistry, createCircuitBreakerRegistry } from '../routing/circuit-breaker.js';
import { createFallbackModel } from '../routing/fallback-model.js';
import { type AnswerFormat, parseAnswerFormat } from '../routing/learned/answer-format.js';
import { loadLearnedRouter } from '../routing/learned/learned-router-file.js';
import { learnedVerifier } from '../routing/learned/learned-verifier.js';
import { createSelfConsistencyModel } from '../routing/self-consistency-model.js';
import { createStepRouter } from '../routing/step-router.js';
import { matchesFormat, nonEmptyAnswer, type Verifier, validJsonOutput, validToolCall } from '../routing/verifiers.js';

/** What a route needs: the routes in config, the shared breakers, and a way to build its members. */
export interface RouteModelSettings {
  routes: Readonly<Record<string, RouteConfig>>;
  /** Circuit breakers shared by every fallback route (one registry per Hataraku instance). */
  breakers: CircuitBreakerRegistry | undefined;
  /** Directory a learned verifier's file is taken from. */
  cwd: string;
  /** Build the member model `name`; `routePath` is the chain of routes that led to it (for cycles). */
  member: (name: string, routePath: string[]) => Model;
}

export function createRouteModel(routeName: string, settings: RouteModelSettings, routePath: string[]): Model {
  // Own keys only: a client's `route:constructor` must not find Object's prototype.
  const route: RouteConfig | undefined = Object.hasOwn(settings.routes, routeName)
    ? settings.routes[routeName]
    : undefined;
  if (!route) {
    const known = Object.keys(settings.routes);
    throw new UserError(
      'model_unknown',
      `no route named "${routeName}"; ${known.length > 0 ? `the routes are: ${known.join(', ')}` : 'define it under "routes" in hataraku.config.json'}.`,
    );
  }
  if (routePath.includes(routeName)) {
    throw new UserError('config_invalid', `routes form a cycle: ${[...routePath, routeName].join(' -> ')}; break it.`);
  }
  const member = (name: string) => settings.member(name, [...routePath, routeName]);
  switch (route.type) {
    case 'fallback':
      return createFallbackModel({
        name: routeName,
        models: route.models.map(member),
        // A route with its own breaker settings gets its own registry; the others share one.
        ...(route.circuitBreaker
          ? { breakers: createCircuitBreakerRegistry(withoutUndefined(route.circuitBreaker)) }
          : settings.breakers
            ? { breakers: settings.breakers }
            : {}),
      });
    case 'cascade':
      return createCascadeModel({
        name: routeName,
        models: route.models.map(member),
        verify: route.verify.map((verifier) => verifierFor(verifier, settings.cwd)),
      });
    case 'budget':
      return createBudgetModel({
        name: routeName,
        models: route.models.map((tier) => ({
          model: member(tier.model),
          minRemainingFraction: tier.minRemainingFraction,
        })),
      });
    case 'step':
      return createStepRouter({ name: routeName, planning: member(route.planning), tools: member(route.tools) });
    case 'self-consistency': {
      let answerFormat: AnswerFormat;
      try {
        answerFormat = parseAnswerFormat(route.answer);
      } catch (error) {
        throw new UserError('config_invalid', `routes.${routeName}.answer: ${(error as Error).message}`);
      }
      return createSelfConsistencyModel({
        name: routeName,
        models: [member(route.models[0]), member(route.models[1])],
        samples: route.samples,
        answerFormat,
        minAgreement: route.minAgreement,
      });
    }
  }
}

function verifierFor(verifier: Extract<RouteConfig, { type: 'cascade' }>['verify'][number], cwd: string): Verifier {
  if (typeof verifier === 'object' && 'learned' in verifier)
    return learnedVerifier(loadLearnedRouter(verifier.learned, cwd));
  if (typeof verifier === 'object') return matchesFormat(new RegExp(verifier['matches-format']));
  if (verifier === 'valid-tool-call') return validToolCall();
  if (verifier === 'valid-json-output') return validJsonOutput();
  return nonEmptyAnswer();
}

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
