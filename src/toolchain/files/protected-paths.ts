/**
 * Protected paths: entries inside a workspace that no tool may read or write, whatever the model
 * asks — the journal (`.hataraku/`), the project's config (the next run would send the API key
 * wherever it says), `.git/` (hooks and `core.fsmonitor` run commands on the user's next git
 * command) and `.env*` files (secrets).
 *
 * A pattern without `/` (a trailing one aside) names an entry at any depth, so `.git` also
 * covers a nested repository; a pattern with `/` is anchored at the workspace root. `*` matches
 * within one name and `?` one character. Matching ignores case, because on case-insensitive
 * file systems (macOS, Windows) `.GIT/config` is `.git/config`. An entry under a protected
 * directory is protected too.
 */

/** The patterns protected when the config names none. */
export const defaultProtectedPatterns: readonly string[] = ['.hataraku', 'hataraku.config.json', '.git', '.env*'];

/** Decides whether a workspace-relative path is protected. */
export interface ProtectedPaths {
  /** The patterns, as given. */
  readonly patterns: readonly string[];
  /**
   * Whether `relativePath` (workspace-relative, `/` or the platform separator) is protected
   * itself or lies under a protected directory. `.` and `''` (the root) are never protected.
   */
  isProtected(relativePath: string): boolean;
}

/**
 * Build the matcher for `patterns` (default {@link defaultProtectedPatterns}).
 * @throws TypeError naming the pattern when one is empty, absolute or climbs out with `..`.
 */
export function createProtectedPaths(patterns: readonly string[] = defaultProtectedPatterns): ProtectedPaths {
  const matchers = patterns.map(compilePattern);
  return {
    patterns: [...patterns],
    isProtected(relativePath) {
      const segments = relativePath
        .split(/[\\/]+/)
        .filter((segment) => segment !== '' && segment !== '.')
        .map((segment) => segment.toLowerCase());
      if (segments.length === 0) return false;
      return matchers.some((matches) => matches(segments));
    },
  };
}

function compilePattern(pattern: string): (segments: readonly string[]) => boolean {
  const trimmed = pattern.trim().replace(/\/+$/, '');
  if (trimmed === '' || trimmed.startsWith('/') || /^[A-Za-z]:/.test(trimmed)) {
    throw new TypeError(`protected path pattern "${pattern}" must be a non-empty path relative to the workspace`);
  }
  const parts = trimmed
    .replace(/^\.\//, '')
    .split('/')
    .filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new TypeError(`protected path pattern "${pattern}" must not contain ".."`);
  }
  const expressions = parts.map((part) => new RegExp(`^${nameSource(part.toLowerCase())}$`));
  const anchored = trimmed.replace(/^\.\//, '').includes('/');
  if (!anchored) {
    const expression = expressions[0]!;
    // Any ancestor (or the entry itself) with a matching name protects the path.
    return (segments) => segments.some((segment) => expression.test(segment));
  }
  // Anchored: the first parts of the path must match the pattern's parts one by one.
  return (segments) =>
    segments.length >= expressions.length &&
    expressions.every((expression, index) => expression.test(segments[index]!));
}

function nameSource(name: string): string {
  let source = '';
  for (const character of name) {
    if (character === '*') source += '.*';
    else if (character === '?') source += '.';
    else source += character.replace(/[.+^$(){}|[\]\\]/g, '\\$&');
  }
  return source;
}
