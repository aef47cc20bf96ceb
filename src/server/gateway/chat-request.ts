/**
 * The request side of the OpenAI Chat Completions wire format: the schema a `POST
 * /v1/chat/completions` body is checked against, and its translation into a `ModelRequest`.
 * Unknown top-level fields are accepted and ignored (clients send many); what cannot be
 * honoured (audio, images by remote URL, n > 1) is refused with a message naming the field.
 *
 * A user message may carry images (`image_url` with a `data:` URL) and PDFs (`file` with
 * `file_data` as a `data:` URL): they become the model spec's image and file parts, so any
 * provider behind the gateway gets them in its own form. An image by http(s) URL is refused
 * rather than fetched: fetching would let a caller make the server reach any address.
 */
import { z } from 'zod';
import { sniffMediaType } from '../../agent/attachments.js';
import type { ModelMessage, ModelRequest, ResponseFormat, ToolChoice, UserContentPart } from '../../models/spec.js';
import { ApiError } from '../api-error.js';

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string(), detail: z.string().optional() }),
});
const filePart = z.object({
  type: z.literal('file'),
  file: z.object({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }),
});
/** Largest decoded image or PDF accepted in one part (the providers' own limits are about this size). */
const maxPartBytes = 20 * 1024 * 1024;
const content = z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).nullable();
const toolCall = z.object({
  id: z.string(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

export const chatMessageSchema = z.discriminatedUnion(
  'role',
  [
    z.looseObject({ role: z.enum(['system', 'developer']), content }),
    z.looseObject({ role: z.literal('user'), content }),
    z.looseObject({
      role: z.literal('assistant'),
      content: content.optional(),
      tool_calls: z.array(toolCall).optional(),
    }),
    z.looseObject({ role: z.literal('tool'), content, tool_call_id: z.string() }),
  ],
  { error: 'a message with "role" system, developer, user, assistant or tool' },
);

export const chatRequestSchema = z.looseObject({
  model: z.string({ error: 'a model name, e.g. "openai:gpt-4o-mini", "route:cheap-first" or "agent:NAME"' }).min(1),
  messages: z.array(chatMessageSchema).min(1, { error: 'at least one message' }),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  tools: z
    .array(
      z.object({
        type: z.literal('function'),
        function: z.object({
          name: z.string().min(1),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullish(),
        }),
      }),
    )
    .nullish(),
  tool_choice: z
    .union([
      z.enum(['auto', 'none', 'required']),
      z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }),
    ])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({
        type: z.literal('json_schema'),
        json_schema: z.object({
          name: z.string(),
          description: z.string().optional(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullish(),
        }),
      }),
    ])
    .nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  n: z.number().int().nullish(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** Top-level fields whose plain values (or null) `isPlainChatRequest` checks itself. */
const plainFieldChecks: Record<string, (value: unknown) => boolean> = {
  model: (value) => typeof value === 'string' && value !== '',
  messages: () => true,
  stream: (value) => typeof value === 'boolean',
  stream_options: (value) =>
    typeof value === 'object' &&
    value !== null &&
    Object.entries(value).every(([key, option]) => key === 'include_usage' && typeof option === 'boolean'),
  temperature: (value) => typeof value === 'number' && value >= 0 && value <= 2,
  max_tokens: (value) => Number.isInteger(value) && (value as number) > 0,
  max_completion_tokens: (value) => Number.isInteger(value) && (value as number) > 0,
  n: (value) => Number.isInteger(value),
  parallel_tool_calls: (value) => typeof value === 'boolean',
  stop: (value) =>
    typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string')),
};
/** Fields of the schema with structure (tools, tool_choice, response_format): left to the schema. */
const structuredFields = new Set(['tools', 'tool_choice', 'response_format']);

/**
 * True when `json` is a chat request of the common shape (text messages, plain settings) that
 * `chatRequestSchema` accepts, checked without it: the gateway's fast lane answers most calls
 * without building the schema's copy of the request. False means only "not checked here": the
 * schema then decides, and words its errors.
 */
export function isPlainChatRequest(json: unknown): json is ChatRequest {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const fields = json as Record<string, unknown>;
  if (typeof fields.model !== 'string' || fields.model === '') return false;
  for (const key in fields) {
    const value = fields[key];
    if (structuredFields.has(key)) {
      if (value !== null && value !== undefined) return false;
      continue;
    }
    const check = Object.hasOwn(plainFieldChecks, key) ? plainFieldChecks[key] : undefined;
    if (check && key !== 'model' && key !== 'messages' && value !== null && value !== undefined && !check(value))
      return false;
  }
  const messages = fields.messages;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const message of messages) {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (content !== null && typeof content !== 'string') {
      if (!(role === 'assistant' && content === undefined)) return false;
    }
    if (role === 'assistant') {
      if ((message as { tool_calls?: unknown }).tool_calls !== undefined) return false;
    } else if (role === 'tool') {
      if (typeof (message as { tool_call_id?: unknown }).tool_call_id !== 'string') return false;
    } else if (role !== 'system' && role !== 'developer' && role !== 'user') return false;
  }
  return true;
}
type ChatMessage = z.infer<typeof chatMessageSchema>;

function textOf(value: ChatMessage['content'] | undefined, path: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return value
    .map((part, index) => {
      const parsed = textPart.safeParse(part);
      if (!parsed.success) {
        throw new ApiError(
          400,
          'invalid_request',
          `${path}.${index}: only text content parts are supported (got "${part.type}"); send the text, or use a model through its own API for images and audio.`,
        );
      }
      return parsed.data.text;
    })
    .join('');
}

/** A user message's content: plain text, or parts when it carries images or PDFs. */
function userContentOf(value: ChatMessage['content'] | undefined, path: string): string | UserContentPart[] {
  if (value === null || value === undefined || typeof value === 'string') return value ?? '';
  if (value.every((part) => part.type === 'text')) return textOf(value, path);
  return value.map((part, index): UserContentPart => {
    const where = `${path}.${index}`;
    if (part.type === 'text') return { type: 'text', text: textOf([part], path) };
    if (part.type === 'image_url') {
      const parsed = imagePart.safeParse(part);
      if (!parsed.success)
        throw new ApiError(
          400,
          'invalid_request',
          `${where}: an image_url part needs {"image_url": {"url": "data:image/png;base64,..."}}.`,
        );
      const decoded = decodeDataUrl(parsed.data.image_url.url, where);
      if (decoded.mediaType === 'application/pdf') {
        throw new ApiError(400, 'invalid_request', `${where}: this image_url holds a PDF; send it as a "file" part.`);
      }
      return { type: 'image', mediaType: decoded.mediaType, data: decoded.base64 };
    }
    if (part.type === 'file') {
      const parsed = filePart.safeParse(part);
      const data = parsed.success ? parsed.data.file.file_data : undefined;
      if (!parsed.success || data === undefined) {
        throw new ApiError(
          400,
          'invalid_request',
          `${where}: a file part needs {"file": {"file_data": "data:application/pdf;base64,...", "filename": "..."}}; file ids are not supported.`,
        );
      }
      const decoded = decodeDataUrl(data, where);
      if (decoded.mediaType !== 'application/pdf') {
        throw new ApiError(
          400,
          'invalid_request',
          `${where}: only PDF files are supported as file parts; send images as image_url parts.`,
        );
      }
      return {
        type: 'file',
        mediaType: 'application/pdf',
        data: decoded.base64,
        ...(parsed.data.file.filename ? { filename: parsed.data.file.filename } : {}),
      };
    }
    throw new ApiError(
      400,
      'invalid_request',
      `${where}: content parts of type "${part.type}" are not supported; send text, image_url or file (PDF) parts.`,
    );
  });
}

/**
 * The bytes of a `data:` URL, with the media type taken from the bytes themselves (a declared
 * type is not trusted). Remote URLs are refused.
 */
function decodeDataUrl(
  url: string,
  where: string,
): { mediaType: NonNullable<ReturnType<typeof sniffMediaType>>; base64: string } {
  const match = /^data:[^;,]*(;[^,]*)?,(.*)$/s.exec(url);
  if (!match) {
    throw new ApiError(
      400,
      'invalid_request',
      `${where}: only data: URLs are accepted (e.g. "data:image/png;base64,..."); the gateway does not fetch remote URLs.`,
    );
  }
  if (!(match[1] ?? '').split(';').includes('base64')) {
    throw new ApiError(400, 'invalid_request', `${where}: the data: URL must be base64-encoded (";base64,").`);
  }
  const base64 = (match[2] ?? '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
    throw new ApiError(400, 'invalid_request', `${where}: the data: URL's base64 is malformed.`);
  }
  if (Math.floor((base64.length * 3) / 4) > maxPartBytes) {
    throw new ApiError(413, 'body_too_large', `${where}: the part is larger than ${maxPartBytes / 1024 / 1024} MB.`);
  }
  const mediaType = sniffMediaType(Buffer.from(base64.slice(0, 64), 'base64'));
  if (mediaType === undefined) {
    throw new ApiError(400, 'invalid_request', `${where}: the data is not a PNG, JPEG, GIF, WebP image or a PDF.`);
  }
  return { mediaType, base64 };
}

/** The conversation of a chat request as model messages. */
export function toModelMessages(messages: ChatMessage[]): ModelMessage[] {
  const toolNames = new Map<string, string>();
  return messages.map((message, index): ModelMessage => {
    const path = `messages.${index}.content`;
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textOf(message.content, path) };
      case 'user':
        return { role: 'user', content: userContentOf(message.content, path) };
      case 'assistant': {
        const text = textOf(message.content, path);
        const calls = (message.tool_calls ?? []).map((call) => {
          toolNames.set(call.id, call.function.name);
          return {
            type: 'tool-call' as const,
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
          };
        });
        return { role: 'assistant', content: [...(text ? [{ type: 'text' as const, text }] : []), ...calls] };
      }
      default:
        return {
          role: 'tool',
          toolCallId: message.tool_call_id,
          toolName: toolNames.get(message.tool_call_id) ?? 'unknown',
          content: textOf(message.content, path),
        };
    }
  });
}

/** Refuse `n` other than 1: the gateway answers, prices and records one choice per request. */
export function requireOneChoice(request: ChatRequest): void {
  if (request.n !== undefined && request.n !== null && request.n !== 1) {
    throw new ApiError(
      400,
      'invalid_request',
      '"n" must be 1 (one choice per request); send several requests instead.',
    );
  }
}

/** A chat request as a model request (everything but the abort signal). */
export function toModelRequest(request: ChatRequest): ModelRequest {
  requireOneChoice(request);
  const toolChoice: ToolChoice | undefined =
    request.tool_choice === null || request.tool_choice === undefined
      ? undefined
      : typeof request.tool_choice === 'string'
        ? request.tool_choice
        : { type: 'tool', name: request.tool_choice.function.name };
  const format = request.response_format;
  const responseFormat: ResponseFormat | undefined =
    format === null || format === undefined
      ? undefined
      : format.type === 'json_schema'
        ? {
            type: 'json-schema',
            name: format.json_schema.name,
            schema: format.json_schema.schema ?? {},
            ...(format.json_schema.description ? { description: format.json_schema.description } : {}),
            ...(typeof format.json_schema.strict === 'boolean' ? { strict: format.json_schema.strict } : {}),
          }
        : format.type === 'json_object'
          ? { type: 'json' }
          : { type: 'text' };
  const maxOutputTokens = request.max_completion_tokens ?? request.max_tokens;
  return {
    messages: toModelMessages(request.messages),
    ...(request.tools && request.tools.length > 0
      ? {
          tools: request.tools.map((tool) => ({
            name: tool.function.name,
            description: tool.function.description ?? '',
            inputSchema: tool.function.parameters ?? { type: 'object', properties: {} },
          })),
        }
      : {}),
    ...(toolChoice ? { toolChoice } : {}),
    ...(responseFormat ? { responseFormat } : {}),
    ...(typeof request.temperature === 'number' ? { temperature: request.temperature } : {}),
    ...(typeof maxOutputTokens === 'number' ? { maxOutputTokens } : {}),
    ...(request.stop ? { stop: typeof request.stop === 'string' ? [request.stop] : request.stop } : {}),
    ...(typeof request.parallel_tool_calls === 'boolean' ? { parallelToolCalls: request.parallel_tool_calls } : {}),
  };
}
