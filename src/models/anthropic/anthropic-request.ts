/**
 * Turns a provider-neutral `ModelRequest` into the JSON body of an Anthropic Messages API call
 * (`POST /v1/messages`, streaming), plus the warnings for whatever the API cannot honour.
 *
 * The Messages API differs from the neutral shape in ways that matter here: system prompts live
 * in a top-level `system` field, tool results are `tool_result` blocks inside a *user* message,
 * roles must alternate, `max_tokens` is mandatory, and prompt caching is opted into per block
 * with `cache_control` markers.
 */
import type {
  AssistantMessage,
  JsonSchema,
  ModelMessage,
  ModelRequest,
  ModelToolDefinition,
  ModelWarning,
  ToolChoice,
} from '../spec.js';

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

export type AnthropicContentBlock = AnthropicTextBlock | AnthropicToolUseBlock | AnthropicToolResultBlock;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description: string;
  input_schema: JsonSchema;
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
  stream: true;
}

export interface AnthropicRequestSettings {
  modelId: string;
  /** Add `cache_control` breakpoints on the stable prefix (system, tools, history). */
  promptCaching: boolean;
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
  const messages = toAnthropicMessages(request.messages, warnings);
  const body: AnthropicMessagesBody = {
    model: settings.modelId,
    max_tokens: request.maxOutputTokens ?? defaultMaxTokens,
    messages,
    stream: true,
  };
  if (system.length > 0) body.system = system;

  const tools = request.tools ?? [];
  if (tools.length > 0) {
    body.tools = tools.map(toAnthropicTool);
    const toolChoice = toAnthropicToolChoice(request.toolChoice, request.parallelToolCalls);
    if (toolChoice !== undefined) body.tool_choice = toolChoice;
  } else if (request.toolChoice === 'required' || typeof request.toolChoice === 'object') {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'toolChoice',
      message: 'toolChoice asks for a tool call but the request defines no tools; it was not sent.',
    });
  }

  if (request.temperature !== undefined) {
    // The Messages API accepts 0..1 only, where other providers accept up to 2.
    if (request.temperature > 1) {
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
  if (format !== undefined && format.type !== 'text') {
    warnings.push({
      type: 'unsupported-setting',
      setting: 'responseFormat',
      message: `Anthropic has no ${format.type === 'json' ? 'JSON' : 'JSON Schema'} output mode in this API version; nothing was sent, so the output must be validated after the call.`,
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

function toAnthropicMessages(messages: ModelMessage[], warnings: ModelWarning[]): AnthropicMessage[] {
  const result: AnthropicMessage[] = [];
  for (const message of messages) {
    let converted: AnthropicMessage;
    switch (message.role) {
      case 'system':
        continue;
      case 'user':
        converted = { role: 'user', content: [{ type: 'text', text: message.content }] };
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

function toAssistantBlocks(message: AssistantMessage, warnings: ModelWarning[]): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = [];
  for (const part of message.content) {
    if (part.type === 'text') {
      // Empty text blocks are rejected by the API.
      if (part.text !== '') blocks.push({ type: 'text', text: part.text });
      continue;
    }
    blocks.push({
      type: 'tool_use',
      id: part.id,
      name: part.name,
      input: parseToolInput(part.id, part.name, part.arguments, warnings),
    });
  }
  return blocks;
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

function toAnthropicTool(tool: ModelToolDefinition): AnthropicTool {
  return { name: tool.name, description: tool.description, input_schema: tool.inputSchema };
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
  if (lastBlock !== undefined) lastBlock.cache_control = { type: 'ephemeral' };
}
