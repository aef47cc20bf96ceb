/**
 * Context control: counting a request's tokens with a real tokenizer, checking it against a
 * budget, and strategies that decide what of the history the model sees at each call.
 */
export {
  type ContextBudgetMeasure,
  type ContextBudgetOptions,
  checkContextBudget,
  measureContextBudget,
} from './context-budget.js';
export {
  type ContextInput,
  type ContextModelCall,
  type ContextOutput,
  type ContextStrategy,
  callOfToolResult,
  composeStrategies,
  modelCallPoints,
  sendEverything,
} from './context-strategy.js';
export { type MaskOptions, maskBoundary, maskUsedToolResults } from './mask-tool-results.js';
export { type OffloadOptions, offloadedResultPath, offloadLargeToolResults } from './offload-tool-results.js';
export { type SummarizeOptions, summarizeHistory, summaryCuts } from './summarize-history.js';
export {
  type CountedRequest,
  countMessageTokens,
  countRequestTokens,
  countTextTokens,
  countToolDefinitionTokens,
  encodeText,
  type TokenizerChoice,
  type TokenizerEncoding,
  tokenizerFor,
} from './token-counter.js';
