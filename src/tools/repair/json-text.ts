/**
 * Lenient parsing of JSON text written by a model: tool-call arguments above all.
 *
 * Small models wrap JSON in code fences, surround it with prose, or write JavaScript/Python-ish
 * literals (single quotes, trailing commas, unquoted keys, `True`/`None`). Exact JSON is tried
 * first; each later stage is a repair, and every repair is reported in words so that a run's
 * record shows what the model actually wrote. Repairs never invent values: they only change
 * syntax, drop text around the JSON, or close brackets left open by a cut-off answer.
 */
import { jsonrepair } from 'jsonrepair';

/** Outcome of {@link parseJsonText}: the value and the repairs it took, or why it failed. */
export type JsonTextParseResult =
  | {
      success: true;
      value: unknown;
      /** Short descriptions of each repair applied, e.g. `removed code fence`; empty for exact JSON. */
      repairs: string[];
    }
  | { success: false; reason: string };

/** How many JSON-looking spans of a text are tried before giving up. */
const maxCandidateSpans = 16;

/**
 * How deeply a parsed value may nest. `JSON.parse` accepts any depth, but `JSON.stringify`,
 * `structuredClone` and schema validation recurse: a model that sends 100,000 nested brackets
 * would crash the run with a stack overflow wherever its arguments are next journaled or copied.
 */
export const maxJsonNesting = 64;

/**
 * Parse JSON text, repairing what a model commonly gets wrong.
 *
 * Order: exact JSON; the body of a code fence; the first balanced `{...}` or `[...]` in
 * surrounding prose; then the `jsonrepair` package on that span (trailing commas, single quotes,
 * unquoted keys, comments, Python `True`/`False`/`None`, brackets left open). An empty (or
 * all-whitespace) text is `{}`, which is how providers send a call without arguments.
 *
 * Beyond exact JSON, only an object or array is accepted: a bare word is not turned into a string.
 */
export function parseJsonText(text: string): JsonTextParseResult {
  const result = parseJsonTextAnyDepth(text);
  if (result.success && nestsDeeperThan(result.value, maxJsonNesting)) {
    return {
      success: false,
      reason: `the JSON nests more than ${maxJsonNesting} levels deep; send a flatter value`,
    };
  }
  return result;
}

/** Whether `value` has objects or arrays nested more than `limit` levels deep (iterative: no recursion to overflow). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.node !== 'object' || next.node === null) continue;
    if (next.depth >= limit) return true;
    for (const child of Object.values(next.node)) pending.push({ node: child, depth: next.depth + 1 });
  }
  return false;
}

function parseJsonTextAnyDepth(text: string): JsonTextParseResult {
  const trimmed = text.trim();
  if (trimmed === '') return { success: true, value: {}, repairs: [] };

  const exact = tryParseExact(trimmed);
  if (exact.parsed) return { success: true, value: exact.value, repairs: [] };

  const repairs: string[] = [];
  let body = trimmed;
  const fenced = extractCodeFenceBody(body);
  if (fenced !== undefined) {
    body = fenced.trim();
    repairs.push('removed code fence');
    const inFence = tryParseExact(body);
    if (inFence.parsed) return { success: true, value: inFence.value, repairs };
  }

  const spans = findJsonSpans(body);
  if (spans.length === 0) return { success: false, reason: 'no JSON object or array found' };

  // A span inside an earlier unclosed one is part of that (cut-off) value: taking it as the
  // whole answer would silently return an inner value, so the outer one is repaired first.
  const firstUnclosed = spans.find((span) => !span.closed);
  const isNested = (span: JsonSpan) => firstUnclosed !== undefined && span.start > firstUnclosed.start;
  for (const span of spans) {
    if (isNested(span)) continue;
    const candidate = tryParseExact(span.text);
    if (candidate.parsed) {
      return { success: true, value: candidate.value, repairs: [...repairs, ...describeSurroundings(body, span)] };
    }
  }

  let lastError = 'not valid JSON';
  for (const span of spans) {
    try {
      const value: unknown = JSON.parse(jsonrepair(span.text));
      if (typeof value !== 'object' || value === null) continue;
      return {
        success: true,
        value,
        repairs: [...repairs, ...describeSurroundings(body, span), ...describeSyntaxRepairs(span.text)],
      };
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
  }
  return { success: false, reason: `could not repair JSON: ${lastError}` };
}

function tryParseExact(text: string): { parsed: true; value: unknown } | { parsed: false } {
  try {
    return { parsed: true, value: JSON.parse(text) };
  } catch {
    return { parsed: false };
  }
}

/**
 * The body of the first Markdown code fence (```json ... ```). A fence left unclosed (the answer
 * was cut off) yields everything after the opening line.
 */
export function extractCodeFenceBody(text: string): string | undefined {
  const match = /```[\w+-]*[^\S\n]*\n?([\s\S]*?)(?:```|$)/.exec(text);
  return match?.[1];
}

/** A span of text that looks like one JSON object or array. */
export interface JsonSpan {
  start: number;
  /** Index just past the closing bracket; the text's length when the span is never closed. */
  end: number;
  text: string;
  /** False when the text ended before the brackets balanced. */
  closed: boolean;
}

/**
 * Find top-level spans that open with `{` or `[` and end at the matching bracket, in order.
 * Brackets inside quoted strings (double or single quotes) do not count. The last span may be
 * unclosed when the text was cut off.
 */
export function findJsonSpans(text: string, limit = maxCandidateSpans): JsonSpan[] {
  const spans: JsonSpan[] = [];
  let index = 0;
  while (index < text.length && spans.length < limit) {
    const character = text[index];
    if (character !== '{' && character !== '[') {
      index += 1;
      continue;
    }
    const end = findMatchingBracket(text, index);
    if (end === undefined) {
      spans.push({ start: index, end: text.length, text: text.slice(index), closed: false });
      // The rest of the text is inside this unclosed span; later openers may still be JSON.
      index += 1;
      continue;
    }
    spans.push({ start: index, end, text: text.slice(index, end), closed: true });
    index = end;
  }
  return spans;
}

/** Index just past the bracket closing the one at `start`, or undefined if it never closes. */
function findMatchingBracket(text: string, start: number): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let index = start; index < text.length; index += 1) {
    const character = text[index];
    if (quote !== undefined) {
      if (character === '\\') index += 1;
      else if (character === quote) quote = undefined;
      continue;
    }
    if (character === '"' || character === "'") quote = character;
    else if (character === '{' || character === '[') depth += 1;
    else if (character === '}' || character === ']') {
      depth -= 1;
      if (depth === 0) return index + 1;
    }
  }
  return undefined;
}

function describeSurroundings(body: string, span: JsonSpan): string[] {
  const before = body.slice(0, span.start).trim();
  const after = body.slice(span.end).trim();
  return before !== '' || after !== '' ? ['removed text around the JSON'] : [];
}

/**
 * Name what jsonrepair most likely fixed, by looking at the text outside string literals.
 * jsonrepair does not report its changes, and a run's record is more useful with words than
 * with "repaired".
 */
function describeSyntaxRepairs(text: string): string[] {
  const code = maskStringContents(text);
  const repairs: string[] = [];
  if (/\/\/|\/\*/.test(code)) repairs.push('removed comments');
  if (code.includes("'")) repairs.push('replaced single quotes with double quotes');
  if (/[{,]\s*[A-Za-z_$][\w$-]*\s*:/.test(code)) repairs.push('quoted unquoted keys');
  if (/,\s*[}\]]/.test(code)) repairs.push('removed trailing comma');
  if (/\b(?:True|False|None)\b/.test(code)) repairs.push('replaced Python True/False/None');
  const opened = (code.match(/[{[]/g) ?? []).length;
  const closed = (code.match(/[}\]]/g) ?? []).length;
  if (opened > closed) repairs.push('closed unterminated JSON');
  if (repairs.length === 0) repairs.push('repaired malformed JSON');
  return repairs;
}

/** Replace every character inside a quoted string with a space, keeping the quotes. */
function maskStringContents(text: string): string {
  let masked = '';
  let quote: string | undefined;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index] as string;
    if (quote !== undefined) {
      if (character === '\\') {
        masked += '  ';
        index += 1;
      } else if (character === quote) {
        masked += character;
        quote = undefined;
      } else {
        masked += ' ';
      }
      continue;
    }
    if (character === '"' || character === "'") quote = character;
    masked += character;
  }
  return masked;
}
