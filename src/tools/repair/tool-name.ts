/**
 * Matching a tool name a model got slightly wrong to the tool it meant.
 *
 * Models rename tools in predictable ways: another case style (`getWeather` for
 * `get_weather`), a namespace prefix they saw in training (`functions.get_weather`), or a typo.
 * A match is accepted only when it is unambiguous; otherwise the call is reported as unknown and
 * the model is told the real names.
 */

/** How a written name was matched to a known one. */
export type ToolNameMatchKind = 'exact' | 'normalized' | 'edit-distance';

/** A known tool name that a written name was matched to. */
export interface ToolNameMatch {
  /** The known tool name. */
  name: string;
  kind: ToolNameMatchKind;
  /** Edit distance between the normalised names; 0 unless `kind` is `edit-distance`. */
  distance: number;
}

/** Prefixes that models put before a tool name, from the way providers present tools to them. */
const namespacePrefixes = ['functions.', 'function.', 'tools.', 'tool.', 'default_api.', 'functions:', 'tool:'];

/**
 * Match `writtenName` to one of `knownNames`.
 *
 * Tries, in order: exact equality; equality ignoring case, separators (`_`, `-`, `.`, spaces)
 * and a namespace prefix such as `functions.`; then the smallest Levenshtein distance between
 * normalised names, at most `max(1, floor(length / 4))` of the known name, held by exactly one
 * known name. Returns undefined when nothing matches or the best match is shared.
 */
export function matchToolName(writtenName: string, knownNames: readonly string[]): ToolNameMatch | undefined {
  if (knownNames.includes(writtenName)) return { name: writtenName, kind: 'exact', distance: 0 };

  // Separators and case alone first, so tools whose own names start with a namespace
  // (`functions.intersect`) match `functions_intersect`; then with a namespace prefix stripped
  // from the written name only, then from both.
  const writtenBare = dropSeparators(writtenName);
  const writtenWithoutPrefix = dropSeparators(stripNamespacePrefix(writtenName));
  for (const candidate of [writtenBare, writtenWithoutPrefix]) {
    const same = knownNames.filter((known) => dropSeparators(known) === candidate);
    if (same.length === 1) return { name: same[0] as string, kind: 'normalized', distance: 0 };
    if (same.length > 1) return undefined;
  }

  const written = normalizeToolName(writtenName);
  if (written === '') return undefined;

  const sameWhenNormalized = knownNames.filter((known) => normalizeToolName(known) === written);
  if (sameWhenNormalized.length === 1)
    return { name: sameWhenNormalized[0] as string, kind: 'normalized', distance: 0 };
  if (sameWhenNormalized.length > 1) return undefined;

  let best: { name: string; distance: number } | undefined;
  let bestIsShared = false;
  for (const known of knownNames) {
    const normalizedKnown = normalizeToolName(known);
    const allowed = Math.max(1, Math.floor(normalizedKnown.length / 4));
    const distance = levenshteinDistance(written, normalizedKnown);
    if (distance > allowed) continue;
    if (best === undefined || distance < best.distance) {
      best = { name: known, distance };
      bestIsShared = false;
    } else if (distance === best.distance) {
      bestIsShared = true;
    }
  }
  if (best === undefined || bestIsShared) return undefined;
  return { name: best.name, kind: 'edit-distance', distance: best.distance };
}

/**
 * The comparable form of a tool name: surrounding quotes and a namespace prefix removed, lower
 * case, separators dropped. `functions.Get-Weather` becomes `getweather`.
 */
export function normalizeToolName(name: string): string {
  return dropSeparators(stripNamespacePrefix(name));
}

function stripNamespacePrefix(name: string): string {
  const stripped = stripQuotes(name);
  const lowered = stripped.toLowerCase();
  for (const prefix of namespacePrefixes) {
    if (lowered.startsWith(prefix) && lowered.length > prefix.length) return stripped.slice(prefix.length);
  }
  return stripped;
}

function stripQuotes(name: string): string {
  return name.trim().replace(/^[`'"]+|[`'"]+$/g, '');
}

function dropSeparators(name: string): string {
  return stripQuotes(name)
    .toLowerCase()
    .replace(/[\s_.-]+/g, '');
}

/** Levenshtein edit distance (insertions, deletions, substitutions), two-row dynamic programme. */
export function levenshteinDistance(left: string, right: string): number {
  if (left === right) return 0;
  if (left.length === 0) return right.length;
  if (right.length === 0) return left.length;
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row];
    for (let column = 1; column <= right.length; column += 1) {
      const substitution = left[row - 1] === right[column - 1] ? 0 : 1;
      current[column] = Math.min(
        (previous[column] as number) + 1,
        (current[column - 1] as number) + 1,
        (previous[column - 1] as number) + substitution,
      );
    }
    previous = current;
  }
  return previous[right.length] as number;
}
