/**
 * Recognising tool calls that a model wrote as text.
 *
 * Models served without native tool calling (many small and open ones, or a server whose chat
 * template drops tools) still call tools, in their answer text. The shapes seen in practice:
 * Hermes/Qwen `<tool_call>{...}</tool_call>` tags (one per call), a fenced ```json block, a
 * bare JSON object or array, Mistral's `[TOOL_CALLS][...]`, and OpenAI's own
 * `{"type":"function","function":{...}}` copied into text. An object counts as a call only when
 * its name matches a known tool, so a JSON answer that merely has a `name` field stays text.
 *
 * A tool *definition* quoted in text (a user pasting an OpenAI `tools` array, a model explaining
 * what it can do) names a tool too, but it is no call: its `parameters` are a JSON Schema, not
 * values, and it carries a `description`. Those are recognised and never read as calls.
 */
import { extractCodeFenceBody, findJsonSpans, parseJsonText } from './repair/json-text.js';
import { matchToolName } from './repair/tool-name.js';

/** A tool call found in text, in the same form as a native one. */
export interface TextToolCall {
  /**
   * The name as the model wrote it (already known to match a tool, possibly as a near miss);
   * `prepareToolCall` resolves it and records any renaming as a repair.
   */
  name: string;
  /** Argument JSON text; `{}` when a tagged call had no arguments. */
  arguments: string;
}

export interface TextToolCallExtraction {
  /** Calls in the order they appear in the text. */
  calls: TextToolCall[];
  /** The text with the recognised calls (and their tags or fences) taken out, trimmed. */
  remainingText: string;
}

const nameKeys = ['name', 'tool', 'tool_name', 'function', 'function_name'] as const;
const argumentKeys = ['arguments', 'parameters', 'input', 'args'] as const;

interface FoundSpan {
  start: number;
  end: number;
  calls: TextToolCall[];
}

/**
 * Find the tool calls written as text in a model's answer.
 *
 * Tagged calls (`<tool_call>…</tool_call>`, the closing tag optional at the very end) may omit
 * their arguments; an untagged object needs an `arguments`, `parameters`, `input` or `args` key
 * next to its `name` (or `tool`) so that ordinary JSON answers are not mistaken for calls.
 */
export function extractTextToolCalls(text: string, toolNames: readonly string[]): TextToolCallExtraction {
  const found: FoundSpan[] = [];
  const isCovered = (start: number, end: number) => found.some((span) => start < span.end && end > span.start);

  for (const match of text.matchAll(/<tool_call>([\s\S]*?)(?:<\/tool_call>|$)/g)) {
    const calls = callsFromText(match[1] ?? '', toolNames, false);
    if (calls.length > 0) found.push({ start: match.index, end: match.index + match[0].length, calls });
  }

  for (const match of text.matchAll(/```[\w+-]*[^\S\n]*\n[\s\S]*?```/g)) {
    const start = match.index;
    const end = start + match[0].length;
    if (isCovered(start, end)) continue;
    const calls = callsFromText(extractCodeFenceBody(match[0]) ?? '', toolNames, true);
    if (calls.length > 0) found.push({ start, end, calls });
  }

  const uncovered = maskSpans(text, found);
  for (const span of findJsonSpans(uncovered, Number.POSITIVE_INFINITY)) {
    if (!span.closed) continue;
    const calls = callsFromText(span.text, toolNames, true);
    if (calls.length === 0) continue;
    // Mistral's marker belongs to the call that follows it.
    const marker = /\[TOOL_CALLS\]\s*$/.exec(text.slice(0, span.start));
    found.push({ start: marker === null ? span.start : marker.index, end: span.end, calls });
  }

  found.sort((left, right) => left.start - right.start);
  return {
    calls: found.flatMap((span) => span.calls),
    remainingText: tidy(removeSpans(text, found)),
  };
}

function callsFromText(text: string, toolNames: readonly string[], requireArguments: boolean): TextToolCall[] {
  const parsed = parseJsonText(text);
  if (!parsed.success) return [];
  return callsFromValue(parsed.value, toolNames, requireArguments);
}

function callsFromValue(value: unknown, toolNames: readonly string[], requireArguments: boolean): TextToolCall[] {
  if (Array.isArray(value)) return value.flatMap((item) => callsFromValue(item, toolNames, requireArguments));
  if (!isRecord(value)) return [];
  if (Array.isArray(value.tool_calls)) return callsFromValue(value.tool_calls, toolNames, requireArguments);
  if (value.type === 'function' && isRecord(value.function)) {
    return callsFromValue(value.function, toolNames, requireArguments);
  }

  const name = nameKeys.map((key) => value[key]).find((candidate) => typeof candidate === 'string');
  if (typeof name !== 'string' || matchToolName(name, toolNames) === undefined) return [];
  if (isToolDefinition(value)) return [];

  const argumentKey = argumentKeys.find((key) => Object.hasOwn(value, key));
  if (argumentKey === undefined) return requireArguments ? [] : [{ name, arguments: '{}' }];
  const written = value[argumentKey];
  return [{ name, arguments: typeof written === 'string' ? written : JSON.stringify(written ?? {}) }];
}

/** Keys under which a definition holds its JSON Schema (OpenAI, Anthropic, MCP spellings). */
const schemaKeys = ['parameters', 'input_schema', 'inputSchema'] as const;

/**
 * Whether an object naming a tool is its definition rather than a call: it has a schema key
 * whose value is a JSON Schema of an object, or Anthropic's or MCP's `input_schema` /
 * `inputSchema` key, or a `description` beside `parameters` (calls carry no description).
 */
function isToolDefinition(value: Record<string, unknown>): boolean {
  if (Object.hasOwn(value, 'input_schema') || Object.hasOwn(value, 'inputSchema')) return true;
  const schema = schemaKeys.map((key) => value[key]).find((candidate) => candidate !== undefined);
  if (isObjectSchema(schema)) return true;
  return (
    typeof value.description === 'string' && Object.hasOwn(value, 'parameters') && !Object.hasOwn(value, 'arguments')
  );
}

/** `{"type": "object", "properties": {...}}`, or `properties` whose entries are all schemas. */
function isObjectSchema(value: unknown): boolean {
  if (!isRecord(value)) return false;
  if (value.type === 'object' || value.type === 'dict') return true;
  if (!isRecord(value.properties)) return false;
  const entries = Object.values(value.properties);
  return (
    entries.length > 0 &&
    entries.every(
      (entry) => isRecord(entry) && (typeof entry.type === 'string' || typeof entry.description === 'string'),
    )
  );
}

/** Blank out found spans, keeping every other character at its index. */
function maskSpans(text: string, spans: FoundSpan[]): string {
  let masked = text;
  for (const span of spans) {
    masked = masked.slice(0, span.start) + ' '.repeat(span.end - span.start) + masked.slice(span.end);
  }
  return masked;
}

function removeSpans(text: string, spans: FoundSpan[]): string {
  let remaining = '';
  let position = 0;
  for (const span of spans) {
    remaining += text.slice(position, span.start);
    position = Math.max(position, span.end);
  }
  return remaining + text.slice(position);
}

function tidy(text: string): string {
  return text
    .replace(/[^\S\n]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
