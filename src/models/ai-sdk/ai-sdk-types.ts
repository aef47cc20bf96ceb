/**
 * The parts of the AI SDK's language model specification (`LanguageModelV3` in
 * `@ai-sdk/provider` 3, used by `ai` 6 and `@ai-sdk/*` providers 2 and 3; `LanguageModelV2`
 * for `ai` 5) that the adapter uses, written out structurally so Hataraku does not depend on the
 * package: any object of that shape works.
 */

export type AiSdkJson = null | string | number | boolean | AiSdkJson[] | { [key: string]: AiSdkJson | undefined };

export type AiSdkPromptMessage =
  | { role: 'system'; content: string }
  | {
      role: 'user';
      content: Array<
        { type: 'text'; text: string } | { type: 'file'; data: string; mediaType: string; filename?: string }
      >;
    }
  | {
      role: 'assistant';
      content: Array<
        | { type: 'text'; text: string }
        | { type: 'reasoning'; text: string }
        | { type: 'tool-call'; toolCallId: string; toolName: string; input: unknown }
      >;
    }
  | {
      role: 'tool';
      content: Array<{
        type: 'tool-result';
        toolCallId: string;
        toolName: string;
        output: { type: 'text'; value: string } | { type: 'error-text'; value: string };
      }>;
    };

export interface AiSdkCallOptions {
  prompt: AiSdkPromptMessage[];
  maxOutputTokens?: number;
  temperature?: number;
  stopSequences?: string[];
  responseFormat?: { type: 'text' } | { type: 'json'; schema?: unknown; name?: string; description?: string };
  tools?: Array<{ type: 'function'; name: string; description?: string; inputSchema: unknown; strict?: boolean }>;
  toolChoice?: { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; toolName: string };
  abortSignal?: AbortSignal;
  providerOptions?: Record<string, Record<string, AiSdkJson | undefined>>;
}

/** V3 usage (nested) or V2 usage (flat numbers). */
export type AiSdkUsage =
  | {
      inputTokens: { total: number | undefined; cacheRead?: number | undefined; cacheWrite?: number | undefined };
      outputTokens: { total: number | undefined; reasoning?: number | undefined };
    }
  | {
      inputTokens: number | undefined;
      outputTokens: number | undefined;
      cachedInputTokens?: number | undefined;
      reasoningTokens?: number | undefined;
    };

/** V3 finish reason (unified and raw) or V2 (a string). */
export type AiSdkFinishReason = { unified: string; raw: string | undefined } | string;

export type AiSdkWarning =
  | { type: 'unsupported' | 'compatibility'; feature: string; details?: string }
  | { type: 'unsupported-setting'; setting: string; details?: string }
  | { type: 'unsupported-tool'; tool: unknown; details?: string }
  | { type: 'other'; message: string };

export type AiSdkStreamPart =
  | { type: 'stream-start'; warnings: AiSdkWarning[] }
  | { type: 'text-start' | 'text-end' | 'reasoning-start' | 'reasoning-end' | 'tool-input-end'; id: string }
  | { type: 'text-delta' | 'reasoning-delta'; id: string; delta: string }
  | { type: 'tool-input-start'; id: string; toolName: string }
  | { type: 'tool-input-delta'; id: string; delta: string }
  | { type: 'tool-call'; toolCallId: string; toolName: string; input: string }
  | { type: 'finish'; usage: AiSdkUsage; finishReason: AiSdkFinishReason }
  | { type: 'error'; error: unknown }
  | { type: string };

/**
 * An AI SDK language model (`LanguageModelV3`, or `LanguageModelV2`), as far as the adapter uses
 * it. `Options` is the SDK's own call-options type: the adapter builds options of the shape above,
 * which every version of the specification it accepts reads.
 */
export interface AiSdkLanguageModel<Options = never> {
  readonly specificationVersion: 'v3' | 'v2';
  readonly provider: string;
  readonly modelId: string;
  doStream(options: Options): PromiseLike<{ stream: ReadableStream<unknown> }>;
}
