/**
 * Deterministic corruptions of a correct tool call, in the ways small models break calls.
 *
 * Each corruption keeps the meaning of the call and changes only how it is written, so a
 * faithful repair gives back exactly the input of the clean call. A corruption that would not
 * change a given call (no numbers to quote, no enum to re-case) is not produced for it, so the
 * repair rates count only calls where the corruption applies.
 */
import type { JsonSchema } from '../src/models/spec.js';
import type { GroundTruthCall } from './bfcl-ground-truth.js';

export const corruptionKinds = [
  'code-fence',
  'prose-around',
  'single-quotes',
  'unquoted-keys',
  'trailing-comma',
  'python-literals',
  'truncated',
  'wrapped-arguments',
  'number-as-string',
  'enum-case',
  'tool-name',
  'namespace-prefix',
  'text-tool-call',
] as const;

/**
 * - `code-fence`: the arguments wrapped in a ```json fence.
 * - `prose-around`: the JSON preceded and followed by a sentence of chat.
 * - `single-quotes`: keys and strings quoted the way Python's `repr` does.
 * - `unquoted-keys`: object keys that are identifiers written without quotes, as in JavaScript.
 * - `trailing-comma`: a comma after the last member of every non-empty object and array.
 * - `python-literals`: `True`, `False`, `None` for `true`, `false`, `null`.
 * - `truncated`: the final `}` missing, as when the answer hits the token limit right there.
 * - `wrapped-arguments`: the arguments nested in `{"arguments": ...}`; not produced when the
 *   tool has a parameter named `arguments`.
 * - `number-as-string`: each number the schema types as `integer` or `number` written as a
 *   string (`"5"` for `5`); numbers where the schema says nothing are left alone, since no
 *   repair could know them.
 * - `enum-case`: each enum value in another case (`CELSIUS` for `celsius`), where that case
 *   matches no other member of the enum.
 * - `tool-name`: a near-miss name: `.` swapped for `_`, or snake_case and camelCase exchanged;
 *   not produced when the near miss is the exact name of another tool on offer.
 * - `namespace-prefix`: the name under OpenAI's `functions.` namespace, as models trained on
 *   its format write it.
 * - `text-tool-call`: the whole call written in the answer text inside Hermes/Qwen
 *   `<tool_call>` tags, to be found by `extractTextToolCalls` before it is prepared.
 */
export type CorruptionKind = (typeof corruptionKinds)[number];

/** A corrupted call as a model would send it. */
export interface CorruptedCall {
  kind: CorruptionKind;
  name: string;
  /** Raw argument text. */
  arguments: string;
  /**
   * For `text-tool-call`: the answer text the call is written in; `name` and `arguments` are
   * then what a correct extraction finds.
   */
  answerText?: string;
}

interface LiteralStyle {
  singleQuotes: boolean;
  unquotedKeys: boolean;
  trailingCommas: boolean;
  pythonConstants: boolean;
}

const jsonStyle: LiteralStyle = {
  singleQuotes: false,
  unquotedKeys: false,
  trailingCommas: false,
  pythonConstants: false,
};

/**
 * Every corruption that applies to `call`, given the tool's (mapped) input schema and the names
 * of all tools on offer.
 */
export function corruptCall(call: GroundTruthCall, schema: JsonSchema, toolNames: readonly string[]): CorruptedCall[] {
  const clean = JSON.stringify(call.arguments);
  const variants: CorruptedCall[] = [];
  const add = (kind: CorruptionKind, text: string, name = call.name) => {
    if (text !== clean || name !== call.name) variants.push({ kind, name, arguments: text });
  };

  add('code-fence', `\`\`\`json\n${clean}\n\`\`\``);
  add('prose-around', `Sure! Here's the call you asked for:\n${clean}\nLet me know if you'd like anything else.`);
  add('single-quotes', writeLiteral(call.arguments, { ...jsonStyle, singleQuotes: true }));
  add('unquoted-keys', writeLiteral(call.arguments, { ...jsonStyle, unquotedKeys: true }));
  add('trailing-comma', writeLiteral(call.arguments, { ...jsonStyle, trailingCommas: true }));
  add('python-literals', writeLiteral(call.arguments, { ...jsonStyle, pythonConstants: true }));
  add('truncated', clean.slice(0, -1));
  const properties = isRecord(schema.properties) ? schema.properties : {};
  if (!Object.hasOwn(properties, 'arguments')) add('wrapped-arguments', `{"arguments": ${clean}}`);
  add('number-as-string', JSON.stringify(mapLeaves(call.arguments, schema, numberAsString)));
  add('enum-case', JSON.stringify(mapLeaves(call.arguments, schema, enumInOtherCase)));

  const nearMiss = nearMissToolName(call.name);
  if (nearMiss !== call.name && !toolNames.includes(nearMiss)) add('tool-name', clean, nearMiss);
  add('namespace-prefix', clean, `functions.${call.name}`);

  const written = JSON.stringify({ name: call.name, arguments: call.arguments });
  variants.push({
    kind: 'text-tool-call',
    name: call.name,
    arguments: clean,
    answerText: `I'll look that up for you.\n<tool_call>\n${written}\n</tool_call>`,
  });
  return variants;
}

/**
 * A name a model might write for `name`: dots become underscores (`math.factorial` →
 * `math_factorial`), snake_case becomes camelCase and camelCase snake_case; a single word
 * changes the case of its first letter.
 */
export function nearMissToolName(name: string): string {
  if (name.includes('.')) return name.replaceAll('.', '_');
  if (/_[a-zA-Z0-9]/.test(name))
    return name.replace(/_([a-zA-Z0-9])/g, (_match, letter: string) => letter.toUpperCase());
  if (/[a-z0-9][A-Z]/.test(name)) return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  const first = name.charAt(0);
  const swapped = first === first.toUpperCase() ? first.toLowerCase() : first.toUpperCase();
  return swapped + name.slice(1);
}

/** Write a JSON value as text in the given (possibly broken) style. */
export function writeLiteral(value: unknown, style: LiteralStyle): string {
  if (value === null) return style.pythonConstants ? 'None' : 'null';
  if (value === true) return style.pythonConstants ? 'True' : 'true';
  if (value === false) return style.pythonConstants ? 'False' : 'false';
  if (typeof value === 'string') return style.singleQuotes ? pythonString(value) : JSON.stringify(value);
  if (Array.isArray(value)) {
    return writeMembers(
      value.map((item) => writeLiteral(item, style)),
      '[',
      ']',
      style,
    );
  }
  if (typeof value === 'object') {
    const members = Object.entries(value).map(
      ([key, member]) => `${writeKey(key, style)}: ${writeLiteral(member, style)}`,
    );
    return writeMembers(members, '{', '}', style);
  }
  return JSON.stringify(value);
}

function writeKey(key: string, style: LiteralStyle): string {
  return style.unquotedKeys && /^[A-Za-z_$][\w$]*$/.test(key) ? key : writeLiteral(key, style);
}

function writeMembers(members: string[], open: string, close: string, style: LiteralStyle): string {
  if (members.length === 0) return `${open}${close}`;
  return `${open}${members.join(', ')}${style.trailingCommas ? ',' : ''}${close}`;
}

/**
 * A string quoted as Python's `repr` quotes it: single quotes, unless the text holds a single
 * quote and no double quote. Escapes other than the quotes are JSON's, which Python shares.
 */
function pythonString(text: string): string {
  const json = JSON.stringify(text);
  if (text.includes("'") && !text.includes('"')) return json;
  const inner = json
    .slice(1, -1)
    .replace(/\\(.)/g, (sequence, character: string) => (character === '"' ? '"' : sequence))
    .replaceAll("'", "\\'");
  return `'${inner}'`;
}

type LeafChange = (value: unknown, schema: Record<string, unknown>) => unknown;

/** Apply `change` to every scalar in `value`, walking the schema alongside it. */
function mapLeaves(value: unknown, schema: unknown, change: LeafChange): unknown {
  const node = isRecord(schema) ? schema : {};
  if (Array.isArray(value)) {
    const items = node.items;
    return value.map((item, index) => mapLeaves(item, Array.isArray(items) ? items[index] : items, change));
  }
  if (isRecord(value)) {
    const properties = isRecord(node.properties) ? node.properties : {};
    return Object.fromEntries(
      Object.entries(value).map(([key, member]) => [key, mapLeaves(member, properties[key], change)]),
    );
  }
  return change(value, node);
}

function numberAsString(value: unknown, schema: Record<string, unknown>): unknown {
  const typed = schema.type === 'integer' || schema.type === 'number';
  return typeof value === 'number' && typed ? JSON.stringify(value) : value;
}

function enumInOtherCase(value: unknown, schema: Record<string, unknown>): unknown {
  if (typeof value !== 'string' || !Array.isArray(schema.enum) || !schema.enum.includes(value)) return value;
  const upper = value.toUpperCase();
  const recased = upper !== value ? upper : value.toLowerCase();
  const sameIgnoringCase = schema.enum.filter(
    (member) => typeof member === 'string' && member.toLowerCase() === value.toLowerCase(),
  );
  return sameIgnoringCase.length === 1 ? recased : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
