/**
 * `hataraku/models`: models by name from config (`createModel`), the providers themselves, and
 * model labels (`provider:model`).
 */
export { parseModelName } from '../config/model-name.js';
export { type AiSdkModelOptions, fromAiSdkModel } from '../models/ai-sdk/ai-sdk-model.js';
export type { AiSdkLanguageModel } from '../models/ai-sdk/ai-sdk-types.js';
export { createAnthropicModel } from '../models/anthropic/anthropic-model.js';
export { createLocalModel, type LocalModelOptions } from '../models/local/local-model.js';
export { type ModelLabelParts, modelLabel, parseModelLabel } from '../models/model-label.js';
export { createOpenAIModel } from '../models/openai/openai-model.js';
export { type CreateModelOptions, createModel } from './model-registry.js';
