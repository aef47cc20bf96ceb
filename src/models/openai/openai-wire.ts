/**
 * The Chat Completions wire format: the request body we send and the stream chunks we accept,
 * and the pure conversions between them and the model specification.
 *
 * Only the fields Hataraku uses are described. Chunk schemas are deliberately lenient (fields
 * may be absent or null) because the same parser serves OpenAI, vLLM, Ollama, llama.cpp,
 * DeepSeek, Groq and OpenRouter, which differ in what they omit.
 */
import { z } from 'zod';
import { type InputCapabilities, inputCapabilitiesOf } from '../input-capabilities.js';
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
  UserContentPart,
} from '../spec.js';
import { toStrictSchema } from '../strict-schema.js';

/** One content part of a user message. */
export type OpenAIUserContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } }
  | { type: 'file'; file: { filename: string; file_data: string } };

/** One message in the `messages` array of a Chat Completions request. */
export type OpenAIMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | OpenAIUserContentPart[] }
  | {
      role: 'assistant';
      content: string | null;
      tool_calls?: OpenAIToolCall[];
      /**
       * DeepSeek's (and vLLM's) reasoning text, sent back on assistant turns: DeepSeek's thinking
       * mode answers 400 "Missing reasoning_content" when a tool-call turn comes back without it.
       */
      reasoning_content?: string;
    }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAITool {
  type: 'function';
  function: { name: string; description: string; parameters: JsonSchema; strict?: boolean };
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
   * Sent to servers other than OpenAI: vLLM, Ollama, llama.cpp and most other compatible
   * servers read only this name.
   */
  max_tokens?: number;
  /** Sent to OpenAI itself, whose reasoning models (o-series, gpt-5) reject `max_tokens` with a 400. */
  max_completion_tokens?: number;
  stop?: string[];
  /** OpenAI's prompt-cache routing key; sent only to OpenAI itself (see `sendPromptCacheKey`). */
  prompt_cache_key?: string;
}

/** Which server the body is for; what differs between them is decided here. */
export interface OpenAIRequestOptions {
  /**
   * The provider label (`openai`, `ollama`, `deepseek`, ...; default: a compatible server). Only `openai` gets
   * `max_completion_tokens`, `prompt_cache_key`, PDF `file` parts and the reasoning-model rules.
   */
  provider?: string;
  /** Send `prompt_cache_key` (default: when the provider is `openai`). */
  sendPromptCacheKey?: boolean;
}

/**
 * OpenAI's reasoning models: o1, o3, o4-mini and the gpt-5 family (but not `gpt-5-chat`, a
 * chat model). They take `max_completion_tokens` only, and no sampling settings but the defaults.
 */
export function isOpenAIReasoningModel(modelId: string): boolean {
  const bare = modelId.slice(modelId.lastIndexOf('/') + 1);
  return /^o\d/.test(bare) || (/^gpt-5/.test(bare) && !/^gpt-5(\.\d+)?-chat/.test(bare));
}

/** Build the request body, collecting a warning for every setting that cannot be honoured. */
export function toOpenAIRequestBody(
  modelId: string,
  request: ModelRequest,
  options: OpenAIRequestOptions = {},
): { body: OpenAIChatRequestBody; warnings: ModelWarning[] } {
  const provider = options.provider ?? 'compatible';
  const isOpenAI = provider === 'openai';
  const reasoningModel = isOpenAI && isOpenAIReasoningModel(modelId);
  const warnings: ModelWarning[] = [];
  const capabilities = inputCapabilitiesOf(provider, modelId);
  const body: OpenAIChatRequestBody = {
    model: modelId,
    messages: request.messages.map((message) =>
      toOpenAIMessage(message, { capabilities, warnings, sendReasoning: !isOpenAI }),
    ),
    stream: true,
    stream_options: { include_usage: true },
  };
  const hasTools = request.tools !== undefined && request.tools.length > 0;
  if (hasTools && request.tools !== undefined) {
    body.tools = request.tools.map((tool) => toOpenAITool(tool, isOpenAI, warnings));
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
    request.responseFormat === undefined ? undefined : toOpenAIResponseFormat(request.responseFormat, warnings);
  if (responseFormat !== undefined) body.response_format = responseFormat;
  if (request.temperature !== undefined) {
    if (!reasoningModel) body.temperature = request.temperature;
    else if (request.temperature !== 1) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'temperature',
        message: `${modelId} is a reasoning model and takes only the default temperature (1); temperature ${request.temperature} was not sent.`,
      });
    }
  }
  if (request.maxOutputTokens !== undefined) {
    // OpenAI deprecated `max_tokens` and its reasoning models reject it; other servers know only it.
    if (isOpenAI) body.max_completion_tokens = request.maxOutputTokens;
    else body.max_tokens = request.maxOutputTokens;
  }
  // Other compatible servers may reject fields they do not know, so the key goes to OpenAI only.
  if (request.promptCacheKey !== undefined && (options.sendPromptCacheKey ?? isOpenAI))
    body.prompt_cache_key = request.promptCacheKey;
  if (request.stop !== undefined && request.stop.length > 0) {
    if (!reasoningModel) body.stop = request.stop;
    else {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'stop',
        message: `${modelId} is a reasoning model and does not take stop sequences; they were not sent.`,
      });
    }
  }
  return { body, warnings };
}

/** How messages are written for one server. */
export interface OpenAIMessageOptions {
  capabilities?: InputCapabilities;
  /** Where parts left out are reported. */
  warnings?: ModelWarning[];
  /** Send reasoning parts back as `reasoning_content` (DeepSeek, vLLM); never to OpenAI. */
  sendReasoning?: boolean;
}

export function toOpenAIMessage(message: ModelMessage, options: OpenAIMessageOptions = {}): OpenAIMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      if (typeof message.content === 'string') return { role: 'user', content: message.content };
      return { role: 'user', content: toOpenAIUserParts(message.content, options) };
    case 'tool':
      // Chat Completions has no error flag on tool results; the content itself says so.
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant': {
      let text = '';
      let reasoning = '';
      const toolCalls: OpenAIToolCall[] = [];
      for (const part of message.content) {
        if (part.type === 'text') text += part.text;
        else if (part.type === 'reasoning') reasoning += part.text;
        else
          toolCalls.push({ id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } });
      }
      const assistant: Extract<OpenAIMessage, { role: 'assistant' }> =
        toolCalls.length === 0
          ? { role: 'assistant', content: text }
          : // OpenAI expects null, not an empty string, when the turn is only tool calls.
            { role: 'assistant', content: text === '' ? null : text, tool_calls: toolCalls };
      // Only tool-call turns: DeepSeek requires it there, and its older reasoner rejected it on
      // plain turns.
      if (options.sendReasoning === true && reasoning !== '' && toolCalls.length > 0) {
        assistant.reasoning_content = reasoning;
      }
      return assistant;
    }
  }
}

function toOpenAIUserParts(parts: UserContentPart[], options: OpenAIMessageOptions): OpenAIUserContentPart[] {
  const capabilities = options.capabilities ?? { images: true, pdf: true };
  const converted: OpenAIUserContentPart[] = [];
  for (const part of parts) {
    if (part.type === 'text') {
      converted.push({ type: 'text', text: part.text });
    } else if (part.type === 'image') {
      if (capabilities.images) {
        converted.push({ type: 'image_url', image_url: { url: `data:${part.mediaType};base64,${part.data}` } });
      } else {
        converted.push(leftOut(part, 'this model takes no images', options.warnings));
      }
    } else if (capabilities.pdf) {
      converted.push({
        type: 'file',
        file: { filename: part.filename ?? 'document.pdf', file_data: `data:${part.mediaType};base64,${part.data}` },
      });
    } else {
      converted.push(leftOut(part, 'this server takes no PDF input', options.warnings));
    }
  }
  return converted;
}

/** A part the model cannot take becomes a note in the text, and a warning. */
function leftOut(
  part: Exclude<UserContentPart, { type: 'text' }>,
  reason: string,
  warnings: ModelWarning[] | undefined,
): OpenAIUserContentPart {
  const name = part.filename ?? part.mediaType;
  warnings?.push({
    type: 'unsupported-content',
    setting: 'messages',
    message: `the attachment ${name} (${part.mediaType}) was left out: ${reason}.`,
  });
  return { type: 'text', text: `[attachment ${name} left out: ${reason}]` };
}

function toOpenAITool(tool: ModelToolDefinition, isOpenAI: boolean, warnings: ModelWarning[]): OpenAITool {
  const converted: OpenAITool = {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  };
  if (tool.strict !== true) return converted;
  // Compatible servers differ in whether they know `strict`; only OpenAI gets it.
  if (!isOpenAI) return converted;
  const strict = toStrictSchema(tool.inputSchema);
  if (strict.ok) {
    converted.function.parameters = strict.schema;
    converted.function.strict = true;
  } else {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'tools',
      message: `the schema of tool ${tool.name} cannot be enforced in strict mode (${strict.reason}); it was sent without strict.`,
    });
  }
  return converted;
}

function toOpenAIToolChoice(choice: ToolChoice): OpenAIToolChoice {
  if (typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
}

function toOpenAIResponseFormat(format: ResponseFormat, warnings: ModelWarning[]): OpenAIResponseFormat | undefined {
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
      if (format.strict === true) {
        // Strict mode needs every property required and no additional properties; a schema that
        // can be rewritten that way (optional becomes nullable) is, otherwise strict is dropped.
        const strict = toStrictSchema(format.schema);
        if (strict.ok) {
          jsonSchema.schema = strict.schema;
          jsonSchema.strict = true;
        } else {
          jsonSchema.strict = false;
          warnings.push({
            type: 'unsupported-setting',
            setting: 'responseFormat',
            message: `the schema ${format.name} cannot be enforced in strict mode (${strict.reason}); it was sent with strict: false and the output is validated after the call.`,
          });
        }
      } else if (format.strict !== undefined) jsonSchema.strict = format.strict;
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
  completion_tokens_details: z.object({ reasoning_tokens: optionalCount }).nullish(),
});

export type OpenAIUsage = z.infer<typeof usageSchema>;

/**
 * Tool-call arguments: JSON text as the API defines it, or (some llama.cpp server builds) the
 * JSON object itself, which is turned back into text here.
 */
const argumentsSchema = z
  .union([z.string(), z.record(z.string(), z.unknown())])
  .nullish()
  .transform((value) =>
    value === null || value === undefined || typeof value === 'string' ? value : JSON.stringify(value),
  );

const toolCallDeltaSchema = z.object({
  /** Absent on a few servers that send each call whole; the position in the array is used then. */
  index: z.number().int().nonnegative().nullish(),
  id: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: argumentsSchema }).nullish(),
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
            /** DeepSeek, vLLM and llama.cpp stream the model's reasoning here. */
            reasoning_content: z.string().nullish(),
            /** Ollama's and OpenRouter's name for the same. */
            reasoning: z.string().nullish(),
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
        reasoning_content: z.string().nullish(),
        reasoning: z.string().nullish(),
        tool_calls: z
          .array(
            z.object({
              id: z.string().nullish(),
              function: z.object({ name: z.string().nullish(), arguments: argumentsSchema }),
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
        reasoning_content: choice.message.reasoning_content,
        reasoning: choice.message.reasoning,
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
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? undefined,
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
