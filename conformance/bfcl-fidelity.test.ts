/**
 * Conformance of three tool-layer behaviours with the BFCL v4 corpus, over every function and
 * ground-truth call in it:
 *
 * - schema defaults that break their own schema are dropped at definition time, with a warning,
 *   and never applied (a call that leaves the parameter out must not fail on it);
 * - `null` written for an optional, non-nullable parameter is dropped, giving the same input as
 *   leaving it out;
 * - tool definitions quoted in text (BFCL's own form, an OpenAI `tools` array, Anthropic's
 *   `input_schema` form, in prose or a code fence) are never read as calls: the false-call rate
 *   is measured on the irrelevance category and on every answered one, and must be 0.
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonSchema } from '../src/models/spec.js';
import { allowsNull } from '../src/models/strict-schema.js';
import { extractTextToolCalls, prepareToolCall, type Tool, tool } from '../src/tools/index.js';
import {
  type AnsweredCategory,
  answeredCategories,
  type BfclEntry,
  categoryLanguage,
  readAnsweredEntries,
  readEntries,
  requireBfclDirectory,
} from './bfcl-corpus.js';
import { pickGroundTruthCall } from './bfcl-ground-truth.js';
import { bfclToJsonSchema } from './bfcl-schema.js';
import { callKey, knownInvalidGroundTruth } from './known-invalid-ground-truth.js';

requireBfclDirectory();

const report: string[] = [];
afterAll(() => console.log(['', 'BFCL v4 fidelity', ...report].join('\n')));

type Category = AnsweredCategory | 'irrelevance';
const allCategories: readonly Category[] = [...answeredCategories, 'irrelevance'];

function toolsOf(entry: BfclEntry, category: Category): Tool[] {
  const language = category === 'irrelevance' ? 'python' : categoryLanguage(category);
  return entry.function.map((definition) =>
    tool({
      name: definition.name,
      description: definition.description,
      input: bfclToJsonSchema(definition.parameters, language),
      execute: () => null,
    }),
  );
}

/** Every `default` in a schema, with its path. */
function defaultsIn(schema: unknown, where = ''): Array<{ where: string; value: unknown }> {
  if (typeof schema !== 'object' || schema === null) return [];
  const found: Array<{ where: string; value: unknown }> = [];
  if (!Array.isArray(schema) && 'default' in schema)
    found.push({ where, value: (schema as { default: unknown }).default });
  for (const [key, value] of Object.entries(schema)) {
    if (key !== 'default' && key !== 'enum' && key !== 'const') found.push(...defaultsIn(value, `${where}/${key}`));
  }
  return found;
}

describe('BFCL schema defaults (tool() keeps only defaults that pass their own schema)', () => {
  it.each(allCategories)('%s: each default dropped as invalid is named in a warning', (category) => {
    let declared = 0;
    let dropped = 0;
    const unexplained: string[] = [];
    for (const entry of readEntries(category)) {
      for (const [position, defined] of toolsOf(entry, category).entries()) {
        const definition = entry.function[position];
        const language = category === 'irrelevance' ? 'python' : categoryLanguage(category);
        const original = definition === undefined ? {} : bfclToJsonSchema(definition.parameters, language);
        const before = defaultsIn(original);
        const after = defaultsIn(defined.inputSchema);
        declared += before.length;
        dropped += before.length - after.length;
        const warnings = defined.warnings ?? [];
        if (warnings.length !== before.length - after.length) {
          unexplained.push(
            `${entry.id}/${defined.name}: ${before.length - after.length} dropped, ${warnings.length} warnings`,
          );
        }
      }
    }
    report.push(`${category}: ${declared} schema defaults, ${dropped} dropped as invalid`);
    expect(unexplained).toEqual([]);
  });

  it('never applies a dropped default: ground-truth calls that leave the parameter out stay ready', () => {
    const notReady: string[] = [];
    let omissions = 0;
    for (const category of answeredCategories) {
      for (const { entry, answer } of readAnsweredEntries(category)) {
        const tools = toolsOf(entry, category);
        answer.ground_truth.forEach((item, index) => {
          const [name] = Object.keys(item);
          const definition = entry.function.find((candidate) => candidate.name === name);
          const defined = tools.find((candidate) => candidate.name === name);
          if (definition === undefined || defined === undefined || (defined.warnings ?? []).length === 0) return;
          if (knownInvalidGroundTruth.some((known) => callKey(known.id, known.call) === callKey(entry.id, index)))
            return;
          omissions += 1;
          const call = pickGroundTruthCall(item, definition.parameters, categoryLanguage(category));
          const prepared = prepareToolCall(tools, { name: call.name, arguments: JSON.stringify(call.arguments) });
          if (prepared.status !== 'ready') notReady.push(`${entry.id}#${index}: ${prepared.message}`);
        });
      }
    }
    report.push(`calls to tools with a dropped default: ${omissions}, not ready: ${notReady.length}`);
    expect(notReady).toEqual([]);
  });

  // The failure this guards against, on a BFCL-shaped schema: a default outside its own enum.
  it('drops a default outside its own enum, so leaving the parameter out is accepted', () => {
    const defined = tool({
      name: 'get_stock_price',
      description: 'Stock price of a company.',
      input: bfclToJsonSchema(
        {
          type: 'dict',
          properties: {
            company: { type: 'string', description: 'Ticker.' },
            market: { type: 'string', enum: ['NASDAQ', 'NYSE'], default: 'nasdaq' },
          },
          required: ['company'],
        },
        'python',
      ),
      execute: () => null,
    });
    expect(defined.warnings).toEqual([expect.stringContaining('/properties/market')]);
    const prepared = prepareToolCall([defined], { name: 'get_stock_price', arguments: '{"company":"AAPL"}' });
    expect(prepared.status === 'ready' ? prepared.input : prepared.message).toEqual({ company: 'AAPL' });
  });
});

describe('BFCL null for optional parameters', () => {
  it('drops null written for an optional, non-nullable parameter, giving the input of leaving it out', () => {
    let attempted = 0;
    const wrong: string[] = [];
    for (const category of answeredCategories) {
      for (const { entry, answer } of readAnsweredEntries(category)) {
        const tools = toolsOf(entry, category);
        answer.ground_truth.forEach((item, index) => {
          const [name] = Object.keys(item);
          const definition = entry.function.find((candidate) => candidate.name === name);
          const defined = tools.find((candidate) => candidate.name === name);
          if (definition === undefined || defined === undefined) return;
          const call = pickGroundTruthCall(item, definition.parameters, categoryLanguage(category));
          const clean = prepareToolCall(tools, { name: call.name, arguments: JSON.stringify(call.arguments) });
          if (clean.status !== 'ready') return;
          const schema: JsonSchema = defined.inputSchema;
          const properties = (schema.properties ?? {}) as Record<string, unknown>;
          const required = Array.isArray(schema.required) ? schema.required : [];
          for (const [parameter, propertySchema] of Object.entries(properties)) {
            if (required.includes(parameter) || allowsNull(propertySchema, schema)) continue;
            attempted += 1;
            const { [parameter]: _left, ...without } = call.arguments;
            const expected = prepareToolCall(tools, { name: call.name, arguments: JSON.stringify(without) });
            const withNull = prepareToolCall(tools, {
              name: call.name,
              arguments: JSON.stringify({ ...without, [parameter]: null }),
            });
            const same =
              expected.status === 'ready' &&
              withNull.status === 'ready' &&
              isDeepStrictEqual(withNull.input, expected.input) &&
              withNull.repairs.some((repair) => repair.startsWith(`${parameter}: dropped null`));
            if (!same) wrong.push(`${entry.id}#${index} ${parameter}`);
          }
        });
      }
    }
    report.push(`null for optional parameters: ${attempted - wrong.length}/${attempted} dropped to the default`);
    expect(attempted).toBeGreaterThan(0);
    expect(wrong).toEqual([]);
  });
});

/** The ways a tool definition shows up in text. */
function definitionTexts(entry: BfclEntry, category: Category): string[] {
  const language = category === 'irrelevance' ? 'python' : categoryLanguage(category);
  const openAITools = entry.function.map((definition) => ({
    type: 'function',
    function: {
      name: definition.name,
      description: definition.description,
      parameters: bfclToJsonSchema(definition.parameters, language),
    },
  }));
  const texts = [
    `Here are the functions you can use:\n${JSON.stringify(entry.function, null, 2)}`,
    JSON.stringify(openAITools),
    `My request has these tools:\n\`\`\`json\n${JSON.stringify({ tools: openAITools }, null, 2)}\n\`\`\``,
  ];
  for (const definition of entry.function) {
    texts.push(JSON.stringify(definition));
    texts.push(
      `What does this do? ${JSON.stringify({ name: definition.name, description: definition.description, input_schema: bfclToJsonSchema(definition.parameters, language) })}`,
    );
    texts.push(
      `I can call ${definition.name}:\n${JSON.stringify({ name: definition.name, parameters: bfclToJsonSchema(definition.parameters, language) }, null, 2)}`,
    );
  }
  return texts;
}

describe('BFCL tool definitions quoted in text are not calls', () => {
  it.each(allCategories)('%s: the false-call rate over quoted definitions is 0', (category) => {
    let texts = 0;
    const falseCalls: string[] = [];
    for (const entry of readEntries(category)) {
      const toolNames = entry.function.map((definition) => definition.name);
      for (const text of definitionTexts(entry, category)) {
        texts += 1;
        const { calls } = extractTextToolCalls(text, toolNames);
        if (calls.length > 0) falseCalls.push(`${entry.id}: ${JSON.stringify(calls).slice(0, 160)}`);
      }
    }
    const rate = texts === 0 ? 0 : (100 * falseCalls.length) / texts;
    report.push(`${category}: ${falseCalls.length} false calls in ${texts} quoted definitions (${rate.toFixed(2)} %)`);
    expect(texts).toBeGreaterThan(0);
    expect(falseCalls).toEqual([]);
  });
});
