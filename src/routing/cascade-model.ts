/**
 * The `cascade` route: ask the cheapest model first and escalate to a stronger one when a
 * verifier rejects its answer.
 *
 * A cheap model's answer cannot be shown before it is verified, so the cascade buffers each
 * model's whole response, runs the verifiers, and only then yields the accepted response's
 * events. The caller sees no text until a response is accepted: a cascade trades the first
 * token's latency for cost. The strongest model's answer is returned even when a verifier
 * rejects it, since there is nothing left to escalate to; the routing event says so.
 *
 * A model that fails with an error a route may recover from (see `upstream-failure.ts`) is
 * escalated past like a rejected answer. The usage of every model called, the rejected ones
 * included, is reported under its own name, so the cost of a call is what was spent. The text
 * of a rejected answer rides on the escalation's routing event (`rejectedAnswer`), so the
 * journal keeps what the cheap model said for a router to learn from.
 */
import { collectResponse } from '../models/collect-response.js';
import type { Model, ModelRequest, ModelResponse, ModelStreamEvent } from '../models/spec.js';
import { checkRouteOptions, createUsageTally, modelLabel, routeProvider, routeTargets } from './routed-call.js';
import { canFallBack, describeFailure } from './upstream-failure.js';
import { runVerifiers, type Verifier } from './verifiers.js';

/** Options of `createCascadeModel`. */
export interface CascadeModelOptions {
  /** Route name; the model is `route:<name>`. */
  name: string;
  /** Models from the cheapest to the strongest. */
  models: Model[];
  /** Checks of an answer; all must accept it. */
  verify: Verifier | Verifier[];
}

/** Create a cascade route. Throws a TypeError naming a malformed option. */
export function createCascadeModel(options: CascadeModelOptions): Model {
  checkRouteOptions('createCascadeModel', options.name, options.models);
  const models = [...options.models];
  const verifiers = Array.isArray(options.verify) ? [...options.verify] : [options.verify];
  if (verifiers.length === 0 || verifiers.some((verifier) => typeof verifier !== 'function')) {
    throw new TypeError(
      `createCascadeModel(${options.name}): verify must be a verifier function or a non-empty list of them.`,
    );
  }

  async function* stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    let escalation: string | undefined;
    let rejectedAnswer: string | undefined;
    const tally = createUsageTally();
    for (const [position, candidate] of models.entries()) {
      const label = modelLabel(candidate);
      const strongest = position === models.length - 1;
      yield {
        type: 'routing',
        model: label,
        reason:
          escalation === undefined
            ? `cascade: trying ${label} first`
            : `cascade: escalating to ${label}: ${escalation}`,
        ...(rejectedAnswer === undefined ? {} : { rejectedAnswer }),
      };
      const buffered: ModelStreamEvent[] = [];
      let response: ModelResponse;
      try {
        response = await collectResponse(candidate, request, (event) => buffered.push(tally.pass(event, candidate)));
      } catch (error) {
        tally.endCall();
        yield* spentOnly(buffered);
        if (strongest || !canFallBack(error)) throw error;
        escalation = `${label} failed with ${describeFailure(error)}`;
        rejectedAnswer = undefined;
        continue;
      }
      tally.endCall();
      const verdict = await runVerifiers(verifiers, response, request);
      if (verdict.accept || strongest) {
        yield {
          type: 'routing',
          model: label,
          reason: verdict.accept
            ? `cascade: accepted ${label}: ${verdict.reason}`
            : `cascade: ${label} rejected (${verdict.reason}), but it is the strongest model; returning its answer`,
        };
        yield* buffered;
        return;
      }
      yield* spentOnly(buffered);
      escalation = `${label} rejected: ${verdict.reason}`;
      rejectedAnswer = response.text;
    }
  }

  return {
    specificationVersion: 'v1',
    provider: routeProvider,
    modelId: options.name,
    routesTo: routeTargets(models),
    stream,
  };
}

/** Of a response that is not used, what still counts: its usage and any routing decisions. */
function spentOnly(events: readonly ModelStreamEvent[]): ModelStreamEvent[] {
  return events.filter((event) => event.type === 'usage' || event.type === 'routing');
}
