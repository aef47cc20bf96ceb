/**
 * The tools layer: defining tools, preparing (validating and repairing) the calls models make,
 * recognising calls written as text, and running calls side by side.
 */

export { mapWithConcurrency } from './concurrency.js';
export {
  isZodSchema,
  type JsonSchemaToolOptions,
  tool,
  toolNamePattern,
  type ZodToolOptions,
} from './define-tool.js';
export {
  formatIssuePath,
  type InvalidToolCall,
  type PreparedToolCall,
  prepareToolCall,
  type ReadyToolCall,
  type ToolCallRequest,
} from './prepare-call.js';
export { type CoercionRepair, type CoercionResult, coerceToSchema } from './repair/coerce.js';
export { type JsonTextParseResult, parseJsonText } from './repair/json-text.js';
export { matchToolName, type ToolNameMatch, type ToolNameMatchKind } from './repair/tool-name.js';
export { extractTextToolCalls, type TextToolCall, type TextToolCallExtraction } from './text-tool-calls.js';
export type {
  ArtifactInput,
  RunResources,
  Tool,
  ToolContext,
  ToolEffect,
  ToolInputIssue,
  ValidationResult,
} from './tool.js';
export { createToolContext, type StandaloneToolContext } from './tool-context.js';
