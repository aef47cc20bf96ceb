import { describe, expect, it } from 'vitest';
import { extractTextToolCalls } from './text-tool-calls.js';

const toolNames = ['get_weather', 'search_files'];

describe('extractTextToolCalls', () => {
  it('reads Hermes/Qwen <tool_call> tags, several in one answer', () => {
    const text = [
      'I will check both cities.',
      '<tool_call>',
      '{"name": "get_weather", "arguments": {"city": "Oslo"}}',
      '</tool_call>',
      '<tool_call>',
      '{"name": "get_weather", "arguments": {"city": "Bergen"}}',
      '</tool_call>',
    ].join('\n');
    expect(extractTextToolCalls(text, toolNames)).toEqual({
      calls: [
        { name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { name: 'get_weather', arguments: '{"city":"Bergen"}' },
      ],
      remainingText: 'I will check both cities.',
    });
  });

  it('reads a tagged call whose closing tag was cut off, and one without arguments', () => {
    const text =
      '<tool_call>{"name": "search_files"}</tool_call><tool_call>{"name": "get_weather", "arguments": {"city": "Rome"';
    expect(extractTextToolCalls(text, toolNames)).toEqual({
      calls: [
        { name: 'search_files', arguments: '{}' },
        { name: 'get_weather', arguments: '{"city":"Rome"}' },
      ],
      remainingText: '',
    });
  });

  it('reads a ```json fenced block', () => {
    const text = 'Let me look that up.\n\n```json\n{"name": "search_files", "parameters": {"query": "TODO"}}\n```\n';
    expect(extractTextToolCalls(text, toolNames)).toEqual({
      calls: [{ name: 'search_files', arguments: '{"query":"TODO"}' }],
      remainingText: 'Let me look that up.',
    });
  });

  it('reads a bare JSON object, keeping the prose around it', () => {
    const text = 'Calling now: {"name": "get_weather", "input": {"city": "Paris"}} and then I will answer.';
    expect(extractTextToolCalls(text, toolNames)).toEqual({
      calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }],
      remainingText: 'Calling now:  and then I will answer.',
    });
  });

  it('reads a JSON array of calls', () => {
    const text =
      '[{"name": "get_weather", "arguments": {"city": "Oslo"}}, {"name": "search_files", "arguments": {"query": "x"}}]';
    expect(extractTextToolCalls(text, toolNames).calls).toEqual([
      { name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { name: 'search_files', arguments: '{"query":"x"}' },
    ]);
  });

  it('reads {"tool": ..., "args": ...} and keeps arguments already written as a string', () => {
    const text = '{"tool": "get_weather", "args": "{\\"city\\": \\"Lima\\"}"}';
    expect(extractTextToolCalls(text, toolNames).calls).toEqual([
      { name: 'get_weather', arguments: '{"city": "Lima"}' },
    ]);
  });

  it("reads Mistral's [TOOL_CALLS] marker and OpenAI's function shape", () => {
    const mistral = '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Nice"}}]';
    expect(extractTextToolCalls(mistral, toolNames)).toEqual({
      calls: [{ name: 'get_weather', arguments: '{"city":"Nice"}' }],
      remainingText: '',
    });
    const openai = '{"type": "function", "function": {"name": "search_files", "arguments": "{\\"query\\":\\"a\\"}"}}';
    expect(extractTextToolCalls(openai, toolNames).calls).toEqual([
      { name: 'search_files', arguments: '{"query":"a"}' },
    ]);
  });

  it('accepts near-miss names, keeping the name as written', () => {
    const text = '<tool_call>{"name": "functions.getWeather", "arguments": {"city": "Oslo"}}</tool_call>';
    expect(extractTextToolCalls(text, toolNames).calls).toEqual([
      { name: 'functions.getWeather', arguments: '{"city":"Oslo"}' },
    ]);
  });

  it('repairs sloppy JSON inside a call', () => {
    const text = "<tool_call>{'name': 'get_weather', 'arguments': {'city': 'Oslo',}}</tool_call>";
    expect(extractTextToolCalls(text, toolNames).calls).toEqual([
      { name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ]);
  });

  it('leaves JSON that is not a call to a known tool as text', () => {
    const answers = [
      '{"name": "Alice", "arguments": {"age": 3}}',
      'Result: {"name": "get_weather"}',
      '```json\n{"city": "Oslo", "temperature": 21}\n```',
      '<tool_call>{"name": "send_email", "arguments": {}}</tool_call>',
    ];
    for (const text of answers)
      expect(extractTextToolCalls(text, toolNames)).toEqual({ calls: [], remainingText: text });
  });

  it('returns calls in the order they appear across formats', () => {
    const text =
      '{"name": "search_files", "arguments": {"query": "a"}}\n<tool_call>{"name": "get_weather", "arguments": {"city": "b"}}</tool_call>';
    expect(extractTextToolCalls(text, toolNames).calls.map((call) => call.name)).toEqual([
      'search_files',
      'get_weather',
    ]);
  });
});

describe('extractTextToolCalls: tool definitions quoted in text', () => {
  const weatherSchema = {
    type: 'object',
    properties: { city: { type: 'string', description: 'City name.' } },
    required: ['city'],
  };

  it('does not read an OpenAI tools array pasted by a user as calls', () => {
    const text = `Why does my request fail? tools: ${JSON.stringify([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Weather for a city.', parameters: weatherSchema },
      },
    ])}`;
    expect(extractTextToolCalls(text, ['get_weather']).calls).toEqual([]);
  });

  it('does not read a bare definition, an Anthropic input_schema one or a fenced one as a call', () => {
    const bare = JSON.stringify({ name: 'get_weather', description: 'Weather for a city.', parameters: weatherSchema });
    const anthropic = JSON.stringify({ name: 'get_weather', description: 'Weather.', input_schema: weatherSchema });
    const fenced = `I can use:\n\`\`\`json\n${JSON.stringify({ name: 'get_weather', parameters: weatherSchema })}\n\`\`\``;
    for (const text of [bare, anthropic, fenced]) expect(extractTextToolCalls(text, ['get_weather']).calls).toEqual([]);
  });

  it('still reads a call whose parameters are values', () => {
    const text = JSON.stringify({ name: 'get_weather', parameters: { city: 'Oslo' } });
    expect(extractTextToolCalls(text, ['get_weather']).calls).toEqual([
      { name: 'get_weather', arguments: '{"city":"Oslo"}' },
    ]);
  });
});
