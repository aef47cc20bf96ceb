/**
 * Conformance of the tools layer with the Berkeley Function Calling Leaderboard (BFCL v4).
 *
 * Over every answered category: each function's schema becomes a Hataraku tool, each
 * ground-truth call prepares cleanly to exactly its arguments, and the same call written the
 * ways small models break calls is repaired back to the same input. The irrelevance category
 * checks that ordinary questions are not mistaken for calls written as text.
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonSchema } from '../src/models/spec.js';
import { extractTextToolCalls, type PreparedToolCall, prepareToolCall, type Tool, tool } from '../src/tools/index.js';
import {
  type AnsweredCategory,
  answeredCategories,
  type BfclEntry,
  categoryLanguage,
  readAnsweredEntries,
  readEntries,
  requireBfclDirectory,
} from './bfcl-corpus.js';
import { type GroundTruthCall, pickGroundTruthCall } from './bfcl-ground-truth.js';
import { bfclToJsonSchema } from './bfcl-schema.js';
import { type CorruptedCall, type CorruptionKind, corruptCall, corruptionKinds } from './call-corruptions.js';
import { callKey, type KnownInvalidGroundTruth, knownInvalidGroundTruth } from './known-invalid-ground-truth.js';

// Fails the whole file, loudly, when the corpus is missing: this suite must never pass empty.
requireBfclDirectory();

/**
 * The lowest repair rate accepted per corruption kind, over all categories: each is the rate
 * measured when the suite was written, rounded down to the percent, so a regression fails.
 */
const repairRateFloors: Record<CorruptionKind, number> = {
  'code-fence': 100,
  'prose-around': 100,
  'single-quotes': 100,
  'unquoted-keys': 100,
  'trailing-comma': 100,
  'python-literals': 100,
  truncated: 100,
  'wrapped-arguments': 100,
  'number-as-string': 100,
  'enum-case': 100,
  'tool-name': 100,
  'namespace-prefix': 100,
  'text-tool-call': 100,
};

/**
 * Bugs in src/tools that this suite found, now fixed; each keeps a regression case below. A
 * repair failure must be explained by a bug listed here (none are open).
 */
const knownBugs = {} as const;

type KnownBug = keyof typeof knownBugs;

/** The known bug that explains why a corrupted call was not repaired: none are open. */
function explainFailure(_kind: CorruptionKind, _call: GroundTruthCall): KnownBug | undefined {
  return undefined;
}

/** A ground-truth call that prepared cleanly, kept to corrupt. */
interface CheckedCall {
  key: string;
  call: GroundTruthCall;
  tools: Tool[];
  schema: JsonSchema;
  input: unknown;
}

interface CategoryResult {
  entries: number;
  functions: number;
  /** `id/name: reason` for each schema `tool()` refused. */
  rejectedSchemas: string[];
  callsChecked: number;
  /** Keys of ground-truth calls that did not come out `ready`. */
  notReady: string[];
  /** Ready calls whose tool, input or repairs were not those of the clean call. */
  mismatches: string[];
  checked: CheckedCall[];
}

interface RepairFailure {
  key: string;
  variant: CorruptedCall;
  outcome: string;
  /** Whether the call came out `ready` with a different input: a wrong value, silently. */
  silentlyWrong: boolean;
  bug: KnownBug | undefined;
}

interface RepairTally {
  attempted: number;
  repaired: number;
  failures: RepairFailure[];
}

const categoryResults = new Map<AnsweredCategory, CategoryResult>();
const repairTallies = new Map<CorruptionKind, Map<AnsweredCategory, RepairTally>>(
  corruptionKinds.map((kind) => [kind, new Map()]),
);
const knownInvalidKeys = new Set(knownInvalidGroundTruth.map((known) => callKey(known.id, known.call)));

function runCategory(category: AnsweredCategory): CategoryResult {
  const cached = categoryResults.get(category);
  if (cached !== undefined) return cached;
  const language = categoryLanguage(category);
  const result: CategoryResult = {
    entries: 0,
    functions: 0,
    rejectedSchemas: [],
    callsChecked: 0,
    notReady: [],
    mismatches: [],
    checked: [],
  };
  for (const { entry, answer } of readAnsweredEntries(category)) {
    result.entries += 1;
    const tools: Tool[] = [];
    const schemas = new Map<string, JsonSchema>();
    for (const definition of entry.function) {
      result.functions += 1;
      try {
        const schema = bfclToJsonSchema(definition.parameters, language);
        tools.push(
          tool({ name: definition.name, description: definition.description, input: schema, execute: () => null }),
        );
        schemas.set(definition.name, schema);
      } catch (error) {
        result.rejectedSchemas.push(
          `${entry.id}/${definition.name}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    answer.ground_truth.forEach((item, index) => {
      const key = callKey(entry.id, index);
      const [name] = Object.keys(item);
      const definition = entry.function.find((candidate) => candidate.name === name);
      const schema = name === undefined ? undefined : schemas.get(name);
      if (definition === undefined || schema === undefined) {
        result.notReady.push(key);
        return;
      }
      const call = pickGroundTruthCall(item, definition.parameters, language);
      result.callsChecked += 1;
      const prepared = prepareToolCall(tools, { name: call.name, arguments: JSON.stringify(call.arguments) });
      if (prepared.status !== 'ready') {
        result.notReady.push(key);
        return;
      }
      const expected = withDefaults(call.arguments, schema);
      if (
        prepared.tool.name !== call.name ||
        prepared.repairs.length > 0 ||
        !isDeepStrictEqual(prepared.input, expected)
      ) {
        result.mismatches.push(`${key}: ${describeOutcome(prepared)}`);
        return;
      }
      if (!knownInvalidKeys.has(key)) result.checked.push({ key, call, tools, schema, input: prepared.input });
    });
  }
  categoryResults.set(category, result);
  return result;
}

function tallyRepairs(category: AnsweredCategory, checked: readonly CheckedCall[]): void {
  for (const checkedCall of checked) {
    const toolNames = checkedCall.tools.map((candidate) => candidate.name);
    for (const variant of corruptCall(checkedCall.call, checkedCall.schema, toolNames)) {
      const byCategory = repairTallies.get(variant.kind);
      if (byCategory === undefined) continue;
      const tally = byCategory.get(category) ?? { attempted: 0, repaired: 0, failures: [] };
      byCategory.set(category, tally);
      tally.attempted += 1;
      const prepared = prepareVariant(variant, checkedCall.tools);
      if (prepared !== undefined && isFaithfulRepair(prepared, checkedCall)) {
        tally.repaired += 1;
        continue;
      }
      tally.failures.push({
        key: checkedCall.key,
        variant,
        outcome: prepared === undefined ? 'no single call found in the text' : describeOutcome(prepared),
        silentlyWrong: prepared?.status === 'ready',
        bug: explainFailure(variant.kind, checkedCall.call),
      });
    }
  }
}

/** Prepare a corrupted call; one written in answer text is first extracted (exactly one call). */
function prepareVariant(variant: CorruptedCall, tools: readonly Tool[]): PreparedToolCall | undefined {
  if (variant.answerText === undefined) return prepareToolCall(tools, variant);
  const { calls } = extractTextToolCalls(
    variant.answerText,
    tools.map((candidate) => candidate.name),
  );
  const [only] = calls;
  return calls.length === 1 && only !== undefined ? prepareToolCall(tools, only) : undefined;
}

/** The corrupted variant of kind `kind` of a checked call, to replay a known bug. */
function variantOf(
  category: AnsweredCategory,
  key: string,
  kind: CorruptionKind,
): { checkedCall: CheckedCall; variant: CorruptedCall } {
  const checkedCall = runCategory(category).checked.find((candidate) => candidate.key === key);
  if (checkedCall === undefined) throw new Error(`BFCL ${category}: ${key} is not a checked call`);
  const variant = corruptCall(
    checkedCall.call,
    checkedCall.schema,
    checkedCall.tools.map((candidate) => candidate.name),
  ).find((candidate) => candidate.kind === kind);
  if (variant === undefined) throw new Error(`BFCL ${category}: ${key} has no ${kind} variant`);
  return { checkedCall, variant };
}

function isFaithfulRepair(prepared: PreparedToolCall, checkedCall: CheckedCall): boolean {
  return (
    prepared.status === 'ready' &&
    prepared.tool.name === checkedCall.call.name &&
    isDeepStrictEqual(prepared.input, checkedCall.input)
  );
}

function describeOutcome(prepared: PreparedToolCall): string {
  if (prepared.status === 'invalid') return `invalid: ${prepared.message.replaceAll('\n', ' ')}`;
  return `ready as ${prepared.tool.name} with ${JSON.stringify(prepared.input)} after [${prepared.repairs.join('; ')}]`;
}

/**
 * The arguments as Ajv leaves them: `tool()` fills in schema defaults for parameters the call
 * leaves out, so the expected input has them too.
 */
function withDefaults(value: unknown, schema: unknown): unknown {
  if (!isRecord(schema)) return value;
  if (Array.isArray(value))
    return isRecord(schema.items) ? value.map((item) => withDefaults(item, schema.items)) : value;
  if (!isRecord(value)) return value;
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const filled: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) filled[key] = withDefaults(member, properties[key]);
  for (const [key, property] of Object.entries(properties)) {
    if (!Object.hasOwn(value, key) && isRecord(property) && Object.hasOwn(property, 'default')) {
      filled[key] = structuredClone(property.default);
    }
  }
  return filled;
}

/** The known-invalid calls of one category (`parallel_3` is in `parallel`, not `parallel_multiple`). */
function knownInvalidIn(category: AnsweredCategory): KnownInvalidGroundTruth[] {
  return knownInvalidGroundTruth.filter((known) => known.id.replace(/_\d+$/, '') === category);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function percent(repaired: number, attempted: number): number {
  return attempted === 0 ? 100 : (100 * repaired) / attempted;
}

function totalTally(kind: CorruptionKind): { attempted: number; repaired: number } {
  let attempted = 0;
  let repaired = 0;
  for (const tally of repairTallies.get(kind)?.values() ?? []) {
    attempted += tally.attempted;
    repaired += tally.repaired;
  }
  return { attempted, repaired };
}

afterAll(() => {
  const lines = ['', 'BFCL v4 conformance', ''];
  lines.push('category            entries  functions  calls checked  known-invalid');
  for (const category of answeredCategories) {
    const result = categoryResults.get(category);
    if (result === undefined) continue;
    const knownInvalid = knownInvalidIn(category).length;
    lines.push(
      `${category.padEnd(18)}  ${String(result.entries).padStart(7)}  ${String(result.functions).padStart(9)}  ${String(result.callsChecked).padStart(13)}  ${String(knownInvalid).padStart(13)}`,
    );
  }
  lines.push('', 'repair rate per corruption kind (repaired / attempted)', '');
  const header = [
    'kind'.padEnd(17),
    ...answeredCategories.map((category) => category.padStart(18)),
    'total'.padStart(16),
  ];
  lines.push(header.join('  '));
  for (const kind of corruptionKinds) {
    const cells = answeredCategories.map((category) => {
      const tally = repairTallies.get(kind)?.get(category);
      return (tally === undefined ? '-' : `${tally.repaired}/${tally.attempted}`).padStart(18);
    });
    const total = totalTally(kind);
    const rate = `${total.repaired}/${total.attempted} ${percent(total.repaired, total.attempted).toFixed(1)}%`;
    lines.push([kind.padEnd(17), ...cells, rate.padStart(16)].join('  '));
  }
  lines.push('', 'not repaired, by cause (silently wrong = came out ready with another input)');
  for (const kind of corruptionKinds) {
    const failures = [...(repairTallies.get(kind)?.values() ?? [])].flatMap((tally) => tally.failures);
    const causes = new Map<string, { count: number; silentlyWrong: number; example: RepairFailure }>();
    for (const failure of failures) {
      const cause = failure.bug ?? 'unexplained';
      const entry = causes.get(cause) ?? { count: 0, silentlyWrong: 0, example: failure };
      entry.count += 1;
      if (failure.silentlyWrong) entry.silentlyWrong += 1;
      causes.set(cause, entry);
    }
    for (const [cause, { count, silentlyWrong, example }] of causes) {
      lines.push(
        `  ${kind}: ${count} (${silentlyWrong} silently wrong) from ${cause}; e.g. ${example.key} ${example.variant.name} ${example.variant.arguments} -> ${example.outcome}`,
      );
    }
  }
  lines.push('', 'known bugs in src/tools:');
  for (const [name, description] of Object.entries(knownBugs)) lines.push(`  ${name}: ${description}`);
  console.log(lines.join('\n'));
});

describe.each(answeredCategories)('BFCL %s', (category) => {
  it('accepts every function schema as a tool', () => {
    const result = runCategory(category);
    expect(result.entries).toBeGreaterThan(0);
    expect(result.rejectedSchemas).toEqual([]);
  });

  it('prepares every ground-truth call to exactly its arguments, except the known-invalid ones', () => {
    const result = runCategory(category);
    const expectedInvalid = knownInvalidIn(category).map((known) => callKey(known.id, known.call));
    expect(result.callsChecked).toBeGreaterThanOrEqual(result.entries);
    expect(result.notReady.sort()).toEqual(expectedInvalid.sort());
    expect(result.mismatches).toEqual([]);
  });

  it('repairs corrupted calls back to the clean input', () => {
    const result = runCategory(category);
    tallyRepairs(category, result.checked);
    const attempted = corruptionKinds.reduce(
      (sum, kind) => sum + (repairTallies.get(kind)?.get(category)?.attempted ?? 0),
      0,
    );
    expect(attempted).toBeGreaterThanOrEqual(result.checked.length);
  });
});

describe('BFCL repair rates', () => {
  it.each(corruptionKinds)('repairs %s at or above its floor', (kind) => {
    const total = totalTally(kind);
    expect(total.attempted).toBeGreaterThan(0);
    expect(percent(total.repaired, total.attempted)).toBeGreaterThanOrEqual(repairRateFloors[kind]);
  });

  it('fails to repair only where a known bug in src/tools explains it', () => {
    const unexplained = corruptionKinds.flatMap((kind) =>
      [...(repairTallies.get(kind)?.values() ?? [])]
        .flatMap((tally) => tally.failures)
        .filter((failure) => failure.bug === undefined)
        .map(
          (failure) =>
            `${kind} ${failure.key}: ${failure.variant.name} ${failure.variant.arguments} -> ${failure.outcome}`,
        ),
    );
    expect(unexplained).toEqual([]);
  });
});

describe('BFCL regression cases of fixed bugs in src/tools', () => {
  // Was: a cut-off '{"function":"x**2","interval":[1,3]' parsed as [1, 3] (an inner span).
  it('closes a truncated call that holds a list (simple_python_13)', () => {
    const { checkedCall, variant } = variantOf('simple_python', 'simple_python_13#0', 'truncated');
    const prepared = prepareToolCall(checkedCall.tools, variant);
    expect(prepared.status === 'ready' ? prepared.input : prepared.message).toEqual(checkedCall.input);
  });

  // Was: `functions_intersect` matched nothing, the namespace was stripped from the tool name too.
  it('matches functions_intersect to the tool functions.intersect (multiple_29)', () => {
    const { checkedCall, variant } = variantOf('multiple', 'multiple_29#0', 'tool-name');
    expect(variant.name).toBe('functions_intersect');
    const prepared = prepareToolCall(checkedCall.tools, variant);
    expect(prepared.status === 'ready' ? prepared.tool.name : prepared.message).toBe('functions.intersect');
  });
});

describe('BFCL irrelevance', () => {
  it('finds no tool call in the plain text of questions that have none', () => {
    const entries = readEntries('irrelevance');
    expect(entries.length).toBeGreaterThan(0);
    expect(callsFoundInQuestions(entries)).toEqual([]);
  });

  // The answered questions describe calls in prose (and, for JavaScript, quote code such as
  // `applyMiddleware('myMiddleWare')`); the text itself is still no call.
  it('finds no tool call in the plain text of the answered questions either', () => {
    const entries = answeredCategories.flatMap((category) => readEntries(category));
    expect(entries.length).toBeGreaterThan(0);
    expect(callsFoundInQuestions(entries)).toEqual([]);
  });
});

function callsFoundInQuestions(entries: readonly BfclEntry[]): string[] {
  const mistaken: string[] = [];
  for (const entry of entries) {
    const toolNames = entry.function.map((definition) => definition.name);
    for (const message of entry.question.flat()) {
      const { calls } = extractTextToolCalls(message.content, toolNames);
      if (calls.length > 0) mistaken.push(`${entry.id}: ${JSON.stringify(calls)}`);
    }
  }
  return mistaken;
}
