/**
 * Per-step routing inside an agent: a strong model where the agent plans, a cheap one for the
 * steps that follow tool results.
 *
 * By default a request with no tool results since the last user message (the first turn of a
 * task) goes to the `planning` model, and a request that follows tool results (reading them and
 * calling the next tool, or writing the answer from them) goes to the `tools` model. A `choose`
 * function replaces that rule. Each decision is a `routing` event with its reason.
 */
import type { Model, ModelRequest, ModelStreamEvent } from '../models/spec.js';
import { attributeUsage, checkRouteOptions, modelLabel, routeProvider, routeTargets } from './routed-call.js';

/** The models a step router chooses between. */
export interface StepModels {
  /** For planning: the first turn of a task (default rule). Usually the strong model. */
  planning: Model;
  /** For turns after tool results (default rule). Usually the cheap model. */
  tools: Model;
}

/** A step router's choice: one of its models, and why. */
export interface StepChoice {
  model: Model;
  reason: string;
}

/** Options of `createStepRouter`. */
export interface StepRouterOptions extends StepModels {
  /** Route name; the model is `route:<name>`. */
  name: string;
  /** Pick the model for a request; must return `planning` or `tools`. Default: `chooseByStep`. */
  choose?: (request: ModelRequest, models: StepModels) => StepChoice;
}

/** Create a step router. Throws a TypeError naming a malformed option. */
export function createStepRouter(options: StepRouterOptions): Model {
  checkRouteOptions('createStepRouter', options.name, [options.planning, options.tools]);
  const models: StepModels = { planning: options.planning, tools: options.tools };
  const choose = options.choose ?? chooseByStep;

  async function* stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    const choice = choose(request, models);
    if (choice.model !== models.planning && choice.model !== models.tools) {
      throw new TypeError(
        `createStepRouter(${options.name}): choose returned a model that is neither the planning nor the tools model.`,
      );
    }
    yield { type: 'routing', model: modelLabel(choice.model), reason: `step: ${choice.reason}` };
    for await (const event of choice.model.stream(request)) yield attributeUsage(event, choice.model);
  }

  return {
    specificationVersion: 'v1',
    provider: routeProvider,
    modelId: options.name,
    routesTo: routeTargets([models.planning, models.tools]),
    stream,
  };
}

/** The default rule: planning model until tool results arrive, then the tools model. */
export function chooseByStep(request: ModelRequest, models: StepModels): StepChoice {
  const lastUser = request.messages.findLastIndex((message) => message.role === 'user');
  const toolResults = request.messages.slice(lastUser + 1).filter((message) => message.role === 'tool').length;
  if (toolResults === 0) {
    return { model: models.planning, reason: `no tool results yet; planning with ${modelLabel(models.planning)}` };
  }
  return {
    model: models.tools,
    reason: `follows ${toolResults} tool result(s); continuing with ${modelLabel(models.tools)}`,
  };
}
