/**
 * Where the answer is in a model's response, configured per task type rather than assumed: a
 * number (optionally after a marker such as `####` or `Answer:`), a single-letter choice, a
 * field of a JSON answer, or the first group of a regular expression. The verifier's features
 * and self-consistency read answers through this, so nothing in routing depends on one data
 * set's format.
 */
import { parseJsonText } from '../../tools/repair/json-text.js';
import { numberPattern, parseNumber } from './arithmetic-claims.js';

/** How to find the answer in a response. */
export type AnswerFormat =
  | {
      kind: 'number';
      /** A regular expression whose first group is the answer, e.g. `####\s*(\S+)`; without it, the last number. */
      marker?: string;
      /** The answer must be a whole number (an answer with decimals counts as malformed). */
      integer?: boolean;
    }
  | {
      kind: 'choice';
      /** The allowed letters, e.g. `ABCD`. */
      choices: string;
    }
  | { kind: 'json-field'; field: string }
  | { kind: 'regex'; pattern: string };

/** The answer found in a response, and how clearly it was stated. */
export interface ExtractedAnswer {
  /** The answer, normalised (a number's digits, an upper-case letter, a field's JSON); undefined when none. */
  value: string | undefined;
  /** The answer as a number, when it is one. */
  number: number | undefined;
  /** Found in the stated form (after the marker, as a lone letter, in valid JSON), not guessed. */
  explicit: boolean;
  /** How many different answers the response states in that form (more than one: it wavers). */
  distinctStated: number;
  /** The answer does not fit the format (a decimal where a whole number is due, a letter not offered). */
  malformed: boolean;
  /** Text follows the stated answer. */
  textAfter: boolean;
}

/** Throws a TypeError naming what is wrong with a format (a bad pattern, no choices). */
export function checkAnswerFormat(format: AnswerFormat): void {
  if (format.kind === 'number' && format.marker !== undefined) compile(format.marker, 'marker');
  if (format.kind === 'regex') compile(format.pattern, 'pattern');
  if (format.kind === 'choice' && !/^[A-Za-z0-9]+$/.test(format.choices)) {
    throw new TypeError('answer format "choice": choices must be letters or digits, e.g. "ABCD".');
  }
  if (format.kind === 'json-field' && format.field.trim() === '') {
    throw new TypeError('answer format "json-field": field must name a field, e.g. "total".');
  }
}

/**
 * Read a format written as text, as the CLI's `--answer` and the config take it: `number`,
 * `integer`, `choice:ABCD`, `json:<field>` or `regex:<pattern>`. Throws a TypeError otherwise.
 */
export function parseAnswerFormat(text: string): AnswerFormat {
  let format: AnswerFormat;
  if (text === 'number') format = { kind: 'number' };
  else if (text === 'integer') format = { kind: 'number', integer: true };
  else if (text.startsWith('choice:')) format = { kind: 'choice', choices: text.slice(7) };
  else if (text.startsWith('json:')) format = { kind: 'json-field', field: text.slice(5) };
  else if (text.startsWith('regex:')) format = { kind: 'regex', pattern: text.slice(6) };
  else {
    throw new TypeError(
      `an answer format must be number, integer, choice:ABCD, json:<field> or regex:<pattern> (got ${JSON.stringify(text)}).`,
    );
  }
  checkAnswerFormat(format);
  return format;
}

/** Find the answer in `text`. */
export function extractAnswer(text: string, format: AnswerFormat): ExtractedAnswer {
  switch (format.kind) {
    case 'number':
      return extractNumber(text, format.marker, format.integer === true);
    case 'choice':
      return extractChoice(text, format.choices);
    case 'json-field':
      return extractJsonField(text, format.field);
    case 'regex':
      return extractByPattern(text, compile(format.pattern, 'pattern'));
  }
}

function extractNumber(text: string, marker: string | undefined, integer: boolean): ExtractedAnswer {
  const stated = marker === undefined ? [] : [...text.matchAll(compile(marker, 'marker', 'g'))];
  const statedValues = stated
    .map((match) => parseNumber((match[1] ?? match[0]).replace(/[$\s]/g, '')))
    .filter((value) => value !== undefined);
  const last = stated.at(-1);
  const lastNumberText = (text.match(numberPattern) ?? []).at(-1);
  const number = statedValues.at(-1) ?? (lastNumberText === undefined ? undefined : parseNumber(lastNumberText));
  return {
    value: number === undefined ? undefined : String(number),
    number,
    explicit: statedValues.length > 0,
    distinctStated: new Set(statedValues).size,
    malformed: number !== undefined && integer && !Number.isInteger(number),
    textAfter: last !== undefined && text.slice((last.index ?? 0) + last[0].length).trim() !== '',
  };
}

function extractChoice(text: string, choices: string): ExtractedAnswer {
  const letters = choices.toUpperCase();
  const trimmed = text.trim();
  const lone = trimmed.match(/^\(?([A-Za-z0-9])\)?[.:)]?$/);
  // Bounded spaces: two unbounded runs around an optional word split a long run of spaces every
  // way before failing (200,000 spaces after "answer" took 21 s).
  const statedPattern = /(?:answer|choice|option)\s{0,20}(?:is|:)?\s{0,20}\(?([A-Za-z0-9])\)?(?![A-Za-z0-9])/gi;
  const stated = [...trimmed.matchAll(statedPattern)].map((match) => (match[1] ?? '').toUpperCase());
  const mentioned = [...trimmed.matchAll(/\(([A-Za-z0-9])\)|\b([A-Z])\b/g)]
    .map((match) => (match[1] ?? match[2] ?? '').toUpperCase())
    .filter((letter) => letters.includes(letter));
  const value = lone?.[1]?.toUpperCase() ?? stated.at(-1) ?? mentioned.at(-1);
  const statedSet = new Set(lone?.[1] === undefined ? stated : [lone[1].toUpperCase()]);
  return {
    value,
    number: undefined,
    explicit: lone !== null || stated.length > 0,
    distinctStated: Math.max(statedSet.size, new Set(mentioned).size),
    malformed: value !== undefined && !letters.includes(value),
    textAfter: lone === null && stated.length > 0,
  };
}

function extractJsonField(text: string, field: string): ExtractedAnswer {
  const parsed = parseJsonText(text);
  const found =
    parsed.success && typeof parsed.value === 'object' && parsed.value !== null && !Array.isArray(parsed.value)
      ? (parsed.value as Record<string, unknown>)[field]
      : undefined;
  const value = found === undefined ? undefined : JSON.stringify(found);
  return {
    value,
    number: typeof found === 'number' ? found : undefined,
    explicit: found !== undefined,
    distinctStated: found === undefined ? 0 : 1,
    malformed: parsed.success && found === undefined,
    textAfter: false,
  };
}

function extractByPattern(text: string, pattern: RegExp): ExtractedAnswer {
  const matches = [...text.matchAll(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))];
  const values = matches.map((match) => (match[1] ?? match[0]).trim());
  const last = matches.at(-1);
  const value = values.at(-1);
  return {
    value,
    number: value === undefined ? undefined : parseNumber(value),
    explicit: value !== undefined,
    distinctStated: new Set(values).size,
    malformed: false,
    textAfter: last !== undefined && text.slice((last.index ?? 0) + last[0].length).trim() !== '',
  };
}

function compile(source: string, what: string, flags = ''): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new TypeError(
      `answer format: ${what} ${JSON.stringify(source)} is not a valid regular expression (${(error as Error).message}).`,
    );
  }
}
