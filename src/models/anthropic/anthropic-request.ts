/**
 * Turns a provider-neutral `ModelRequest` into the JSON body of an Anthropic Messages API call
 * (`POST /v1/messages`, streaming), plus the warnings for whatever the API cannot honour.
 *
 * The Messages API differs from the neutral shape in ways that matter here: system prompts live
 * in a top-level `system` field, tool results are `tool_result` blocks inside a *user* message,
 * roles must alternate, `max_tokens` is mandatory, and prompt caching is opted into per block
 * with `cache_control` markers.
 */
import { inputCapabilitiesOf } from '../input-capabilities.js';
import type {
  AssistantMessage,
  ImageMediaType,
  JsonSchema,
  ModelMessage,
  ModelRequest,
  ModelToolDefinition,
  ModelWarning,
  ToolChoice,
  UserContentPart,
} from '../spec.js';
import { toStrictSchema } from '../strict-schema.js';

/** `max_tokens` sent when the request sets no `maxOutputTokens`; the API has no default. */
export const defaultMaxTokens = 4096;

/** Marks the end of a prompt prefix that Anthropic may cache (five-minute lifetime). */
export interface AnthropicCacheControl {
  type: 'ephemeral';
}

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
  cache_control?: AnthropicCacheControl;
}

export interface AnthropicToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  /** The arguments as a JSON object; the API rejects anything else. */
  input: { [key: string]: unknown };
  cache_control?: AnthropicCacheControl;
}

export interface AnthropicToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string;
  is_error?: boolean;
  cache_control?: AnthropicCacheControl;
}

/** The model's reasoning, sent back unchanged (with its signature) on turns that used tools. */
export interface AnthropicThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export interface AnthropicRedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}

export interface AnthropicImageBlock {
  type: 'image';
  source: { type: 'base64'; media_type: ImageMediaType; data: string };
  cache_control?: AnthropicCacheControl;
}

export interface AnthropicDocumentBlock {
  type: 'document';
  source: { type: 'base64'; media_type: 'application/pdf'; data: string };
  cache_control?: AnthropicCacheControl;
}

export type AnthropicContentBlock =
  | AnthropicTextBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock
  | AnthropicThinkingBlock
  | AnthropicRedactedThinkingBlock
  | AnthropicImageBlock
  | AnthropicDocumentBlock;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description: string;
  input_schema: JsonSchema;
  /** Strict tool use (Claude 4.5 and later): the input is held to the schema while generating. */
  strict?: boolean;
  cache_control?: AnthropicCacheControl;
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

/** The body of a streaming Messages API call, as far as Hataraku uses it. */
export interface AnthropicMessagesBody {
  model: string;
  max_tokens: number;
  system?: AnthropicTextBlock[];
  messages: AnthropicMessage[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  temperature?: number;
  stop_sequences?: string[];
  /** Extended thinking; `budget_tokens` must be at least 1024 and below `max_tokens`. */
  thinking?: { type: 'enabled'; budget_tokens: number };
  /** Structured output: the text answer is constrained to the JSON schema. */
  output_config?: { format: { type: 'json_schema'; schema: JsonSchema } };
  stream: true;
}

export interface AnthropicRequestSettings {
  modelId: string;
  /** Add `cache_control` breakpoints on the stable prefix (system, tools, history). */
  promptCaching: boolean;
  /** Extended thinking with this many budget tokens; off when undefined. */
  thinkingBudgetTokens?: number | undefined;
}

/** The smallest thinking budget the API accepts. */
export const minimumThinkingBudget = 1024;

/**
 * Models released after Claude Opus 4.6 have fixed sampling: any `temperature` but 1 is a 400.
 * Matched on the model id (Opus 4.7 and later, and the 5 generation of every family).
 */
export function hasFixedSampling(modelId: string): boolean {
  return /claude-opus-4-([7-9]|\d\d)|claude-[a-z]+-([5-9]|\d\d)(\b|-|$)/.test(modelId);
}

/** Models that take `output_config.format` (structured outputs): Claude 4.5 and later. */
export function supportsStructuredOutput(modelId: string): boolean {
  return /claude-[a-z]+-4-([5-9]|\d\d)|claude-[a-z]+-([5-9]|\d\d)(\b|-|$)/.test(modelId);
}

export interface AnthropicRequestConversion {
  body: AnthropicMessagesBody;
  /** Settings that were changed or dropped, to be reported in `stream-start`. */
  warnings: ModelWarning[];
}

/** Build the Messages API body for `request`. Never throws; problems become warnings. */
export function toAnthropicMessagesBody(
  request: ModelRequest,
  settings: AnthropicRequestSettings,
): AnthropicRequestConversion {
  const warnings: ModelWarning[] = [];
  const system = toSystemBlocks(request.messages, warnings);
  const messages = toAnthropicMessages(request.messages, warnings, settings.modelId);
  const body: AnthropicMessagesBody = {
    model: settings.modelId,
    max_tokens: request.maxOutputTokens ?? defaultMaxTokens,
    messages,
    stream: true,
  };
  if (system.length > 0) body.system = system;
  const thinking = settings.thinkingBudgetTokens !== undefined;
  if (settings.thinkingBudgetTokens !== undefined) {
    const budget = Math.max(minimumThinkingBudget, settings.thinkingBudgetTokens);
    body.thinking = { type: 'enabled', budget_tokens: budget };
    if (body.max_tokens <= budget) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'maxOutputTokens',
        message: `max_tokens ${body.max_tokens} must be above the thinking budget of ${budget} tokens; ${budget + defaultMaxTokens} was sent.`,
      });
      body.max_tokens = budget + defaultMaxTokens;
    }
  }

  const tools = request.tools ?? [];
  if (tools.length > 0) {
    body.tools = tools.map((tool) => toAnthropicTool(tool, settings.modelId, warnings));
    let toolChoice = toAnthropicToolChoice(request.toolChoice, request.parallelToolCalls);
    if (thinking && (toolChoice?.type === 'any' || toolChoice?.type === 'tool')) {
      // With thinking on, the API accepts only `auto` and `none`.
      warnings.push({
        type: 'unsupported-setting',
        setting: 'toolChoice',
        message: 'a forced tool choice cannot be combined with extended thinking; auto was sent.',
      });
      toolChoice = {
        type: 'auto',
        ...(request.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {}),
      };
    }
    if (toolChoice !== undefined) body.tool_choice = toolChoice;
  } else if (request.toolChoice === 'required' || typeof request.toolChoice === 'object') {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'toolChoice',
      message: 'toolChoice asks for a tool call but the request defines no tools; it was not sent.',
    });
  }

  if (request.temperature !== undefined) {
    const fixed = hasFixedSampling(settings.modelId);
    if ((fixed || thinking) && request.temperature !== 1) {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'temperature',
        message: fixed
          ? `${settings.modelId} takes no temperature but the default (1); temperature ${request.temperature} was not sent.`
          : `extended thinking takes no temperature but the default (1); temperature ${request.temperature} was not sent.`,
      });
    } else if (fixed || thinking) {
      // 1 is accepted for backwards compatibility; leaving it out means the same.
    } else if (request.temperature > 1) {
      // The Messages API accepts 0..1 only, where other providers accept up to 2.
      body.temperature = 1;
      warnings.push({
        type: 'unsupported-setting',
        setting: 'temperature',
        message: `temperature ${request.temperature} is above Anthropic's maximum of 1; 1 was sent.`,
      });
    } else {
      body.temperature = request.temperature;
    }
  }
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = [...request.stop];

  const format = request.responseFormat;
  if (format?.type === 'json-schema' && supportsStructuredOutput(settings.modelId)) {
    // Structured outputs need `additionalProperties: false` on every object, as strict mode does.
    const strict = toStrictSchema(format.schema);
    if (strict.ok) body.output_config = { format: { type: 'json_schema', schema: strict.schema } };
    else {
      warnings.push({
        type: 'unsupported-setting',
        setting: 'responseFormat',
        message: `the schema ${format.name} cannot be used for Anthropic structured output (${strict.reason}); nothing was sent, so the output is validated after the call.`,
      });
    }
  } else if (format !== undefined && format.type !== 'text') {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'responseFormat',
      message:
        format.type === 'json'
          ? 'Anthropic has no plain JSON output mode; nothing was sent, so the output is validated after the call.'
          : `${settings.modelId} predates Anthropic's structured outputs (Claude 4.5 and later); nothing was sent, so the output is validated after the call.`,
    });
  }

  if (settings.promptCaching) addCacheBreakpoints(body);
  return { body, warnings };
}

function toSystemBlocks(messages: ModelMessage[], warnings: ModelWarning[]): AnthropicTextBlock[] {
  const blocks: AnthropicTextBlock[] = [];
  let seenConversation = false;
  let warned = false;
  for (const message of messages) {
    if (message.role !== 'system') {
      seenConversation = true;
      continue;
    }
    if (seenConversation && !warned) {
      warned = true;
      warnings.push({
        type: 'other',
        message:
          'Anthropic accepts system prompts only before the conversation; a later system message was moved there.',
      });
    }
    blocks.push({ type: 'text', text: message.content });
  }
  return blocks;
}

function toAnthropicMessages(messages: ModelMessage[], warnings: ModelWarning[], modelId: string): AnthropicMessage[] {
  const result: AnthropicMessage[] = [];
  for (const message of messages) {
    let converted: AnthropicMessage;
    switch (message.role) {
      case 'system':
        continue;
      case 'user':
        converted = {
          role: 'user',
          content:
            typeof message.content === 'string'
              ? [{ type: 'text', text: message.content }]
              : toUserBlocks(message.content, warnings, modelId),
        };
        break;
      case 'assistant':
        converted = { role: 'assistant', content: toAssistantBlocks(message, warnings) };
        break;
      case 'tool': {
        const block: AnthropicToolResultBlock = {
          type: 'tool_result',
          tool_use_id: message.toolCallId,
          content: message.content,
        };
        if (message.isError === true) block.is_error = true;
        converted = { role: 'user', content: [block] };
        break;
      }
    }
    // An assistant turn with nothing to say (no text, no calls) is rejected by the API.
    if (converted.content.length === 0) continue;
    const previous = result.at(-1);
    // Roles must alternate: consecutive tool results, or a tool result followed by the user's
    // next words, become one user message.
    if (previous !== undefined && previous.role === converted.role) previous.content.push(...converted.content);
    else result.push(converted);
  }
  for (const message of result) {
    // The API wants tool results at the start of a user message, before any text.
    if (message.role === 'user') message.content = orderToolResultsFirst(message.content);
  }
  return result;
}

function orderToolResultsFirst(content: AnthropicContentBlock[]): AnthropicContentBlock[] {
  const toolResults = content.filter((block) => block.type === 'tool_result');
  if (toolResults.length === 0 || toolResults.length === content.length) return content;
  return [...toolResults, ...content.filter((block) => block.type !== 'tool_result')];
}

function toUserBlocks(parts: UserContentPart[], warnings: ModelWarning[], modelId: string): AnthropicContentBlock[] {
  const capabilities = inputCapabilitiesOf('anthropic', modelId);
  const blocks: AnthropicContentBlock[] = [];
  for (const part of parts) {
    if (part.type === 'text') {
      if (part.text !== '') blocks.push({ type: 'text', text: part.text });
    } else if (!capabilities.images) {
      const name = part.filename ?? part.mediaType;
      warnings.push({
        type: 'unsupported-content',
        setting: 'messages',
        message: `the attachment ${name} (${part.mediaType}) was left out: ${modelId} takes no images or documents.`,
      });
      blocks.push({ type: 'text', text: `[attachment ${name} left out: this model takes no images or documents]` });
    } else if (part.type === 'image') {
      blocks.push({ type: 'image', source: { type: 'base64', media_type: part.mediaType, data: part.data } });
    } else {
      blocks.push({ type: 'document', source: { type: 'base64', media_type: part.mediaType, data: part.data } });
    }
  }
  return blocks;
}

function toAssistantBlocks(message: AssistantMessage, warnings: ModelWarning[]): AnthropicContentBlock[] {
  const reasoning: AnthropicContentBlock[] = [];
  const blocks: AnthropicContentBlock[] = [];
  for (const part of message.content) {
    if (part.type === 'text') {
      // Empty text blocks are rejected by the API.
      if (part.text !== '') blocks.push({ type: 'text', text: part.text });
      continue;
    }
    if (part.type === 'reasoning') {
      // Only Anthropic's own, signed reasoning can go back; another provider's would be rejected.
      if (part.redactedData !== undefined) reasoning.push({ type: 'redacted_thinking', data: part.redactedData });
      else if (part.signature !== undefined)
        reasoning.push({ type: 'thinking', thinking: part.text, signature: part.signature });
      continue;
    }
    blocks.push({
      type: 'tool_use',
      id: part.id,
      name: part.name,
      input: parseToolInput(part.id, part.name, part.arguments, warnings),
    });
  }
  // Thinking comes first in an assistant turn, as the model produced it.
  return [...reasoning, ...blocks];
}

function parseToolInput(
  id: string,
  name: string,
  argumentsText: string,
  warnings: ModelWarning[],
): { [key: string]: unknown } {
  if (argumentsText.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(argumentsText);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
    return parsed as { [key: string]: unknown };
  warnings.push({
    type: 'other',
    message: `The arguments of earlier tool call ${id} (${name}) are not a JSON object; {} was sent in their place.`,
  });
  return {};
}

function toAnthropicTool(tool: ModelToolDefinition, modelId: string, warnings: ModelWarning[]): AnthropicTool {
  const converted: AnthropicTool = { name: tool.name, description: tool.description, input_schema: tool.inputSchema };
  if (tool.strict !== true) return converted;
  const strict = toStrictSchema(tool.inputSchema);
  if (strict.ok && supportsStructuredOutput(modelId)) {
    converted.input_schema = strict.schema;
    converted.strict = true;
  } else {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'tools',
      message: strict.ok
        ? `${modelId} predates strict tool use (Claude 4.5 and later); tool ${tool.name} was sent without strict.`
        : `the schema of tool ${tool.name} cannot be enforced in strict mode (${strict.reason}); it was sent without strict.`,
    });
  }
  return converted;
}

function toAnthropicToolChoice(
  toolChoice: ToolChoice | undefined,
  parallelToolCalls: boolean | undefined,
): AnthropicToolChoice | undefined {
  if (toolChoice === 'none') return { type: 'none' };
  const disableParallel = parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
  if (toolChoice === undefined) return parallelToolCalls === false ? { type: 'auto', ...disableParallel } : undefined;
  if (toolChoice === 'auto') return { type: 'auto', ...disableParallel };
  if (toolChoice === 'required') return { type: 'any', ...disableParallel };
  return { type: 'tool', name: toolChoice.name, ...disableParallel };
}

/**
 * Place `cache_control` on the last system block, the last tool and the last block of the last
 * message. The API caches the prompt prefix up to each marker, so the stable parts and the
 * history so far are read from cache on the next turn. Three markers, within the API's four.
 */
function addCacheBreakpoints(body: AnthropicMessagesBody): void {
  const lastSystemBlock = body.system?.at(-1);
  if (lastSystemBlock !== undefined) lastSystemBlock.cache_control = { type: 'ephemeral' };
  const lastTool = body.tools?.at(-1);
  if (lastTool !== undefined) lastTool.cache_control = { type: 'ephemeral' };
  const lastBlock = body.messages.at(-1)?.content.at(-1);
  // Thinking blocks cannot carry a cache marker.
  if (lastBlock !== undefined && lastBlock.type !== 'thinking' && lastBlock.type !== 'redacted_thinking')
    lastBlock.cache_control = { type: 'ephemeral' };
}
