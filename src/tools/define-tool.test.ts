import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { isZodSchema, tool } from './define-tool.js';
import { createToolContext } from './tool-context.js';

const context = createToolContext({ runId: 'run-1' });

describe('tool() with a zod schema', () => {
  const weather = tool({
    name: 'get_weather',
    description: 'Weather for a city.',
    input: z.object({
      city: z.string().describe('City name'),
      unit: z.enum(['c', 'f']).default('c'),
      when: z.string().transform((text) => new Date(text)),
    }),
    execute: async ({ city, unit, when }) => ({ city, unit, year: when.getUTCFullYear() }),
  });

  it('sends the model a JSON Schema of the input side, without $schema', () => {
    expect(weather.inputSchema).toEqual({
      type: 'object',
      properties: {
        city: { type: 'string', description: 'City name' },
        unit: { type: 'string', enum: ['c', 'f'], default: 'c' },
        when: { type: 'string' },
      },
      required: ['city', 'when'],
    });
  });

  it('defaults the effect to none', () => {
    expect(weather.effect).toBe('none');
  });

  it('validates, applying defaults and transforms, and gives execute the parsed output', async () => {
    const result = weather.validate({ city: 'Oslo', when: '2025-06-01' });
    if (!result.success) throw new Error('expected success');
    expect(result.data).toEqual({ city: 'Oslo', unit: 'c', when: new Date('2025-06-01') });
    expect(await weather.execute(result.data, context)).toEqual({ city: 'Oslo', unit: 'c', year: 2025 });
  });

  it('maps zod issues to paths and messages', () => {
    const result = weather.validate({ city: 7, unit: 'k' });
    if (result.success) throw new Error('expected failure');
    expect(result.issues.map((issue) => issue.path)).toEqual([['city'], ['unit'], ['when']]);
    for (const issue of result.issues) expect(issue.message).not.toBe('');
  });

  it('types execute input from the schema output', () => {
    expectTypeOf(weather.execute).parameter(0).toEqualTypeOf<{ city: string; unit: 'c' | 'f'; when: Date }>();
  });

  it('rejects a schema that is not an object, naming the option', () => {
    expect(() => tool({ name: 'bad', description: 'x', input: z.string(), execute: () => 1 })).toThrow(
      /tool\(bad\): `input` must describe an object/,
    );
  });

  it('rejects a schema JSON Schema cannot express', () => {
    expect(() => tool({ name: 'bad', description: 'x', input: z.object({ at: z.date() }), execute: () => 1 })).toThrow(
      TypeError,
    );
  });
});

describe('tool() with a JSON Schema', () => {
  const ticket = tool<{ title: string; labels: string[] }, string>({
    name: 'create_ticket',
    description: 'Open a ticket.',
    effect: 'side-effect',
    input: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      properties: {
        title: { type: 'string' },
        labels: { type: 'array', items: { type: 'string' }, default: [] },
        contact: { type: 'string', format: 'email' },
      },
      required: ['title'],
      additionalProperties: false,
    },
    execute: ({ title, labels }) => `${title} [${labels.join(',')}]`,
  });

  it('adds type object and drops $schema', () => {
    expect(ticket.inputSchema.type).toBe('object');
    expect(ticket.inputSchema).not.toHaveProperty('$schema');
    expect(ticket.effect).toBe('side-effect');
  });

  it('fills in schema defaults without changing the value it was given', () => {
    const args = { title: 'Bug' };
    const result = ticket.validate(args);
    expect(result).toEqual({ success: true, data: { title: 'Bug', labels: [] } });
    expect(args).toEqual({ title: 'Bug' });
  });

  it('reports every issue with its path', () => {
    const result = ticket.validate({ labels: ['ok', 3], extra: true });
    if (result.success) throw new Error('expected failure');
    expect(result.issues).toEqual([
      { path: ['title'], message: 'is required' },
      { path: ['extra'], message: 'is not an allowed property' },
      { path: ['labels', 1], message: 'must be string' },
    ]);
  });

  it('does not check formats', () => {
    expect(ticket.validate({ title: 'Bug', contact: 'not an email' }).success).toBe(true);
  });

  it('reads a draft-07 schema, with tuple items, when its $schema says so', () => {
    const move = tool({
      name: 'move',
      description: 'Move to a point.',
      input: {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        properties: {
          point: { type: 'array', items: [{ type: 'number' }, { type: 'number' }], additionalItems: false },
        },
      },
      execute: () => 'moved',
    });
    expect(move.validate({ point: [1, 2] }).success).toBe(true);
    expect(move.validate({ point: [1, 2, 3] }).success).toBe(false);
    expect(move.validate({ point: [1, 'x'] })).toEqual({
      success: false,
      issues: [{ path: ['point', 1], message: 'must be number' }],
    });
  });

  it('gives execute a Record by default', () => {
    const plain = tool({ name: 'plain', description: 'x', input: {}, execute: (input) => Object.keys(input) });
    expectTypeOf(plain.execute).parameter(0).toEqualTypeOf<Record<string, unknown>>();
  });

  it('rejects a schema that cannot be compiled', () => {
    expect(() =>
      tool({
        name: 'bad',
        description: 'x',
        input: { type: 'object', properties: { a: { type: 'nope' } } },
        execute: () => 1,
      }),
    ).toThrow(/tool\(bad\): `input` is not a valid JSON Schema/);
  });

  it('rejects a schema of something other than an object', () => {
    expect(() => tool({ name: 'bad', description: 'x', input: { type: 'array' }, execute: () => 1 })).toThrow(
      /`input` must describe an object/,
    );
  });

  it('keeps tools with the same $id apart', () => {
    const first = tool({
      name: 'one',
      description: 'x',
      input: { $id: 'args', properties: { a: { type: 'string' } } },
      execute: () => 1,
    });
    const second = tool({
      name: 'two',
      description: 'x',
      input: { $id: 'args', properties: { a: { type: 'integer' } } },
      execute: () => 2,
    });
    expect(first.validate({ a: 'text' }).success).toBe(true);
    expect(second.validate({ a: 'text' }).success).toBe(false);
    expect(second.validate({ a: 3 }).success).toBe(true);
  });

  it('is not affected by later changes to the schema object it was given', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    const defined = tool({ name: 'copy', description: 'x', input: schema, execute: () => 1 });
    schema.properties.a.type = 'number';
    expect(defined.inputSchema).toEqual({ type: 'object', properties: { a: { type: 'string' } } });
    expect(defined.validate({ a: 'text' }).success).toBe(true);
  });
});

describe('tool() misuse', () => {
  const valid = { name: 'ok', description: 'Does a thing.', input: {}, execute: () => 1 };

  it.each([
    ['name', { ...valid, name: 'has space' }, /`name` must match/],
    ['name', { ...valid, name: 'x'.repeat(65) }, /`name` must match/],
    ['name', { ...valid, name: '' }, /`name` must match/],
    ['description', { ...valid, description: '  ' }, /`description` must be a non-empty string/],
    ['effect', { ...valid, effect: 'dangerous' }, /`effect` must be one of none, idempotent, side-effect/],
    ['execute', { ...valid, execute: 'run' }, /`execute` must be a function/],
    ['input', { ...valid, input: null }, /`input` must be a zod schema or a JSON Schema object/],
  ])('throws a TypeError naming %s', (_option, options, message) => {
    expect(() => tool(options as never)).toThrow(TypeError);
    expect(() => tool(options as never)).toThrow(message);
  });

  it('accepts dots and dashes in names', () => {
    expect(tool({ ...valid, name: 'fs.read-file_2' }).name).toBe('fs.read-file_2');
  });
});

describe('isZodSchema', () => {
  it('tells zod schemas from JSON Schemas', () => {
    expect(isZodSchema(z.object({}))).toBe(true);
    expect(isZodSchema({ type: 'object' })).toBe(false);
  });
});

describe('tool() with schema defaults that break their own schema', () => {
  const schema = {
    type: 'object',
    properties: {
      city: { type: 'string' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'], default: 'kelvin' },
      days: { type: 'integer', default: 'three' },
      limit: { type: 'integer', default: 5 },
    },
    required: ['city'],
  };

  it('drops each invalid default with a warning naming it, and keeps valid ones', () => {
    const defined = tool({ name: 'forecast', description: 'Forecast.', input: schema, execute: () => null });
    expect(defined.warnings).toEqual([
      expect.stringContaining('"kelvin" at /properties/unit'),
      expect.stringContaining('"three" at /properties/days'),
    ]);
    const properties = defined.inputSchema.properties as Record<string, Record<string, unknown>>;
    expect(properties.unit).not.toHaveProperty('default');
    expect(properties.days).not.toHaveProperty('default');
    expect(properties.limit?.default).toBe(5);
  });

  it('never applies a dropped default: leaving the parameter out passes', () => {
    const defined = tool({ name: 'forecast', description: 'Forecast.', input: schema, execute: () => null });
    expect(defined.validate({ city: 'Oslo' })).toEqual({ success: true, data: { city: 'Oslo', limit: 5 } });
  });

  it('leaves the caller’s schema untouched and gives zod tools no warnings', () => {
    tool({ name: 'forecast', description: 'Forecast.', input: schema, execute: () => null });
    expect(schema.properties.unit.default).toBe('kelvin');
    const zodTool = tool({ name: 'z', description: 'Z.', input: z.object({ a: z.string() }), execute: () => null });
    expect(zodTool.warnings).toEqual([]);
  });
});
