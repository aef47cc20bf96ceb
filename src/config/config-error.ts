/**
 * Turning what is wrong with a configuration into the one line a user reads:
 * `hataraku.config.json: limits.maxSteps must be a positive integer (got "ten")`. Schema issues
 * are data (zod's `code` and `path`); this module is the separate step that words them.
 */
import type { z } from 'zod';
import { UserError } from '../errors.js';
import { knownKeysByPath } from './config-schema.js';

type Issue = z.core.$ZodIssue;
type PathSegment = PropertyKey;

/**
 * The `config_invalid` error for a field: `<source>: <path> must be <expected> (got <value>)`.
 * `value` is left out of the message when `hideValue` is set, for fields that may hold secrets.
 */
export function configFieldError(
  source: string,
  path: readonly PathSegment[],
  expected: string,
  value: unknown,
  options: { hideValue?: boolean } = {},
): UserError {
  const got = value === undefined ? 'missing' : options.hideValue ? 'value hidden' : `got ${describeValue(value)}`;
  return configError(source, `${formatFieldPath(path)} must be ${expected} (${got})`, { path: formatFieldPath(path) });
}

/** The `config_invalid` error `<source>: <problem>`. */
export function configError(source: string, problem: string, details: Record<string, unknown> = {}): UserError {
  return new UserError('config_invalid', `${source}: ${problem}`, { details: { source, ...details } });
}

/**
 * One error for the schema issues of a config file: the first problem, with a count of the
 * others. Unknown keys go first, because a misspelt key also shows up as a missing one.
 */
export function configIssuesError(source: string, issues: readonly Issue[], input: unknown): UserError {
  const ordered = [...issues].sort((left, right) => rank(left) - rank(right));
  const first = ordered[0];
  if (first === undefined) return configError(source, 'invalid configuration');
  const error = issueError(source, first, [], input);
  const others = issues.length - 1;
  if (others === 0) return error;
  return new UserError('config_invalid', `${error.message} (and ${others} more problem${others === 1 ? '' : 's'})`, {
    details: error.details,
  });
}

function rank(issue: Issue): number {
  return issue.code === 'unrecognized_keys' ? 0 : 1;
}

function issueError(source: string, issue: Issue, prefix: readonly PathSegment[], input: unknown): UserError {
  const path = [...prefix, ...issue.path];
  const value = valueAt(input, path);
  if (issue.code === 'unrecognized_keys') return unknownKeyError(source, path, issue.keys);
  if (issue.code === 'invalid_union' && isPlainObject(value)) {
    // Report against the alternative the value came closest to, judged by its issue count.
    const closest = [...issue.errors].sort((left, right) => left.length - right.length)[0];
    const nested = closest === undefined ? undefined : [...closest].sort((left, right) => rank(left) - rank(right))[0];
    if (nested !== undefined) return issueError(source, nested, path, input);
  }
  if (path.length === 0) {
    return configError(source, `must contain ${issue.message} (got ${describeType(value)})`);
  }
  const hideValue = path.some((segment) => segment === 'headers' || segment === 'apiKeyEnv');
  return configFieldError(source, path, issue.message, value, { hideValue });
}

function unknownKeyError(source: string, path: readonly PathSegment[], keys: readonly string[]): UserError {
  const key = keys[0] ?? '';
  const known = knownKeysByPath.find((entry) => matchesPattern(path, entry.path))?.keys ?? [];
  const suggestion = closestMatch(key, known);
  const where = path.length === 0 ? 'unknown top-level key' : `unknown key in ${formatFieldPath(path)}:`;
  const hint = suggestion !== undefined ? ` (did you mean "${suggestion}"?)` : `; known keys: ${known.join(', ')}`;
  return configError(source, `${where} ${JSON.stringify(key)}${hint}`, {
    path: formatFieldPath([...path, key]),
  });
}

function matchesPattern(path: readonly PathSegment[], pattern: readonly string[]): boolean {
  return (
    path.length === pattern.length && pattern.every((segment, index) => segment === '*' || segment === path[index])
  );
}

/**
 * The candidate `word` was most likely a typo of: one within a small edit distance (one edit
 * for short words, a third of the length for longer ones, a swap of neighbours counting as one),
 * or one that starts with `word`. Case is ignored.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const lowerWord = word.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(lowerWord, candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  if (best !== undefined && best.distance <= Math.max(1, Math.floor(word.length / 3))) return best.candidate;
  if (lowerWord.length < 3) return undefined;
  return candidates.find((candidate) => candidate.toLowerCase().startsWith(lowerWord));
}

/** Edit distance with adjacent transpositions (optimal string alignment). */
function editDistance(left: string, right: string): number {
  const rows: number[][] = [];
  for (let row = 0; row <= left.length; row++) {
    const cells = [row];
    for (let column = 1; column <= right.length; column++) {
      if (row === 0) {
        cells.push(column);
        continue;
      }
      const above = rows[row - 1] ?? [];
      const cost = left[row - 1] === right[column - 1] ? 0 : 1;
      let distance = Math.min((above[column] ?? 0) + 1, (cells[column - 1] ?? 0) + 1, (above[column - 1] ?? 0) + cost);
      if (row > 1 && column > 1 && left[row - 1] === right[column - 2] && left[row - 2] === right[column - 1]) {
        distance = Math.min(distance, (rows[row - 2]?.[column - 2] ?? 0) + 1);
      }
      cells.push(distance);
    }
    rows.push(cells);
  }
  return rows[left.length]?.[right.length] ?? 0;
}

/** `limits.maxSteps`, `providers.openai.headers["x-key"]`, `prices["ollama:qwen2.5:7b"]`. */
export function formatFieldPath(path: readonly PathSegment[]): string {
  let formatted = '';
  for (const segment of path) {
    if (typeof segment === 'number') formatted += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) {
      formatted += formatted === '' ? segment : `.${segment}`;
    } else formatted += `[${JSON.stringify(String(segment))}]`;
  }
  return formatted;
}

function valueAt(input: unknown, path: readonly PathSegment[]): unknown {
  let value = input;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
