/**
 * The Chat Completions wire format: the request body we send and the stream chunks we accept,
 * and the pure conversions between them and the model specification.
 *
 * Only the fields Hataraku uses are described. Chunk schemas are deliberately lenient (fields
 * may be absent or null) because the same parser serves OpenAI, vLLM, Ollama, llama.cpp,
 * DeepSeek, Groq and OpenRouter, which differ in what they omit.
 */
import { z } from 'zod';
import type {
  FinishReason,
  JsonSchema,
  ModelMessage,
  ModelRequest,
  ModelToolDefinition,
  ModelWarning,
  ResponseFormat,
  ToolChoice,
  Usage,
} from '../spec.js';

/** One message in the `messages` array of a Chat Completions request. */
export type OpenAIMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: OpenAIToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAITool {
  type: 'function';
  function: { name: string; description: string; parameters: JsonSchema };
}

export type OpenAIToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export type OpenAIResponseFormat =
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; schema: JsonSchema; strict?: boolean; description?: string };
    };

/** The body POSTed to `{baseURL}/chat/completions`. */
export interface OpenAIChatRequestBody {
  model: string;
  messages: OpenAIMessage[];
  stream: true;
  stream_options: { include_usage: true };
  tools?: OpenAITool[];
  tool_choice?: OpenAIToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: OpenAIResponseFormat;
  temperature?: number;
  /**
   * `max_tokens`, not `max_completion_tokens`: OpenAI deprecated the former for its reasoning
   * models, but vLLM, Ollama, llama.cpp and most other compatible servers only know it.
   */
  max_tokens?: number;
  stop?: string[];
  /** OpenAI's prompt-cache routing key; sent only to OpenAI itself (see `sendPromptCacheKey`). */
  prompt_cache_key?: string;
}

/** Build the request body, collecting a warning for every setting that cannot be honoured. */
export function toOpenAIRequestBody(
  modelId: string,
  request: ModelRequest,
  options: { sendPromptCacheKey?: boolean } = {},
): { body: OpenAIChatRequestBody; warnings: ModelWarning[] } {
  const warnings: ModelWarning[] = [];
  const body: OpenAIChatRequestBody = {
    model: modelId,
    messages: request.messages.map(toOpenAIMessage),
    stream: true,
    stream_options: { include_usage: true },
  };
  const hasTools = request.tools !== undefined && request.tools.length > 0;
  if (hasTools && request.tools !== undefined) {
    body.tools = request.tools.map(toOpenAITool);
    if (request.toolChoice !== undefined) body.tool_choice = toOpenAIToolChoice(request.toolChoice);
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  } else if (request.toolChoice === 'required' || typeof request.toolChoice === 'object') {
    // Chat Completions rejects tool_choice without tools; a forced call cannot happen anyway.
    warnings.push({
      type: 'unsupported-setting',
      setting: 'toolChoice',
      message: 'toolChoice asks for a tool call but the request has no tools; it was not sent.',
    });
  }
  const responseFormat =
    request.responseFormat === undefined ? undefined : toOpenAIResponseFormat(request.responseFormat);
  if (responseFormat !== undefined) body.response_format = responseFormat;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.maxOutputTokens !== undefined) body.max_tokens = request.maxOutputTokens;
  // Other compatible servers may reject fields they do not know, so the key goes to OpenAI only.
  if (request.promptCacheKey !== undefined && options.sendPromptCacheKey)
    body.prompt_cache_key = request.promptCacheKey;
  if (request.stop !== undefined && request.stop.length > 0) body.stop = request.stop;
  return { body, warnings };
}

export function toOpenAIMessage(message: ModelMessage): OpenAIMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content };
    case 'tool':
      // Chat Completions has no error flag on tool results; the content itself says so.
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant': {
      let text = '';
      const toolCalls: OpenAIToolCall[] = [];
      for (const part of message.content) {
        if (part.type === 'text') text += part.text;
        else
          toolCalls.push({ id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } });
      }
      if (toolCalls.length === 0) return { role: 'assistant', content: text };
      // OpenAI expects null, not an empty string, when the turn is only tool calls.
      return { role: 'assistant', content: text === '' ? null : text, tool_calls: toolCalls };
    }
  }
}

function toOpenAITool(tool: ModelToolDefinition): OpenAITool {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  };
}

function toOpenAIToolChoice(choice: ToolChoice): OpenAIToolChoice {
  if (typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
}

function toOpenAIResponseFormat(format: ResponseFormat): OpenAIResponseFormat | undefined {
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json':
      return { type: 'json_object' };
    case 'json-schema': {
      const jsonSchema: { name: string; schema: JsonSchema; strict?: boolean; description?: string } = {
        name: format.name,
        schema: format.schema,
      };
      if (format.strict !== undefined) jsonSchema.strict = format.strict;
      if (format.description !== undefined) jsonSchema.description = format.description;
      return { type: 'json_schema', json_schema: jsonSchema };
    }
  }
}

const optionalCount = z.number().nullish();

const usageSchema = z.object({
  prompt_tokens: optionalCount,
  completion_tokens: optionalCount,
  prompt_tokens_details: z.object({ cached_tokens: optionalCount, cache_write_tokens: optionalCount }).nullish(),
  /** DeepSeek reports its cache hits here instead of in `prompt_tokens_details`. */
  prompt_cache_hit_tokens: optionalCount,
});

export type OpenAIUsage = z.infer<typeof usageSchema>;

const toolCallDeltaSchema = z.object({
  /** Absent on a few servers that send each call whole; the position in the array is used then. */
  index: z.number().int().nonnegative().nullish(),
  id: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});

export type OpenAIToolCallDelta = z.infer<typeof toolCallDeltaSchema>;

/** One `data:` payload of a streamed Chat Completion. */
export const chatCompletionChunkSchema = z.object({
  choices: z
    .array(
      z.object({
        index: z.number().nullish(),
        delta: z
          .object({
            content: z.string().nullish(),
            refusal: z.string().nullish(),
            tool_calls: z.array(toolCallDeltaSchema).nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: usageSchema.nullish(),
  /** Groq has reported usage under its own key on the final chunk. */
  x_groq: z.object({ usage: usageSchema.nullish() }).nullish(),
  /** Any shape: servers disagree on it, and the error must surface whatever its shape. */
  error: z.unknown().optional(),
});

export type OpenAIChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;

/**
 * A complete (non-streamed) Chat Completion. Some servers ignore `stream: true` and answer with
 * one JSON document; it is replayed as a single chunk.
 */
export const chatCompletionSchema = z.object({
  choices: z.array(
    z.object({
      index: z.number().nullish(),
      message: z.object({
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        tool_calls: z
          .array(
            z.object({
              id: z.string().nullish(),
              function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }),
            }),
          )
          .nullish(),
      }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema.nullish(),
});

/** Turn a complete Chat Completion into the equivalent single stream chunk. */
export function completionToChunk(completion: z.infer<typeof chatCompletionSchema>): OpenAIChatCompletionChunk {
  return {
    choices: completion.choices.map((choice) => ({
      index: choice.index,
      delta: {
        content: choice.message.content,
        refusal: choice.message.refusal,
        tool_calls: choice.message.tool_calls?.map((call, index) => ({ index, id: call.id, function: call.function })),
      },
      finish_reason: choice.finish_reason,
    })),
    usage: completion.usage,
  };
}

/** Map `finish_reason` to the specification's finish reason. */
export function toFinishReason(providerReason: string | undefined): FinishReason {
  switch (providerReason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'content_filter':
      return 'content-filter';
    case 'error':
      return 'error';
    default:
      return 'other';
  }
}

/** Map reported usage; anything the server left out stays undefined rather than becoming 0. */
export function toUsage(usage: OpenAIUsage): Usage {
  return {
    inputTokens: usage.prompt_tokens ?? undefined,
    outputTokens: usage.completion_tokens ?? undefined,
    cachedInputTokens: usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? undefined,
    cacheWriteTokens: usage.prompt_tokens_details?.cache_write_tokens ?? undefined,
  };
}

/** The upstream's own description of an in-stream error, whatever shape it came in. */
export function describeStreamError(error: unknown): string {
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null) {
    const fields = error as { message?: unknown; type?: unknown; code?: unknown };
    const parts = [fields.message, fields.type, fields.code]
      .filter((part) => (typeof part === 'string' && part !== '') || typeof part === 'number')
      .map(String);
    if (parts.length > 0) return parts.join(', ');
  }
  return JSON.stringify(error) ?? 'no details given';
}
