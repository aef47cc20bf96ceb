/**
 * Assemble a model's event stream into one `ModelResponse`, passing each event on to an
 * observer as it arrives (for live progress). Tool calls are taken from `tool-call-end` events,
 * falling back to the accumulated deltas when a provider ends the stream without them.
 */
import { ModelCallError } from '../errors.js';
import { modelLabel } from './model-label.js';
import type {
  FinishReason,
  Model,
  ModelRequest,
  ModelResponse,
  ModelStreamEvent,
  ReasoningPart,
  ToolCallPart,
  Usage,
} from './spec.js';

export async function collectResponse(
  model: Model,
  request: ModelRequest,
  onEvent?: (event: ModelStreamEvent) => void,
): Promise<ModelResponse> {
  let text = '';
  const reasoning: ReasoningPart[] = [];
  let refusal: string | undefined;
  const started = new Map<string, { name: string; arguments: string; index: number }>();
  const finished = new Map<string, ToolCallPart>();
  const ownName = modelLabel(model);
  const usageByModel = new Map<string, Usage>();
  const routing: ModelResponse['routing'] = [];
  let finishReason: FinishReason | undefined;
  const warnings: ModelResponse['warnings'] = [];

  for await (const event of model.stream(request)) {
    onEvent?.(event);
    switch (event.type) {
      case 'stream-start':
        warnings.push(...event.warnings);
        break;
      case 'warning':
        warnings.push(event.warning);
        break;
      case 'text-delta':
        text += event.delta;
        break;
      case 'reasoning':
        reasoning.push(event.part);
        break;
      case 'refusal':
        refusal = (refusal ?? '') + event.text;
        break;
      case 'tool-call-start':
        started.set(event.id, { name: event.name, arguments: '', index: event.index });
        break;
      case 'tool-call-delta': {
        const call = started.get(event.id);
        if (call) call.arguments += event.argumentsDelta;
        break;
      }
      case 'tool-call-end':
        finished.set(event.id, { type: 'tool-call', id: event.id, name: event.name, arguments: event.arguments });
        break;
      case 'usage':
        // A model reports its usage once per model it called; the last report per model counts.
        usageByModel.set(event.model ?? ownName, event.usage);
        break;
      case 'routing':
        routing.push({
          model: event.model,
          reason: event.reason,
          ...(event.rejectedAnswer === undefined ? {} : { rejectedAnswer: event.rejectedAnswer }),
        });
        break;
      case 'finish':
        finishReason = event.finishReason;
        break;
    }
  }
  if (finishReason === undefined) {
    throw new ModelCallError({
      code: 'model_bad_response',
      provider: model.provider,
      modelId: model.modelId,
      retryable: false,
      message: `${modelLabel(model)}: the response stream ended without a finish reason.`,
    });
  }
  const toolCalls: ToolCallPart[] = [...started.entries()]
    .sort((left, right) => left[1].index - right[1].index)
    .map(
      ([id, call]) =>
        finished.get(id) ?? { type: 'tool-call' as const, id, name: call.name, arguments: call.arguments },
    );
  for (const [id, call] of finished) if (!started.has(id)) toolCalls.push(call);
  const perModel = [...usageByModel.entries()].map(([name, usage]) => ({ model: name, usage }));
  const response: ModelResponse = {
    text,
    toolCalls,
    usage: sumUsage(perModel.map((entry) => entry.usage)),
    usageByModel: perModel,
    routing,
    finishReason,
    warnings,
  };
  if (reasoning.length > 0) response.reasoning = reasoning;
  if (refusal !== undefined || finishReason === 'refusal') response.refusal = refusal ?? text;
  return response;
}

/** Add usages; a count is known only when every part knows it. */
export function sumUsage(usages: Usage[]): Usage {
  if (usages.length === 0) return { inputTokens: undefined, outputTokens: undefined };
  const add = (pick: (usage: Usage) => number | undefined) =>
    usages.every((usage) => pick(usage) !== undefined)
      ? usages.reduce((total, usage) => total + (pick(usage) ?? 0), 0)
      : undefined;
  const optional = (pick: (usage: Usage) => number | undefined) =>
    usages.some((usage) => pick(usage) !== undefined)
      ? usages.reduce((total, usage) => total + (pick(usage) ?? 0), 0)
      : undefined;
  return {
    inputTokens: add((usage) => usage.inputTokens),
    outputTokens: add((usage) => usage.outputTokens),
    cachedInputTokens: optional((usage) => usage.cachedInputTokens),
    cacheWriteTokens: optional((usage) => usage.cacheWriteTokens),
    reasoningTokens: optional((usage) => usage.reasoningTokens),
  };
}
