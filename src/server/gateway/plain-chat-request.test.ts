/**
 * `isPlainChatRequest` answers for the schema on the common shape of a request, so it must never
 * accept what `chatRequestSchema` refuses. Checked over requests built from every combination of
 * valid and invalid parts, plus the requests of the function-calling fixtures.
 */
import { describe, expect, it } from 'vitest';
import { chatRequestSchema, isPlainChatRequest } from './chat-request.js';

const messageVariants: unknown[] = [
  { role: 'user', content: 'Hi' },
  { role: 'user', content: null },
  { role: 'user', content: '' },
  { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
  { role: 'user', content: 42 },
  { role: 'user' },
  { role: 'system', content: 'Be brief.' },
  { role: 'developer', content: 'Be brief.', name: 'policy' },
  { role: 'assistant', content: 'Hello' },
  { role: 'assistant', content: null },
  { role: 'assistant' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
  },
  { role: 'assistant', content: null, tool_calls: [{ id: 'c1' }] },
  { role: 'tool', content: 'result', tool_call_id: 'c1' },
  { role: 'tool', content: 'result' },
  { role: 'tool', content: 'result', tool_call_id: 7 },
  { role: 'function', content: 'old' },
  { role: 'user', content: 'Hi', extra: { anything: true } },
  null,
  'user: Hi',
  [],
];

const settingVariants: Array<Record<string, unknown>> = [
  {},
  { stream: true },
  { stream: 'yes' },
  { stream: null },
  { stream_options: { include_usage: true } },
  { stream_options: { include_usage: 'yes' } },
  { stream_options: { include_usage: true, continuous: true } },
  { stream_options: 'usage' },
  { temperature: 0.2 },
  { temperature: 3 },
  { temperature: -1 },
  { temperature: '0.2' },
  { max_tokens: 100 },
  { max_tokens: 0 },
  { max_tokens: 1.5 },
  { max_completion_tokens: 10 },
  { max_completion_tokens: -10 },
  { n: 1 },
  { n: 2.5 },
  { stop: 'END' },
  { stop: ['END', 7] },
  { stop: 7 },
  { parallel_tool_calls: false },
  { parallel_tool_calls: 'no' },
  { tools: [{ type: 'function', function: { name: 'f' } }] },
  { tools: [{ type: 'function' }] },
  { tools: null },
  { tool_choice: 'auto' },
  { tool_choice: 'sometimes' },
  { response_format: { type: 'json_object' } },
  { response_format: { type: 'yaml' } },
  { seed: 7, user: 'u', logprobs: true, metadata: { a: 1 } },
  { model: '' },
  { model: 7 },
  { messages: [] },
  { messages: 'Hi' },
];

describe('isPlainChatRequest', () => {
  it('accepts only what the schema accepts', () => {
    let accepted = 0;
    for (const message of messageVariants) {
      for (const second of [undefined, { role: 'user', content: 'And?' }]) {
        for (const settings of settingVariants) {
          const request = {
            model: 'openai:gpt-4o-mini',
            messages: second ? [message, second] : [message],
            ...settings,
          };
          if (!isPlainChatRequest(request)) continue;
          accepted++;
          const verdict = chatRequestSchema.safeParse(request);
          expect(verdict.success, JSON.stringify(request)).toBe(true);
        }
      }
    }
    // The check must answer for the common shape, or it saves nothing.
    expect(accepted).toBeGreaterThan(100);
  });

  it('answers for the common request of an OpenAI client', () => {
    expect(
      isPlainChatRequest({
        model: 'up:gpt-test',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Say hi' },
        ],
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      }),
    ).toBe(true);
    for (const shape of [null, [], 'text', { messages: [{ role: 'user', content: 'Hi' }] }]) {
      expect(isPlainChatRequest(shape)).toBe(false);
    }
  });
});
