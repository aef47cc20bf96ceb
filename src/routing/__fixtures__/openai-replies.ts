/**
 * Chat Completions replies for the fake OpenAI server in routing tests: an answer streamed as
 * OpenAI streams it (content or a tool call, the finish reason, then a usage chunk), and error
 * bodies shaped like OpenAI's.
 */
import { type FakeReply, jsonReply, sseBody, streamReply } from '../../models/openai/fake-openai-server.js';

function chunk(delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> {
  return {
    id: 'chatcmpl-route',
    object: 'chat.completion.chunk',
    created: 1749312000,
    model: 'upstream',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    usage: null,
  };
}

function usageChunk(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    id: 'chatcmpl-route',
    object: 'chat.completion.chunk',
    created: 1749312000,
    model: 'upstream',
    choices: [],
    usage: { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
  };
}

/** A streamed text answer with the given token counts. */
export function textAnswer(text: string, inputTokens: number, outputTokens: number): FakeReply {
  return streamReply(
    sseBody([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: text }),
      chunk({}, 'stop'),
      usageChunk(inputTokens, outputTokens),
    ]),
  );
}

/** A streamed answer that calls one tool. */
export function toolCallAnswer(
  call: { id: string; name: string; arguments: string },
  inputTokens: number,
  outputTokens: number,
): FakeReply {
  return streamReply(
    sseBody([
      chunk({
        role: 'assistant',
        content: null,
        tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: call.arguments } }] }),
      chunk({}, 'tool_calls'),
      usageChunk(inputTokens, outputTokens),
    ]),
  );
}

/** 429 with OpenAI's error body. */
export function rateLimited(): FakeReply {
  return jsonReply(
    429,
    { error: { message: 'Rate limit reached for gpt-4o-mini.', type: 'requests', code: 'rate_limit_exceeded' } },
    { 'retry-after': '0' },
  );
}

/** 500 with OpenAI's error body. */
export function serverError(): FakeReply {
  return jsonReply(500, { error: { message: 'The server had an error while processing your request.', type: 'server_error' } });
}
