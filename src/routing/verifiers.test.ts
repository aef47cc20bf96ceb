import { describe, expect, it } from 'vitest';
import type { ModelRequest, ModelResponse, ModelToolDefinition } from '../models/spec.js';
import { matchesFormat, nonEmptyAnswer, runVerifiers, validJsonOutput, validToolCall } from './verifiers.js';

const weather: ModelToolDefinition = {
  name: 'get_weather',
  description: 'Weather for a city.',
  inputSchema: {
    type: 'object',
    properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } },
    required: ['city'],
    additionalProperties: false,
  },
};

const request: ModelRequest = { messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools: [weather] };

function response(fields: Partial<ModelResponse>): ModelResponse {
  return {
    text: '',
    toolCalls: [],
    usage: { inputTokens: 1, outputTokens: 1 },
    usageByModel: [],
    routing: [],
    finishReason: 'stop',
    warnings: [],
    ...fields,
  };
}

function call(name: string, argumentText: string) {
  return { type: 'tool-call' as const, id: 'call_1', name, arguments: argumentText };
}

describe('validToolCall', () => {
  const verify = validToolCall();

  it('accepts a call that names a known tool with valid arguments', async () => {
    expect(await verify(response({ toolCalls: [call('get_weather', '{"city":"Oslo","days":2}')] }), request)).toEqual({
      accept: true,
      reason: 'valid-tool-call: 1 valid tool call(s)',
    });
  });

  it('rejects an unknown tool', async () => {
    const verdict = await verify(response({ toolCalls: [call('search_web', '{}')] }), request);
    expect(verdict).toEqual({
      accept: false,
      reason: 'valid-tool-call: call to "search_web" is invalid: (arguments) unknown tool "search_web"',
    });
  });

  it('rejects arguments that break the schema, naming the field', async () => {
    const verdict = await verify(response({ toolCalls: [call('get_weather', '{"city":"Oslo","days":0}')] }), request);
    expect(verdict.accept).toBe(false);
    expect(verdict.reason).toContain('days');
  });

  it('rejects arguments that are not JSON at all', async () => {
    const verdict = await verify(response({ toolCalls: [call('get_weather', 'city is Oslo')] }), request);
    expect(verdict).toMatchObject({ accept: false });
    expect(verdict.reason).toContain('not valid JSON');
  });

  it('accepts a call the loop would repair, unless repairs are refused', async () => {
    const repairable = response({ toolCalls: [call('get_weather', '{"city":"Oslo","days":"3"}')] });
    expect((await verify(repairable, request)).accept).toBe(true);
    const strict = await validToolCall({ allowRepairs: false })(repairable, request);
    expect(strict.accept).toBe(false);
    expect(strict.reason).toContain('needed repairs');
  });

  it('checks tool calls written in the text, as the loop reads them', async () => {
    const written = response({ text: '<tool_call>{"name":"get_weather","arguments":{"days":2}}</tool_call>' });
    const verdict = await verify(written, request);
    expect(verdict.accept).toBe(false);
    expect(verdict.reason).toContain('city');
  });

  it('rejects an answer without a call when the request requires one', async () => {
    expect((await verify(response({ text: 'It is sunny.' }), { ...request, toolChoice: 'required' })).accept).toBe(
      false,
    );
    expect((await verify(response({ text: 'It is sunny.' }), request)).accept).toBe(true);
  });

  it('uses the tools it was given over the request’s', async () => {
    const verdict = await validToolCall({ tools: [] })(
      response({ toolCalls: [call('get_weather', '{"city":"Oslo"}')] }),
      request,
    );
    expect(verdict.accept).toBe(false);
  });
});

describe('nonEmptyAnswer', () => {
  it('rejects whitespace and accepts text or a tool call', async () => {
    const verify = nonEmptyAnswer();
    expect(await verify(response({ text: ' \n ' }), request)).toEqual({
      accept: false,
      reason: 'non-empty: the answer is empty (finish reason stop)',
    });
    expect((await verify(response({ text: 'Sunny.' }), request)).accept).toBe(true);
    expect((await verify(response({ toolCalls: [call('get_weather', '{}')] }), request)).accept).toBe(true);
  });
});

describe('matchesFormat', () => {
  it('checks a final answer against the pattern, the same way every time', async () => {
    const verify = matchesFormat(/^#### -?\d+$/gm);
    expect((await verify(response({ text: 'Work...\n#### 42' }), request)).accept).toBe(true);
    expect((await verify(response({ text: 'Work...\n#### 42' }), request)).accept).toBe(true);
    expect(await verify(response({ text: 'The answer is 42.' }), request)).toEqual({
      accept: false,
      reason: 'matches-format: the answer does not match /^#### -?\\d+$/m',
    });
    expect((await verify(response({ toolCalls: [call('get_weather', '{}')] }), request)).accept).toBe(true);
  });
});

describe('validJsonOutput', () => {
  const schemaRequest: ModelRequest = {
    messages: request.messages,
    responseFormat: {
      type: 'json-schema',
      name: 'final_output',
      schema: { type: 'object', properties: { celsius: { type: 'number' } }, required: ['celsius'] },
    },
  };

  it('checks the answer against the request’s schema', async () => {
    const verify = validJsonOutput();
    expect((await verify(response({ text: '```json\n{"celsius": 4}\n```' }), schemaRequest)).accept).toBe(true);
    const missing = await verify(response({ text: '{"fahrenheit": 39}' }), schemaRequest);
    expect(missing).toEqual({
      accept: false,
      reason: 'valid-json-output: the answer does not match the schema: celsius is required',
    });
    expect((await verify(response({ text: 'about four degrees' }), schemaRequest)).reason).toContain('not JSON');
  });

  it('accepts any answer when no JSON was asked for, and only JSON for a json format', async () => {
    const verify = validJsonOutput();
    expect((await verify(response({ text: 'plain' }), request)).accept).toBe(true);
    expect((await verify(response({ text: 'plain' }), { ...request, responseFormat: { type: 'json' } })).accept).toBe(
      false,
    );
  });

  it('uses a schema it was given', async () => {
    const verify = validJsonOutput({ type: 'object', required: ['ok'] });
    expect((await verify(response({ text: '{}' }), request)).accept).toBe(false);
    expect(() => validJsonOutput({ type: 'array' })).toThrow(TypeError);
  });
});

describe('runVerifiers', () => {
  it('returns the first rejection, and every reason on acceptance', async () => {
    const both = [nonEmptyAnswer(), matchesFormat(/^\d+$/)];
    expect(await runVerifiers(both, response({ text: '42' }), request)).toEqual({
      accept: true,
      reason: 'non-empty: the answer has text; matches-format: matches /^\\d+$/',
    });
    expect((await runVerifiers(both, response({ text: '' }), request)).reason).toMatch(/^non-empty/);
  });

  it('awaits an async custom verifier', async () => {
    const custom = async () => ({ accept: false, reason: 'judge: too vague' });
    expect(await runVerifiers([custom], response({ text: 'x' }), request)).toEqual({
      accept: false,
      reason: 'judge: too vague',
    });
  });
});
