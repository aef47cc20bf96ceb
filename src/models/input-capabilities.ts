/**
 * Which inputs besides text a model can take, by provider and model id. Used to leave out image
 * and PDF parts (with an `unsupported-content` warning) that the model would otherwise reject
 * with a 400 or silently ignore. Unknown models are assumed to take images: a vision model
 * served under a new name should not lose its pictures; the server answers if it cannot.
 */

export interface InputCapabilities {
  images: boolean;
  /** PDF documents as file parts. */
  pdf: boolean;
}

/** Models known to take text only, whatever the server (matched against the model id). */
const textOnlyModels: readonly RegExp[] = [
  /^deepseek-(chat|reasoner|coder)/,
  /^o1-mini/,
  /^o3-mini/,
  /^gpt-3\.5/,
  /^claude-(instant|2)/,
];

/** The inputs `modelId` on `provider` can take. */
export function inputCapabilitiesOf(provider: string, modelId: string): InputCapabilities {
  const bare = modelId.slice(modelId.lastIndexOf('/') + 1);
  const images = !textOnlyModels.some((pattern) => pattern.test(bare));
  // PDFs as input parts: OpenAI's Chat Completions (`file` parts) and Anthropic (`document`
  // blocks). Compatible servers (Ollama, vLLM, llama.cpp, DeepSeek, Groq) have no such part.
  const pdf = images && (provider === 'openai' || provider === 'anthropic');
  return { images, pdf };
}
