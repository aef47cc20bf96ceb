/**
 * Finds the workspace files a SQL text names and rewrites them to the paths DuckDB may open.
 *
 * Models write relative names; DuckDB is allowed only the descriptors the call opened and
 * checked itself (see `call-files.ts`). So each string literal (or double-quoted identifier)
 * that ends in a data-file extension is handed to `resolvePaths` — which confines it like the
 * file tools do (no absolute paths, no `..` out, no link out, nothing protected) — and replaced
 * by the path, or the list of paths for a glob, it returns. A file right after FROM or JOIN is
 * read with its format's reader call, since the paths carry no extension. DuckDB's own
 * allow-list stays the last line of defence for everything else (`read_text('/etc/passwd')` is
 * refused by DuckDB).
 *
 * The scan is a small SQL tokenizer: it skips comments, `$tag$` strings and `E'…'` strings, and
 * also collects the bare words of the query (for mapping `FROM sales` to `sales.csv`) and the
 * offsets of top-level semicolons.
 */
import { dataFormatOf, readerCall, sqlIdentifier, sqlString } from './data-formats.js';

export interface ScannedSql {
  /** The SQL with every file reference replaced by the paths DuckDB reads. */
  sql: string;
  /** The file references as written (relative to the workspace), in order of appearance. */
  files: string[];
  /** Unquoted and double-quoted identifiers and keywords, lower-cased. */
  words: Set<string>;
  /** Offsets in `sql` of semicolons outside strings and comments. */
  semicolons: number[];
}

/**
 * Scan `sql`, turning each file reference into the paths `resolvePaths` gives for it.
 *
 * @throws what `resolvePaths` throws (a WorkspacePathError for a path that is absolute, leads
 *   outside the workspace or is protected).
 */
export function scanSql(
  sql: string,
  resolvePaths: (reference: string, role: 'read' | 'write') => string[],
): ScannedSql {
  const files: string[] = [];
  const words = new Set<string>();
  const semicolons: number[] = [];
  let output = '';
  let index = 0;
  const length = sql.length;
  // The last keyword or name before the current token: a file right after FROM or JOIN is a
  // table, and is read with the reader call (and its options) rather than DuckDB's defaults.
  let previousWord = '';

  const resolveReference = (reference: string): string[] | undefined => {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(reference)) return undefined;
    if (dataFormatOf(reference) === undefined) return undefined;
    files.push(reference);
    return resolvePaths(reference, previousWord === 'to' ? 'write' : 'read');
  };

  while (index < length) {
    const character = sql[index] as string;
    const next = sql[index + 1];
    if (character === '-' && next === '-') {
      const end = sql.indexOf('\n', index);
      const stop = end === -1 ? length : end;
      output += sql.slice(index, stop);
      index = stop;
    } else if (character === '/' && next === '*') {
      const end = sql.indexOf('*/', index + 2);
      const stop = end === -1 ? length : end + 2;
      output += sql.slice(index, stop);
      index = stop;
    } else if (character === "'" || character === '"') {
      const end = quotedEnd(sql, index, character);
      const closed = end !== undefined;
      const stop = end ?? length;
      const raw = sql.slice(index, stop);
      const content = raw.slice(1, closed ? -1 : undefined).replaceAll(character + character, character);
      // E'…' strings use backslash escapes; they are left alone rather than misread.
      const isEscapeString = character === "'" && /[eE]/.test(sql[index - 1] ?? '') && !/\w/.test(sql[index - 2] ?? '');
      const paths = closed && !isEscapeString ? resolveReference(content) : undefined;
      const format = paths === undefined ? undefined : dataFormatOf(content);
      const pathsSql =
        paths === undefined ? '' : paths.length === 1 ? sqlString(paths[0]!) : `[${paths.map(sqlString).join(', ')}]`;
      // The paths carry no extension, so a file used as a table is read with its format's reader.
      if (paths !== undefined && format !== undefined && (previousWord === 'from' || previousWord === 'join')) {
        output += readerCall(format, pathsSql);
      } else if (paths !== undefined && format !== undefined && /^(?:describe|summarize|show)$/.test(previousWord)) {
        output += `FROM ${readerCall(format, pathsSql)}`;
      } else if (paths !== undefined) {
        output += character === "'" || paths.length !== 1 ? pathsSql : sqlIdentifier(paths[0]!);
      } else {
        output += raw;
        if (character === '"') words.add(content.toLowerCase());
      }
      index = stop;
      previousWord = '';
    } else if (character === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(index, index + 64));
      if (tag) {
        const end = sql.indexOf(tag[0], index + tag[0].length);
        const stop = end === -1 ? length : end + tag[0].length;
        output += sql.slice(index, stop);
        index = stop;
      } else {
        output += character;
        index++;
      }
    } else if (/[A-Za-z_]/.test(character)) {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(index, index + 256))?.[0] ?? character;
      words.add(word.toLowerCase());
      previousWord = word.toLowerCase();
      output += word;
      index += word.length;
    } else {
      if (character === ';') semicolons.push(output.length);
      output += character;
      index++;
      if (!/\s/.test(character)) previousWord = '';
    }
  }
  return { sql: output, files, words, semicolons };
}

/**
 * Offset just past the closing quote of the quoted text starting at `start` (a doubled quote is
 * an escaped one), or `undefined` when it is never closed.
 */
function quotedEnd(sql: string, start: number, quote: string): number | undefined {
  let index = start + 1;
  while (index < sql.length) {
    if (sql[index] === quote) {
      if (sql[index + 1] === quote) index += 2;
      else return index + 1;
    } else index++;
  }
  return undefined;
}
