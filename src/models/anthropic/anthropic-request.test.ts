import { describe, expect, it } from 'vitest';
import type { ModelRequest, ModelToolDefinition } from '../spec.js';
import { toAnthropicMessagesBody } from './anthropic-request.js';

const weatherTool: ModelToolDefinition = {
  name: 'get_weather',
  description: 'Current weather for a city.',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const timeTool: ModelToolDefinition = {
  name: 'current_time',
  description: 'The current time.',
  inputSchema: { type: 'object', properties: {} },
};

function convert(request: ModelRequest, promptCaching = false) {
  return toAnthropicMessagesBody(request, { modelId: 'claude-haiku-4-5', promptCaching });
}

describe('toAnthropicMessagesBody', () => {
  it('sends max_tokens 4096 by default without a warning, and the requested value otherwise', () => {
    const plain = convert({ messages: [{ role: 'user', content: 'hi' }] });
    expect(plain.body).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      stream: true,
    });
    expect(plain.warnings).toEqual([]);
    expect(convert({ messages: [{ role: 'user', content: 'hi' }], maxOutputTokens: 300 }).body.max_tokens).toBe(300);
  });

  it('moves system messages to top-level text blocks, warning when one came after the conversation began', () => {
    const early = convert({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(early.body.system).toEqual([
      { type: 'text', text: 'You are terse.' },
      { type: 'text', text: 'Answer in French.' },
    ]);
    expect(early.warnings).toEqual([]);

    const late = convert({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'system', content: 'Now answer in German.' },
      ],
    });
    expect(late.body.system).toEqual([{ type: 'text', text: 'Now answer in German.' }]);
    expect(late.body.messages).toHaveLength(1);
    expect(late.warnings).toEqual([{ type: 'other', message: expect.stringContaining('moved') }]);
  });

  it('groups consecutive tool results into one user message and merges the next user turn after them', () => {
    const { body } = convert({
      messages: [
        { role: 'user', content: 'Weather in Paris and the time?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool-call', id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { type: 'tool-call', id: 'toolu_2', name: 'current_time', arguments: '' },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_1', toolName: 'get_weather', content: '{"celsius":18}' },
        { role: 'tool', toolCallId: 'toolu_2', toolName: 'current_time', content: 'clock broken', isError: true },
        { role: 'user', content: 'Also, be brief.' },
      ],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and the time?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'current_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '{"celsius":18}' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'clock broken', is_error: true },
          { type: 'text', text: 'Also, be brief.' },
        ],
      },
    ]);
  });

  it('puts tool results before text when a user message came first in the same turn', () => {
    const { body } = convert({
      messages: [
        { role: 'assistant', content: [{ type: 'tool-call', id: 'toolu_1', name: 'current_time', arguments: '{}' }] },
        { role: 'user', content: 'Hurry.' },
        { role: 'tool', toolCallId: 'toolu_1', toolName: 'current_time', content: '12:00' },
      ],
    });
    expect(body.messages[1]?.content.map((block) => block.type)).toEqual(['tool_result', 'text']);
  });

  it('sends {} with a warning when earlier tool-call arguments are not a JSON object', () => {
    const { body, warnings } = convert({
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: [
            { type: 'tool-call', id: 'toolu_bad', name: 'get_weather', arguments: '{"city": "Par' },
            { type: 'tool-call', id: 'toolu_list', name: 'get_weather', arguments: '["Paris"]' },
          ],
        },
      ],
    });
    expect(body.messages[1]?.content).toEqual([
      { type: 'tool_use', id: 'toolu_bad', name: 'get_weather', input: {} },
      { type: 'tool_use', id: 'toolu_list', name: 'get_weather', input: {} },
    ]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]?.message).toContain('toolu_bad');
    expect(warnings[1]?.message).toContain('toolu_list');
  });

  it('drops empty assistant text, and assistant turns left with nothing, which the API rejects', () => {
    const { body } = convert({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: [{ type: 'text', text: '' }] },
        { role: 'user', content: 'two' },
      ],
    });
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      },
    ]);
  });

  it('maps tools and every tool choice, with parallel calls disabled inside tool_choice', () => {
    const messages: ModelRequest['messages'] = [{ role: 'user', content: 'hi' }];
    const tools = [weatherTool, timeTool];
    expect(convert({ messages, tools }).body.tools).toEqual([
      { name: 'get_weather', description: 'Current weather for a city.', input_schema: weatherTool.inputSchema },
      { name: 'current_time', description: 'The current time.', input_schema: timeTool.inputSchema },
    ]);
    const choice = (request: Partial<ModelRequest>) => convert({ messages, tools, ...request }).body.tool_choice;
    expect(choice({})).toBeUndefined();
    expect(choice({ toolChoice: 'auto' })).toEqual({ type: 'auto' });
    expect(choice({ toolChoice: 'required' })).toEqual({ type: 'any' });
    expect(choice({ toolChoice: 'none' })).toEqual({ type: 'none' });
    expect(choice({ toolChoice: { type: 'tool', name: 'current_time' } })).toEqual({
      type: 'tool',
      name: 'current_time',
    });
    expect(choice({ parallelToolCalls: false })).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(choice({ toolChoice: 'required', parallelToolCalls: false })).toEqual({
      type: 'any',
      disable_parallel_tool_use: true,
    });
    expect(choice({ toolChoice: { type: 'tool', name: 'get_weather' }, parallelToolCalls: false })).toEqual({
      type: 'tool',
      name: 'get_weather',
      disable_parallel_tool_use: true,
    });
    expect(choice({ toolChoice: 'auto', parallelToolCalls: true })).toEqual({ type: 'auto' });
  });

  it('does not send a tool choice without tools, warning when it demanded a call', () => {
    const required = convert({ messages: [{ role: 'user', content: 'hi' }], toolChoice: 'required' });
    expect(required.body.tool_choice).toBeUndefined();
    expect(required.body.tools).toBeUndefined();
    expect(required.warnings).toEqual([
      { type: 'unsupported-setting', setting: 'toolChoice', message: expect.stringContaining('no tools') },
    ]);
    expect(convert({ messages: [{ role: 'user', content: 'hi' }], toolChoice: 'none' }).warnings).toEqual([]);
  });

  it('sends temperature and stop sequences, clamping temperature to the API maximum of 1 with a warning', () => {
    const within = convert({ messages: [{ role: 'user', content: 'hi' }], temperature: 0.2, stop: ['###'] });
    expect(within.body.temperature).toBe(0.2);
    expect(within.body.stop_sequences).toEqual(['###']);
    expect(within.warnings).toEqual([]);
    const above = convert({ messages: [{ role: 'user', content: 'hi' }], temperature: 1.5, stop: [] });
    expect(above.body.temperature).toBe(1);
    expect(above.body.stop_sequences).toBeUndefined();
    expect(above.warnings).toEqual([
      { type: 'unsupported-setting', setting: 'temperature', message: expect.any(String) },
    ]);
  });

  it('warns about JSON response formats and sends nothing for them', () => {
    for (const responseFormat of [
      { type: 'json' } as const,
      { type: 'json-schema', name: 'answer', schema: { type: 'object' } } as const,
    ]) {
      const { body, warnings } = convert({ messages: [{ role: 'user', content: 'hi' }], responseFormat });
      expect(Object.keys(body).sort()).toEqual(['max_tokens', 'messages', 'model', 'stream']);
      expect(warnings).toEqual([
        { type: 'unsupported-setting', setting: 'responseFormat', message: expect.any(String) },
      ]);
    }
    expect(convert({ messages: [{ role: 'user', content: 'hi' }], responseFormat: { type: 'text' } }).warnings).toEqual(
      [],
    );
  });

  it('marks the last system block, the last tool and the last message block as cacheable', () => {
    const { body } = convert(
      {
        messages: [
          { role: 'system', content: 'rules' },
          { role: 'system', content: 'more rules' },
          { role: 'user', content: 'q1' },
          { role: 'assistant', content: [{ type: 'tool-call', id: 'toolu_1', name: 'current_time', arguments: '{}' }] },
          { role: 'tool', toolCallId: 'toolu_1', toolName: 'current_time', content: '12:00' },
        ],
        tools: [weatherTool, timeTool],
      },
      true,
    );
    expect(body.system?.map((block) => block.cache_control)).toEqual([undefined, { type: 'ephemeral' }]);
    expect(body.tools?.map((tool) => tool.cache_control)).toEqual([undefined, { type: 'ephemeral' }]);
    expect(
      body.messages.map((message) =>
        message.content.map((block) => ('cache_control' in block ? block.cache_control : undefined)),
      ),
    ).toEqual([[undefined], [undefined], [{ type: 'ephemeral' }]]);
    expect(JSON.stringify(body).match(/cache_control/g)).toHaveLength(3);
  });

  it('adds no cache markers when prompt caching is off', () => {
    const { body } = convert(
      {
        messages: [
          { role: 'system', content: 'rules' },
          { role: 'user', content: 'q' },
        ],
        tools: [weatherTool],
      },
      false,
    );
    expect(JSON.stringify(body)).not.toContain('cache_control');
  });
});
