/**
 * Query results as compact text for a model: a summary line, then CSV.
 *
 * CSV is the format models read best after prose and it is lossless: a field with a comma,
 * quote or line break is quoted, an empty string is `""`, and NULL is an empty field. Numbers are
 * never in scientific notation (`1180591620717411300000`, `0.000000001`), FLOAT values print
 * with the fewest digits that identify them (`0.1`, not `0.10000000149011612`), dates and
 * timestamps print as ISO 8601 (`2024-01-02`, `2024-01-02 03:04:05+00`, always UTC).
 *
 * Only the rows that will be shown are converted into JS values; the rest of the result is
 * counted chunk by chunk inside DuckDB, so a result of millions of rows never sits in JS memory.
 */
import type { DuckDBResult, DuckDBValue } from '@duckdb/node-api';
import { duckDBApi } from './duckdb-api.js';

export interface ResultColumn {
  name: string;
  /** DuckDB type, e.g. `VARCHAR`, `DECIMAL(10,2)`, `INTEGER[]`. */
  type: string;
}

export interface CappedResult {
  columns: ResultColumn[];
  /** Rendered cells of the first rows; `null` is SQL NULL. */
  rows: Array<Array<string | null>>;
  /** Rows in the whole result. */
  totalRows: number;
  /** Whether some cells were cut to the cell cap. */
  cellsCut: boolean;
}

export interface ReadLimits {
  maxRows: number;
  maxCellCharacters: number;
  /** A prefix removed from the start of text values (the workspace's absolute path, so that `filename` columns stay relative). */
  stripPrefix?: string;
}

/** Read up to `maxRows` rows of `result`, and count the rest without converting them. */
export async function readCappedResult(result: DuckDBResult, limits: ReadLimits): Promise<CappedResult> {
  const columns = result.columnNames().map((name, index) => ({ name, type: result.columnType(index).toString() }));
  const { DuckDBTypeId } = duckDBApi();
  const isFloat = result.columnTypes().map((type) => type.typeId === DuckDBTypeId.FLOAT);
  const rows: Array<Array<string | null>> = [];
  let totalRows = 0;
  let cellsCut = false;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const wanted = Math.min(chunk.rowCount, limits.maxRows - rows.length);
    if (wanted > 0) {
      const columnValues = columns.map((_, index) => chunk.getColumnValues(index));
      for (let rowIndex = 0; rowIndex < wanted; rowIndex++) {
        rows.push(
          columnValues.map((values, columnIndex) => {
            const text = renderValue(values[rowIndex] ?? null, isFloat[columnIndex] === true, limits.stripPrefix);
            if (text === null || text.length <= limits.maxCellCharacters) return text;
            cellsCut = true;
            return `${text.slice(0, limits.maxCellCharacters)}…[+${text.length - limits.maxCellCharacters} chars]`;
          }),
        );
      }
    }
    totalRows += chunk.rowCount;
  }
  return { columns, rows, totalRows, cellsCut };
}

/** One value as text; `null` for SQL NULL. */
export function renderValue(value: DuckDBValue, isFloat = false, stripPrefix?: string): string | null {
  if (value === null) return null;
  if (typeof value === 'string') {
    return stripPrefix !== undefined && value.startsWith(stripPrefix) ? value.slice(stripPrefix.length) : value;
  }
  if (typeof value === 'number') return isFloat ? shortestFloat32(value) : plainNumber(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return renderNested(value);
}

/** Nested values (lists, structs, maps) print the way DuckDB shows them, with plain numbers inside. */
function renderNested(value: DuckDBValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'number') return plainNumber(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  const { DuckDBArrayValue, DuckDBListValue, DuckDBMapValue, DuckDBStructValue, DuckDBUnionValue } = duckDBApi();
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) {
    return `[${value.items.map(renderNested).join(', ')}]`;
  }
  if (value instanceof DuckDBStructValue) {
    return `{${Object.entries(value.entries)
      .map(([key, item]) => `'${key.replaceAll("'", "''")}': ${renderNested(item)}`)
      .join(', ')}}`;
  }
  if (value instanceof DuckDBMapValue) {
    return `{${value.entries.map((entry) => `${renderNested(entry.key)}: ${renderNested(entry.value)}`).join(', ')}}`;
  }
  if (value instanceof DuckDBUnionValue) return renderNested(value.value);
  // Dates, times, timestamps, intervals, decimals, UUIDs and blobs print as DuckDB casts them to text.
  return value.toString();
}

/** A JS number in plain decimal notation: `1e21` → `1000000000000000000000`, `1e-7` → `0.0000001`. */
export function plainNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const sign = match[1] ?? '';
  const integer = match[2] ?? '';
  const digits = integer + (match[3] ?? '');
  const point = integer.length + Number(match[4]);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A FLOAT (32-bit) value with the fewest significant digits that read back as the same float. */
export function shortestFloat32(value: number): string {
  if (!Number.isFinite(value)) return plainNumber(value);
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return plainNumber(candidate);
  }
  return plainNumber(value);
}

/** One CSV field: quoted when it holds a comma, quote or line break, or is the empty string. */
export function csvField(text: string | null): string {
  if (text === null) return '';
  if (text === '' || /[",\r\n]/.test(text)) return `"${text.replaceAll('"', '""')}"`;
  return text;
}

/** Header and rows as CSV lines. */
export function csvLines(
  columns: readonly ResultColumn[],
  rows: ReadonlyArray<ReadonlyArray<string | null>>,
): string[] {
  return [columns.map((column) => csvField(column.name)).join(','), ...rows.map((row) => row.map(csvField).join(','))];
}

export interface FormatLimits {
  /** The row cap the result was read with, to state it. */
  maxRows: number;
  maxCellCharacters: number;
  /** Rows are dropped from the end, and the drop stated, to keep the text under this size. */
  maxOutputCharacters: number;
}

/** The text a model sees for a query result. */
export function formatQueryResult(result: CappedResult, limits: FormatLimits): string {
  const columnList = result.columns.map((column) => `${column.name} ${column.type}`).join(', ');
  const lines = csvLines(result.columns, result.rows);
  let shownRows = result.rows.length;
  let size = lines.reduce((total, line) => total + line.length + 1, 0);
  while (shownRows > 0 && size > limits.maxOutputCharacters) {
    size -= (lines.pop() as string).length + 1;
    shownRows--;
  }
  const rowWord = result.totalRows === 1 ? 'row' : 'rows';
  let summary = `${result.totalRows} ${rowWord}`;
  if (shownRows < result.totalRows) {
    const reason =
      shownRows < result.rows.length
        ? `the output size cap of ${limits.maxOutputCharacters} characters`
        : `the row cap of ${limits.maxRows}`;
    summary += ` (showing the first ${shownRows}: ${reason})`;
  }
  const notes: string[] = [];
  if (shownRows < result.totalRows) {
    notes.push(
      `[truncated: ${result.totalRows - shownRows} more rows not shown. Aggregate or filter in SQL, page with LIMIT/OFFSET, or pass outputPath to write the full result to a file.]`,
    );
  }
  if (result.cellsCut) notes.push(`[long values were cut to ${limits.maxCellCharacters} characters]`);
  return [`${summary}; columns: ${columnList}`, ...lines, ...notes].join('\n');
}
