import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { tool } from './define-tool.js';
import { formatIssuePath, prepareToolCall } from './prepare-call.js';
import type { Tool } from './tool.js';

const getWeather = tool({
  name: 'get_weather',
  description: 'Weather forecast for a city.',
  input: z.object({
    city: z.string(),
    unit: z.enum(['celsius', 'fahrenheit']).default('celsius'),
    days: z.number().int().min(1).max(14).optional(),
  }),
  execute: ({ city }) => `sunny in ${city}`,
});

const searchFiles = tool({
  name: 'search_files',
  description: 'Search files in the workspace for text.',
  input: {
    type: 'object',
    properties: {
      query: { type: 'string' },
      paths: { type: 'array', items: { type: 'string' } },
      max_results: { type: 'integer', minimum: 1 },
      case_sensitive: { type: 'boolean' },
    },
    required: ['query'],
    additionalProperties: false,
  },
  execute: () => [],
});

const createTicket = tool({
  name: 'create_ticket',
  description: 'Open a ticket in the issue tracker.',
  effect: 'side-effect',
  input: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: {
      title: { type: 'string', minLength: 3 },
      priority: { type: 'string', enum: ['low', 'medium', 'high'] },
      labels: { type: 'array', items: { type: 'string' } },
      urgent: { type: 'boolean' },
      assignee: { type: ['string', 'null'] },
    },
    required: ['title', 'priority'],
    additionalProperties: false,
  },
  execute: () => ({ id: 1 }),
});

const tools: Tool[] = [getWeather, searchFiles, createTicket];

interface BrokenCall {
  description: string;
  call: { name: string; arguments: string };
  expected: { input: unknown; repairs: string[] };
}

const brokenCalls = JSON.parse(
  await readFile(new URL('./__fixtures__/broken-calls.json', import.meta.url), 'utf8'),
) as BrokenCall[];

describe('prepareToolCall', () => {
  it('passes a well-formed call through with no repairs', () => {
    const prepared = prepareToolCall(tools, { name: 'get_weather', arguments: '{"city":"Oslo","days":3}' });
    expect(prepared).toEqual({
      status: 'ready',
      tool: getWeather,
      input: { city: 'Oslo', unit: 'celsius', days: 3 },
      // What the history shows: the arguments as validated, without the tool's defaults.
      repairedArguments: { city: 'Oslo', days: 3 },
      repairs: [],
    });
  });

  it('treats empty argument text as an empty object', () => {
    const noArguments = tool({ name: 'now', description: 'Current time.', input: {}, execute: () => 'noon' });
    const prepared = prepareToolCall([noArguments], { name: 'now', arguments: '' });
    expect(prepared).toMatchObject({ status: 'ready', input: {}, repairs: [] });
  });

  it('has at least six realistic broken calls in its fixture', () => {
    expect(brokenCalls.length).toBeGreaterThanOrEqual(6);
  });

  for (const broken of brokenCalls) {
    it(`repairs: ${broken.description}`, () => {
      const prepared = prepareToolCall(tools, broken.call);
      if (prepared.status !== 'ready') throw new Error(`expected ready, got: ${prepared.message}`);
      expect(prepared.input).toEqual(broken.expected.input);
      expect(prepared.repairs).toEqual(broken.expected.repairs);
    });
  }

  it('lists every remaining issue with its path, for a JSON Schema tool', () => {
    const prepared = prepareToolCall(tools, {
      name: 'create_ticket',
      arguments: '{"title": "x", "priority": "urgent", "labels": ["ok", {"name": "bug"}], "due": "friday"}',
    });
    if (prepared.status !== 'invalid') throw new Error('expected invalid');
    expect(prepared.toolName).toBe('create_ticket');
    expect(prepared.tool).toBe(createTicket);
    const issuePaths = prepared.issues.map((issue) => formatIssuePath(issue.path));
    expect(issuePaths).toEqual(expect.arrayContaining(['title', 'priority', 'labels[1]', 'due']));
    expect(prepared.issues).toHaveLength(4);
    expect(prepared.message).toContain('Invalid arguments for tool "create_ticket":');
    expect(prepared.message).toContain('- title: must NOT have fewer than 3 characters');
    expect(prepared.message).toContain('- priority: must be one of "low", "medium", "high"');
    expect(prepared.message).toContain('- labels[1]: must be string');
    expect(prepared.message).toContain('- due: is not an allowed property');
    expect(prepared.message).toContain('Fix these and call "create_ticket" again.');
  });

  it('lists every remaining issue with its path, for a zod tool', () => {
    const prepared = prepareToolCall(tools, { name: 'get_weather', arguments: '{"unit": "kelvin", "days": 30}' });
    if (prepared.status !== 'invalid') throw new Error('expected invalid');
    expect(prepared.issues.map((issue) => issue.path)).toEqual([['city'], ['unit'], ['days']]);
    for (const line of ['- city: ', '- unit: ', '- days: ']) expect(prepared.message).toContain(line);
  });

  it('reports the issues left after coercion, and keeps the repairs made before', () => {
    const prepared = prepareToolCall(tools, { name: 'search_files', arguments: "{'max_results': '5'}" });
    if (prepared.status !== 'invalid') throw new Error('expected invalid');
    expect(prepared.issues).toEqual([{ path: ['query'], message: 'is required' }]);
    expect(prepared.repairs).toEqual(['replaced single quotes with double quotes']);
  });

  it('does not turn a fractional string into an integer', () => {
    const prepared = prepareToolCall(tools, {
      name: 'search_files',
      arguments: '{"query": "a", "max_results": "5.5"}',
    });
    if (prepared.status !== 'invalid') throw new Error('expected invalid');
    expect(prepared.issues).toEqual([{ path: ['max_results'], message: 'must be integer' }]);
  });

  it('tells the model the available tools when the name matches none', () => {
    const prepared = prepareToolCall(tools, { name: 'send_email', arguments: '{}' });
    expect(prepared).toMatchObject({ status: 'invalid', toolName: 'send_email', tool: undefined });
    if (prepared.status !== 'invalid') throw new Error('expected invalid');
    expect(prepared.message).toBe(
      'Tool "send_email" does not exist. Available tools: get_weather, search_files, create_ticket. Call one of these by its exact name.',
    );
  });

  it('says so when there are no tools at all', () => {
    const prepared = prepareToolCall([], { name: 'get_weather', arguments: '{}' });
    if (prepared.status !== 'invalid') throw new Error('expected invalid');
    expect(prepared.message).toContain('no tools are available');
  });

  it('reports argument text that cannot be read as JSON', () => {
    const prepared = prepareToolCall(tools, { name: 'get_weather', arguments: 'Oslo, please' });
    if (prepared.status !== 'invalid') throw new Error('expected invalid');
    expect(prepared.issues).toEqual([
      { path: [], message: 'arguments are not valid JSON (no JSON object or array found)' },
    ]);
    expect(prepared.message).toContain('- (arguments): arguments are not valid JSON');
    expect(prepared.message).toContain('as one JSON object');
  });

  it('does not unwrap an "input" key the schema itself declares', () => {
    const echo = tool({
      name: 'echo',
      description: 'Echo text.',
      input: { properties: { input: { type: 'string' } }, required: ['input'] },
      execute: ({ input }) => input,
    });
    const prepared = prepareToolCall([echo], { name: 'echo', arguments: '{"input": {"text": "hi"}}' });
    if (prepared.status !== 'invalid') throw new Error('expected invalid');
    expect(prepared.issues).toEqual([{ path: ['input'], message: 'must be string' }]);
  });
});

describe('formatIssuePath', () => {
  it('writes paths the way a model would read them', () => {
    expect(formatIssuePath([])).toBe('(arguments)');
    expect(formatIssuePath(['items', 0, 'qty'])).toBe('items[0].qty');
    expect(formatIssuePath(['headers', 'content type'])).toBe('headers["content type"]');
  });
});
