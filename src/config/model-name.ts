/**
 * Model names: `provider:modelId`, the one way a model is named in config, flags and the
 * journal. The provider is everything before the first colon, so model ids keep their own
 * colons (`ollama:qwen2.5:7b`, `openai:ft:gpt-4o-mini:acme::abc123`).
 */
import { UserError } from '../errors.js';
import { modelLabel, parseModelLabel } from '../models/model-label.js';
import { localModelProviders, providerPresets } from './provider-presets.js';

/** A model name split into its parts. */
export interface ModelName {
  provider: string;
  modelId: string;
}

/**
 * Split `name` into provider and model id.
 *
 * @param knownProviders provider ids to list when the name has no provider; defaults to the
 *   built-in ones.
 * @throws UserError `model_unknown` when the name has no provider or no model id.
 */
export function parseModelName(
  name: string,
  knownProviders: readonly string[] = [...Object.keys(providerPresets), ...localModelProviders],
): ModelName {
  const parts = parseModelLabel(name);
  const provider = parts.provider;
  const modelId = provider === '' ? '' : parts.modelId;
  const form = `write it as provider:model, e.g. openai:gpt-4o-mini or ollama:qwen2.5:7b (known providers: ${knownProviders.join(', ')})`;
  if (provider === '') {
    throw new UserError('model_unknown', `model name ${JSON.stringify(name)} has no provider; ${form}`, {
      details: { name, knownProviders },
    });
  }
  if (modelId === '') {
    throw new UserError(
      'model_unknown',
      `model name ${JSON.stringify(name)} has no model id after "${provider}:"; ${form}`,
      {
        details: { name, knownProviders },
      },
    );
  }
  return { provider, modelId };
}

/** The name of a model, as `parseModelName` reads it: `modelLabel`, under the name config code knew. */
export const formatModelName: (model: ModelName) => string = modelLabel;
