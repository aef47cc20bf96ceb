/**
 * The data-file formats the data tools read, recognised by file extension, and the DuckDB
 * reader call for each. Quoting helpers for building SQL from paths and names live here too,
 * because every place that turns a workspace file into SQL needs both.
 */

/** How DuckDB reads a file: CSV (and TSV, which the CSV sniffer detects), Parquet, JSON or XLSX. */
export type DataFormat = 'csv' | 'parquet' | 'json' | 'xlsx';

/** Extensions recognised as data files, with their format. Compressed CSV and JSON are read as-is. */
const formatsByExtension: ReadonlyArray<readonly [RegExp, DataFormat]> = [
  [/\.(?:csv|tsv|tab|txt)(?:\.gz|\.zst)?$/i, 'csv'],
  [/\.parquet$/i, 'parquet'],
  [/\.(?:json|jsonl|ndjson)(?:\.gz|\.zst)?$/i, 'json'],
  [/\.xlsx$/i, 'xlsx'],
];

/**
 * The extensions, as a model-readable list for descriptions and errors. XLSX is named apart:
 * it needs DuckDB's `excel` extension, which is only there when installed beforehand.
 */
export const dataFileExtensions =
  ".csv, .tsv, .txt, .parquet, .json, .jsonl, .ndjson (and .gz/.zst for CSV and JSON); .xlsx only where DuckDB's excel extension is installed";

/** The format of a data file from its name (globs allowed), or `undefined` when it is not one. */
export function dataFormatOf(path: string): DataFormat | undefined {
  for (const [pattern, format] of formatsByExtension) if (pattern.test(path)) return format;
  return undefined;
}

/** The file name without its data-file extension(s): `sales.csv.gz` → `sales`. */
export function dataFileStem(fileName: string): string {
  for (const [pattern] of formatsByExtension) {
    const match = pattern.exec(fileName);
    if (match) return fileName.slice(0, match.index);
  }
  return fileName;
}

/**
 * The DuckDB table-function call that reads `pathSql` (a SQL string literal, or a list of them)
 * in `format`.
 */
export function readerCall(format: DataFormat, pathSql: string): string {
  const path = pathSql;
  switch (format) {
    case 'csv':
      // A quoted empty field ("") is an empty string in CSV, not a missing value: DuckDB's
      // default reads it as NULL, which loses the difference.
      return `read_csv(${path}, allow_quoted_nulls = false)`;
    case 'parquet':
      return `read_parquet(${path})`;
    case 'json':
      return `read_json_auto(${path})`;
    case 'xlsx':
      return `read_xlsx(${path})`;
  }
}

/** A SQL string literal: `it's` → `'it''s'`. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier: `Order "Date"` → `"Order ""Date"""`. */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
