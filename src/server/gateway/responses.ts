/**
 * `POST /v1/responses` for the basic case: text input (a string or a list of messages with text
 * content), optional instructions, no tools, not streamed. Anything else is refused with a
 * message pointing to chat completions, which support it.
 */
import { z } from 'zod';
import type { ModelResponse } from '../../models/spec.js';
import type { ChatRequest } from './chat-request.js';

const inputText = z.union([
  z.string(),
  z.array(z.looseObject({ type: z.enum(['input_text', 'output_text']), text: z.string() })),
]);

export const responsesRequestSchema = z.looseObject({
  model: z.string({ error: 'a model name, e.g. "openai:gpt-4o-mini"' }).min(1),
  input: z.union([
    z.string().min(1),
    z.array(
      z.looseObject({
        type: z.literal('message').optional(),
        role: z.enum(['user', 'assistant', 'system', 'developer']),
        content: inputText,
      }),
      { error: 'a list of messages with text content' },
    ),
  ]),
  instructions: z.string().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  stream: z
    .literal(false, { error: 'false: streamed responses are not supported here; use /v1/chat/completions' })
    .nullish(),
  tools: z
    .array(z.unknown())
    .max(0, { error: 'empty: tools are not supported on /v1/responses here; use /v1/chat/completions' })
    .nullish(),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;

export function responsesToChat(request: ResponsesRequest): ChatRequest {
  const text = (content: z.infer<typeof inputText>) =>
    typeof content === 'string' ? content : content.map((part) => part.text).join('');
  const messages: ChatRequest['messages'] = [
    ...(request.instructions ? [{ role: 'system' as const, content: request.instructions }] : []),
    ...(typeof request.input === 'string'
      ? [{ role: 'user' as const, content: request.input }]
      : request.input.map((message) => ({ role: message.role, content: text(message.content) }))),
  ];
  return {
    model: request.model,
    messages,
    ...(typeof request.temperature === 'number' ? { temperature: request.temperature } : {}),
    ...(typeof request.max_output_tokens === 'number' ? { max_tokens: request.max_output_tokens } : {}),
  };
}

export function responseBody(init: {
  id: string;
  model: string;
  response: ModelResponse;
  costUsd: number | undefined;
}) {
  const input = init.response.usage.inputTokens ?? 0;
  const output = init.response.usage.outputTokens ?? 0;
  return {
    id: init.id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model: init.model,
    output: [
      {
        type: 'message',
        id: `msg_${init.id.slice(5)}`,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: init.response.text, annotations: [] }],
      },
    ],
    usage: {
      input_tokens: input,
      output_tokens: output,
      total_tokens: input + output,
      ...(init.costUsd !== undefined ? { cost_usd: init.costUsd } : {}),
    },
  };
}
