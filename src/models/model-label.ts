/**
 * The `provider:model` label, the one way a model is named in config, flags, events, prices and
 * the journal. The provider is everything before the first colon, so model ids keep their own
 * colons (`ollama:qwen2.5:7b`, `openai:ft:gpt-4o-mini:acme::abc123`). Build it with `modelLabel`
 * and read it with `parseModelLabel`; never by hand.
 */

/** A model's provider and id: the parts of its label. */
export interface ModelLabelParts {
  provider: string;
  modelId: string;
}

/** `provider:modelId` of a model (or of anything naming one: a usage entry, a price, a request). */
export function modelLabel(model: ModelLabelParts): string {
  return `${model.provider}:${model.modelId}`;
}

/**
 * The parts of `label`: the provider before the first colon, the model id after it. A label
 * without a colon has an empty provider and the whole text as its model id; `parseModelName`
 * (`src/config/model-name.ts`) turns a bad name from a user into a clear error.
 */
export function parseModelLabel(label: string): ModelLabelParts {
  const separator = label.indexOf(':');
  if (separator === -1) return { provider: '', modelId: label };
  return { provider: label.slice(0, separator), modelId: label.slice(separator + 1) };
}
