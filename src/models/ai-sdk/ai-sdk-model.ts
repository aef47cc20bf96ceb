/**
 * Any AI SDK language model as a Hataraku `Model`: an `@ai-sdk/*` provider's model (Google,
 * Mistral, Bedrock, Azure, an OpenAI-compatible endpoint...) runs Hataraku agents through this
 * one adapter. It speaks the AI SDK's specification V3 (`ai` 6, `@ai-sdk/provider` 3) and V2
 * (`ai` 5): the request becomes the SDK's call options, and the SDK's stream parts become
 * Hataraku's stream events (text, reasoning, tool calls, usage, finish reason, warnings).
 * Retries are the SDK provider's own; its errors become `ModelCallError`s.
 */
import { ModelCallError } from '../../errors.js';
import { modelLabel } from '../model-label.js';
import type {
  FinishReason,
  Model,
  ModelMessage,
  ModelRequest,
  ModelStreamEvent,
  ModelWarning,
  Usage,
} from '../spec.js';
import { redactUrlCredentials } from '../transport/url-redaction.js';
import type {
  AiSdkCallOptions,
  AiSdkFinishReason,
  AiSdkLanguageModel,
  AiSdkPromptMessage,
  AiSdkStreamPart,
  AiSdkUsage,
  AiSdkWarning,
} from './ai-sdk-types.js';

export interface AiSdkModelOptions {
  /** Provider id in Hataraku's `provider:model` label (default: the SDK's provider up to its first dot, e.g. `google`). */
  provider?: string;
  /** Options passed to the SDK provider as they are (`providerOptions` of the AI SDK). */
  providerOptions?: AiSdkCallOptions['providerOptions'];
}

/** Wrap an AI SDK language model (`LanguageModelV3` or `LanguageModelV2`) as a Hataraku model. */
export function fromAiSdkModel<Options>(
  languageModel: AiSdkLanguageModel<Options>,
  options: AiSdkModelOptions = {},
): Model {
  if (languageModel?.specificationVersion !== 'v3' && languageModel?.specificationVersion !== 'v2') {
    throw new TypeError(
      `fromAiSdkModel(): expected an AI SDK language model (specificationVersion "v3" or "v2"), got ${JSON.stringify(languageModel?.specificationVersion)}; pass a model from an @ai-sdk provider, e.g. openai("gpt-4o-mini").`,
    );
  }
  const provider = options.provider ?? languageModel.provider.split('.')[0] ?? languageModel.provider;
  const identity = { provider, modelId: languageModel.modelId };
  return {
    specificationVersion: 'v1',
    ...identity,
    stream: (request) => streamCall(languageModel as AiSdkLanguageModel<unknown>, identity, request, options),
  };
}

async function* streamCall(
  languageModel: AiSdkLanguageModel<unknown>,
  identity: { provider: string; modelId: string },
  request: ModelRequest,
  options: AiSdkModelOptions,
): AsyncIterable<ModelStreamEvent> {
  const { callOptions, warnings } = callOptionsFor(request, options);
  let stream: ReadableStream<unknown>;
  try {
    ({ stream } = await languageModel.doStream(callOptions));
  } catch (error) {
    throw callError(identity, error, request.abortSignal);
  }
  const reader = stream.getReader();
  const reading = createPartReader(identity, warnings);
  try {
    for (;;) {
      const { done, value } = await reader.read().catch((error: unknown) => {
        throw callError(identity, error, request.abortSignal);
      });
      if (done) break;
      yield* reading.read(value as AiSdkStreamPart);
    }
  } finally {
    reader.releaseLock();
  }
}

/** Hataraku's request as the SDK's call options, with a warning for each setting it cannot carry. */
export function callOptionsFor(
  request: ModelRequest,
  options: AiSdkModelOptions = {},
): { callOptions: AiSdkCallOptions; warnings: ModelWarning[] } {
  const warnings: ModelWarning[] = [];
  if (request.parallelToolCalls === false) {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'parallelToolCalls',
      message:
        'parallelToolCalls: false is not part of the AI SDK call options; set it in providerOptions if the provider has it.',
    });
  }
  const format = request.responseFormat;
  const callOptions: AiSdkCallOptions = {
    prompt: request.messages.map(promptMessage),
    ...(request.maxOutputTokens !== undefined ? { maxOutputTokens: request.maxOutputTokens } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.stop ? { stopSequences: request.stop } : {}),
    ...(request.abortSignal ? { abortSignal: request.abortSignal } : {}),
    ...(options.providerOptions ? { providerOptions: options.providerOptions } : {}),
    ...(format === undefined
      ? {}
      : format.type === 'json-schema'
        ? {
            responseFormat: {
              type: 'json' as const,
              schema: format.schema,
              name: format.name,
              ...(format.description !== undefined ? { description: format.description } : {}),
            },
          }
        : { responseFormat: { type: format.type } }),
  };
  if (request.tools && request.tools.length > 0) {
    callOptions.tools = request.tools.map((tool) => ({
      type: 'function' as const,
      name: tool.name,
      description: tool.description,
      inputSchema: tool.inputSchema,
      ...(tool.strict ? { strict: true } : {}),
    }));
  }
  const choice = request.toolChoice;
  if (choice !== undefined) {
    callOptions.toolChoice = typeof choice === 'string' ? { type: choice } : { type: 'tool', toolName: choice.name };
  }
  return { callOptions, warnings };
}

function promptMessage(message: ModelMessage): AiSdkPromptMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user': {
      const parts =
        typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content;
      return {
        role: 'user',
        content: parts.map((part) =>
          part.type === 'text'
            ? { type: 'text' as const, text: part.text }
            : {
                type: 'file' as const,
                data: part.data,
                mediaType: part.mediaType,
                ...(part.filename !== undefined ? { filename: part.filename } : {}),
              },
        ),
      };
    }
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content.map((part) => {
          if (part.type === 'text') return { type: 'text' as const, text: part.text };
          if (part.type === 'reasoning') return { type: 'reasoning' as const, text: part.text };
          return {
            type: 'tool-call' as const,
            toolCallId: part.id,
            toolName: part.name,
            input: parsedArguments(part.arguments),
          };
        }),
      };
    case 'tool':
      return {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: message.toolCallId,
            toolName: message.toolName,
            output: { type: message.isError ? 'error-text' : 'text', value: message.content },
          },
        ],
      };
  }
}

/** The SDK's prompt carries tool-call input as a value; a call whose text is not JSON is kept as text. */
function parsedArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Reads the SDK's stream parts into Hataraku's events, keeping what spans parts (reasoning, tool calls). */
function createPartReader(identity: { provider: string; modelId: string }, requestWarnings: ModelWarning[]) {
  const reasoning = new Map<string, string>();
  const startedCalls = new Set<string>();
  let started = false;
  return {
    *read(part: AiSdkStreamPart): Iterable<ModelStreamEvent> {
      if (!started && part.type !== 'stream-start') {
        started = true;
        yield { type: 'stream-start', warnings: requestWarnings };
      }
      switch (part.type) {
        case 'stream-start':
          started = true;
          yield {
            type: 'stream-start',
            warnings: [...requestWarnings, ...(part as { warnings: AiSdkWarning[] }).warnings.map(modelWarning)],
          };
          return;
        case 'text-delta':
        case 'reasoning-delta': {
          const { id, delta } = part as { id: string; delta: string };
          if (part.type === 'text-delta') yield { type: 'text-delta', delta };
          else {
            reasoning.set(id, (reasoning.get(id) ?? '') + delta);
            yield { type: 'reasoning-delta', delta };
          }
          return;
        }
        case 'reasoning-end': {
          const { id } = part as { id: string };
          yield { type: 'reasoning', part: { type: 'reasoning', text: reasoning.get(id) ?? '' } };
          reasoning.delete(id);
          return;
        }
        case 'tool-input-start': {
          const { id, toolName } = part as { id: string; toolName: string };
          startedCalls.add(id);
          yield { type: 'tool-call-start', id, name: toolName, index: startedCalls.size - 1 };
          return;
        }
        case 'tool-input-delta': {
          const { id, delta } = part as { id: string; delta: string };
          yield { type: 'tool-call-delta', id, argumentsDelta: delta };
          return;
        }
        case 'tool-call': {
          const call = part as { toolCallId: string; toolName: string; input: string };
          if (!startedCalls.has(call.toolCallId)) {
            startedCalls.add(call.toolCallId);
            yield { type: 'tool-call-start', id: call.toolCallId, name: call.toolName, index: startedCalls.size - 1 };
          }
          yield { type: 'tool-call-end', id: call.toolCallId, name: call.toolName, arguments: call.input };
          return;
        }
        case 'finish': {
          const { usage, finishReason } = part as { usage: AiSdkUsage; finishReason: AiSdkFinishReason };
          yield { type: 'usage', usage: usageOf(usage) };
          yield { type: 'finish', ...finishOf(finishReason) };
          return;
        }
        case 'error':
          throw callError(identity, (part as { error: unknown }).error, undefined);
      }
    },
  };
}

function usageOf(usage: AiSdkUsage): Usage {
  if (typeof usage.inputTokens === 'object' && typeof usage.outputTokens === 'object') {
    return {
      inputTokens: usage.inputTokens.total,
      outputTokens: usage.outputTokens.total,
      ...(usage.inputTokens.cacheRead !== undefined ? { cachedInputTokens: usage.inputTokens.cacheRead } : {}),
      ...(usage.inputTokens.cacheWrite !== undefined ? { cacheWriteTokens: usage.inputTokens.cacheWrite } : {}),
      ...(usage.outputTokens.reasoning !== undefined ? { reasoningTokens: usage.outputTokens.reasoning } : {}),
    };
  }
  const flat = usage as Extract<AiSdkUsage, { inputTokens: number | undefined }>;
  return {
    inputTokens: flat.inputTokens,
    outputTokens: flat.outputTokens,
    ...(flat.cachedInputTokens !== undefined ? { cachedInputTokens: flat.cachedInputTokens } : {}),
    ...(flat.reasoningTokens !== undefined ? { reasoningTokens: flat.reasoningTokens } : {}),
  };
}

const knownFinishReasons: readonly string[] = ['stop', 'length', 'tool-calls', 'content-filter', 'error', 'other'];

function finishOf(reason: AiSdkFinishReason): { finishReason: FinishReason; providerFinishReason?: string } {
  const unified = typeof reason === 'string' ? reason : reason.unified;
  const raw = typeof reason === 'string' ? reason : reason.raw;
  const finishReason = (knownFinishReasons.includes(unified) ? unified : 'other') as FinishReason;
  return raw === undefined ? { finishReason } : { finishReason, providerFinishReason: raw };
}

function modelWarning(warning: AiSdkWarning): ModelWarning {
  if (warning.type === 'other') return { type: 'other', message: warning.message };
  if (warning.type === 'unsupported-setting') {
    return {
      type: 'unsupported-setting',
      setting: warning.setting,
      message: warning.details ?? `${warning.setting} is not supported`,
    };
  }
  if (warning.type === 'unsupported-tool')
    return { type: 'other', message: warning.details ?? 'a tool is not supported' };
  const detail = warning.details ? `: ${warning.details}` : '';
  return {
    type: warning.type === 'unsupported' ? 'unsupported-setting' : 'other',
    setting: warning.feature,
    message: `${warning.feature}${warning.type === 'unsupported' ? ' is not supported' : ' was changed for compatibility'}${detail}`,
  };
}

/** An SDK error (an `APICallError` with `statusCode` and `isRetryable`, an abort, a network failure) as a `ModelCallError`. */
function callError(
  identity: { provider: string; modelId: string },
  error: unknown,
  signal: AbortSignal | undefined,
): ModelCallError {
  if (error instanceof ModelCallError) return error;
  const fields = (typeof error === 'object' && error !== null ? error : {}) as {
    statusCode?: unknown;
    isRetryable?: unknown;
    message?: unknown;
    name?: unknown;
    url?: unknown;
  };
  const status = typeof fields.statusCode === 'number' ? fields.statusCode : undefined;
  // The provider's base URL may carry credentials (userinfo, a key in the query string).
  const said = redactUrlCredentials(
    typeof fields.message === 'string' ? fields.message : String(error),
    typeof fields.url === 'string' ? fields.url : undefined,
  );
  const label = modelLabel(identity);
  const aborted = signal?.aborted === true || fields.name === 'AbortError';
  const code = aborted
    ? 'model_aborted'
    : status === 401 || status === 403
      ? 'model_auth'
      : status === 429
        ? 'model_rate_limited'
        : status !== undefined && status >= 500
          ? 'model_server_error'
          : status !== undefined
            ? 'model_bad_request'
            : 'model_unreachable';
  const advice =
    code === 'model_auth'
      ? 'check the API key given to the AI SDK provider'
      : code === 'model_bad_request'
        ? 'check the model id and the request settings'
        : 'retry later or use a fallback model';
  return new ModelCallError({
    code,
    ...identity,
    status,
    retryable: !aborted && fields.isRetryable === true,
    message: aborted ? `${label}: the request was aborted.` : `${label}: ${said}; ${advice}.`,
    cause: error,
  });
}
