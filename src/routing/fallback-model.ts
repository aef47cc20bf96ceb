/**
 * The `fallback` route: try each model in order, moving on when one fails before it has
 * answered.
 *
 * A model is skipped while its circuit breaker is open. When a model fails with an error the
 * route may recover from (see `upstream-failure.ts`: 429, 5xx, timeouts, connection errors, bad
 * responses, and also 401/403/404/400, which point at this upstream's setup or limits) before it
 * has streamed any text or tool call, the next model is tried. Once a model has streamed content,
 * the caller has seen part of its answer and a switch would not be transparent: its failure is
 * thrown as is (the agent loop may then call the route again from the start).
 *
 * Every decision is a `routing` event: the model tried and why, `circuit open` skips, and the
 * failure that moved the route on, e.g. `fallback: openai:gpt-4o-mini failed with 429 (rate
 * limited); trying groq:llama-3.1-8b`. Each model's usage is reported under its own name.
 */
import { ModelCallError } from '../errors.js';
import type { Model, ModelRequest, ModelStreamEvent } from '../models/spec.js';
import { type CircuitBreakerRegistry, createCircuitBreakerRegistry } from './circuit-breaker.js';
import { checkRouteOptions, createUsageTally, modelLabel, routeProvider, routeTargets } from './routed-call.js';
import { canFallBack, countsAgainstUpstream, describeFailure } from './upstream-failure.js';

/** Options of `createFallbackModel`. */
export interface FallbackModelOptions {
  /** Route name; the model is `route:<name>`. */
  name: string;
  /** Models in order of preference. */
  models: Model[];
  /**
   * Circuit breakers shared with other routes calling the same upstreams. Default: a registry
   * of this route alone, with the default breaker settings.
   */
  breakers?: CircuitBreakerRegistry;
}

/** Create a fallback route. Throws a TypeError naming a malformed option. */
export function createFallbackModel(options: FallbackModelOptions): Model {
  checkRouteOptions('createFallbackModel', options.name, options.models);
  const models = [...options.models];
  const breakers = options.breakers ?? createCircuitBreakerRegistry();

  async function* stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    /** What happened to the previous model, for the next routing reason. */
    let previous: string | undefined;
    const failures: ModelCallError[] = [];
    let soonestRetryMs: number | undefined;
    const tally = createUsageTally();

    for (const candidate of models) {
      const label = modelLabel(candidate);
      if (request.abortSignal?.aborted) throw abortedRoute(options.name);
      const permit = breakers.breaker(label).acquire();
      if (!permit.allowed) {
        const wait = permit.retryInMs > 0 ? `; next trial in ${Math.ceil(permit.retryInMs / 1000)} s` : '';
        yield {
          type: 'routing',
          model: label,
          reason: `fallback: circuit open for ${label} (${permit.reason}${wait}); skipping it`,
        };
        previous = `${label} skipped (circuit open)`;
        soonestRetryMs = Math.min(soonestRetryMs ?? Number.POSITIVE_INFINITY, permit.retryInMs);
        continue;
      }
      const trial = permit.trial ? ' as the half-open trial call' : '';
      yield {
        type: 'routing',
        model: label,
        reason:
          previous === undefined
            ? `fallback: trying ${label} first${trial}`
            : `fallback: ${previous}; trying ${label}${trial}`,
      };

      // Events before the first text, tool call or finish are held back, so that a model failing
      // there leaves no trace but its usage and routing decisions.
      const held: ModelStreamEvent[] = [];
      let committed = false;
      let settled = false;
      try {
        for await (const event of candidate.stream(request)) {
          const attributed = tally.pass(event, candidate);
          if (!committed && !isCommitting(event)) {
            held.push(attributed);
            continue;
          }
          if (!committed) {
            committed = true;
            yield* held;
            held.length = 0;
          }
          yield attributed;
        }
        if (committed) {
          settled = true;
          permit.success();
          return;
        }
        throw new ModelCallError({
          code: 'model_bad_response',
          provider: candidate.provider,
          modelId: candidate.modelId,
          retryable: false,
          message: `${label}: the response stream ended without any content or finish reason.`,
        });
      } catch (error) {
        settled = true;
        if (canFallBack(error) && countsAgainstUpstream(error)) permit.failure();
        else permit.release();
        if (committed || !canFallBack(error)) throw error;
        for (const event of held) if (event.type === 'usage' || event.type === 'routing') yield event;
        failures.push(error);
        previous = `${label} failed with ${describeFailure(error)}`;
      } finally {
        tally.endCall();
        // The consumer stopped reading (or an event handler threw) before the call ended.
        if (!settled) permit.release();
      }
    }
    throw allFailed(options.name, models.length, failures, soonestRetryMs);
  }

  return {
    specificationVersion: 'v1',
    provider: routeProvider,
    modelId: options.name,
    routesTo: routeTargets(models),
    stream,
  };
}

/** Text, a tool call or the finish: the point after which a failure can no longer fall back. */
function isCommitting(event: ModelStreamEvent): boolean {
  return (
    event.type === 'text-delta' ||
    event.type === 'tool-call-start' ||
    event.type === 'tool-call-delta' ||
    event.type === 'tool-call-end' ||
    event.type === 'finish'
  );
}

function allFailed(
  name: string,
  modelCount: number,
  failures: ModelCallError[],
  soonestRetryMs: number | undefined,
): ModelCallError {
  const skipped = modelCount - failures.length;
  const parts = failures.map((failure) => `${modelLabel(failure)} failed with ${describeFailure(failure)}`);
  if (skipped > 0) parts.push(`${skipped} skipped with an open circuit`);
  const last = failures.at(-1);
  return new ModelCallError({
    code: last?.code ?? 'model_unreachable',
    provider: routeProvider,
    modelId: name,
    status: last?.status,
    // Worth another try later when any upstream may recover by itself.
    retryable: skipped > 0 || failures.some((failure) => failure.retryable),
    retryAfterSeconds: soonestRetryMs === undefined ? last?.retryAfterSeconds : Math.ceil(soonestRetryMs / 1000),
    message: `${routeProvider}:${name}: every model of the fallback route failed: ${parts.join('; ')}.`,
    cause: last,
  });
}

function abortedRoute(name: string): ModelCallError {
  return new ModelCallError({
    code: 'model_aborted',
    provider: routeProvider,
    modelId: name,
    retryable: false,
    message: `${routeProvider}:${name}: the request was aborted.`,
  });
}
