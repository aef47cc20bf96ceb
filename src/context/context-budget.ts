/**
 * The context budget: before every model call, the request's prompt is counted with the real
 * tokenizer and compared with the most input tokens the run allows (or the model accepts). The
 * loop asks `measureContextBudget` to decide whether to compact the history first, and
 * `checkContextBudget` to stop with a clear error when even the compacted request is too large.
 */
import { HatarakuError } from '../errors.js';
import { type CountedRequest, countRequestTokens, tokenizerFor } from './token-counter.js';

export interface ContextBudgetOptions {
  /** The most prompt tokens one call may send. */
  maxInputTokens: number;
  /** The model about to be called, `provider:modelId`, to choose the tokenizer. */
  modelName: string;
}

/** How a request measures against its budget. */
export interface ContextBudgetMeasure {
  inputTokens: number;
  maxInputTokens: number;
  /** True when `inputTokens` is at most `maxInputTokens`. */
  withinBudget: boolean;
  /** Tokens over the budget; 0 when within it. */
  overBy: number;
  /** False when the count approximates the model's tokenizer (see `tokenizerFor`). */
  exactTokenizer: boolean;
}

/** Count `request` and compare it with the budget; never throws for an oversized request. */
export function measureContextBudget(request: CountedRequest, options: ContextBudgetOptions): ContextBudgetMeasure {
  if (!Number.isFinite(options.maxInputTokens) || options.maxInputTokens <= 0)
    throw new RangeError(`maxInputTokens must be a positive number (got ${options.maxInputTokens})`);
  const inputTokens = countRequestTokens(request, options.modelName);
  const overBy = Math.max(0, inputTokens - options.maxInputTokens);
  return {
    inputTokens,
    maxInputTokens: options.maxInputTokens,
    withinBudget: overBy === 0,
    overBy,
    exactTokenizer: tokenizerFor(options.modelName).exact,
  };
}

/**
 * Throw a `HatarakuError` (`budget_exceeded`) when `request` is over the budget; otherwise
 * return the measure. The error's details carry the measure, for programs.
 */
export function checkContextBudget(request: CountedRequest, options: ContextBudgetOptions): ContextBudgetMeasure {
  const measure = measureContextBudget(request, options);
  if (!measure.withinBudget) {
    throw new HatarakuError(
      'budget_exceeded',
      `the request to ${options.modelName} has ${measure.inputTokens} input tokens${measure.exactTokenizer ? '' : ' (approximate count)'}, over the context budget of ${measure.maxInputTokens} by ${measure.overBy}; offload large tool results, mask used ones or summarize the history (the "context" run option), or raise the budget.`,
      { details: { ...measure, modelName: options.modelName } },
    );
  }
  return measure;
}
