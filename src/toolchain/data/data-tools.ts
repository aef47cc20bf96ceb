/**
 * The data tools: `data.query` runs DuckDB SQL over the data files of the run's workspace, and
 * `data.describe` profiles one file (columns, types, rows, nulls, min/max/distinct, sample rows).
 *
 * DuckDB streams the files; only the capped result crosses into JS (a query runs with a LIMIT of
 * the row cap plus one, and DuckDB counts the full result only when the cap cuts it). DuckDB
 * never opens a workspace name itself: the tool opens and checks every file the SQL names and
 * hands DuckDB the descriptor (`call-files.ts`), in a database locked to exactly those
 * (`duckdb-session.ts`). Read-only by default: only queries run, and the one write allowed is
 * the tool's own `outputPath`, which saves a full result as CSV or Parquet in the workspace.
 *
 * Files are named in SQL by their path relative to the workspace, in single quotes
 * (`FROM 'data/sales.csv'`, globs allowed), or by their bare name when it is a plain identifier
 * and unique (`FROM sales` for `sales.csv`): each call maps the bare names its SQL mentions to
 * temporary views over their files.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection, StatementType } from '@duckdb/node-api';
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import type { Tool, ToolContext } from '../../tools/tool.js';
import { measureWorkspaceDiskUse, totalDiskUse } from '../code/workspace-disk-use.js';
import { createProtectedPaths, type ProtectedPaths } from '../files/protected-paths.js';
import {
  checkedRelativePath,
  type WorkspaceAccess,
  workspaceAccess,
  writeWorkspaceFile,
} from '../files/workspace-access.js';
import { WorkspacePathError } from '../files/workspace-path.js';
import { type CallFiles, createCallFiles } from './call-files.js';
import { dataFileExtensions, dataFormatOf, readerCall, sqlIdentifier, sqlString } from './data-formats.js';
import { DataToolError } from './data-tool-error.js';
import { duckDBApi } from './duckdb-api.js';
import { type DuckDBSession, type DuckDBSessionOptions, duckDBSessionFor } from './duckdb-session.js';
import { type ErrorContext, explainDuckDBError, relativeMessage } from './query-errors.js';
import { csvLines, formatQueryResult, readCappedResult, renderValue } from './result-text.js';
import { type ScannedSql, scanSql } from './sql-file-references.js';
import {
  describeDataFiles,
  listWorkspaceDataFiles,
  tableNamesOf,
  type WorkspaceDataFile,
  type WorkspaceDataFiles,
} from './workspace-data-files.js';

/** Options of {@link createDataTools}. */
export interface DataToolsOptions {
  /** Rows of a result shown to the model; the total is always stated. Default 200. */
  maxRows?: number;
  /** Characters of one cell shown before it is cut (and the cut stated). Default 300. */
  maxCellCharacters?: number;
  /** Characters of one tool result; rows past it are dropped and the drop stated. Default 40,000. */
  maxOutputCharacters?: number;
  /**
   * Refuse SQL that writes (COPY … TO, CREATE, INSERT, ATTACH, INSTALL/LOAD, SET, PRAGMA…) and
   * allow one statement per call. `outputPath` still works: the tool writes it, not the SQL.
   * Default true.
   */
  readOnly?: boolean;
  /** DuckDB `memory_limit` for each call's database. Default `'1GB'`. */
  memoryLimit?: string;
  /**
   * The most one call may spill to disk when its intermediate results outgrow `memoryLimit`
   * (DuckDB `max_temp_directory_size`), in a directory of its own removed when the call ends.
   * A query that needs more fails with an error saying so. Default `'2GB'`.
   */
  maxTempDirectorySize?: string;
  /** DuckDB worker threads. Default 2. */
  threads?: number;
  /** A query running longer is interrupted. Default 120,000 ms. */
  timeoutMs?: number;
  /**
   * The most bytes one call may write to disk: the result of `outputPath`, files of `COPY … TO`,
   * and (with `readOnly: false`) the growth of the run's database. Measured every 100 ms while
   * the query runs; past it the query is stopped, and what it wrote is not kept (a database
   * keeps the space its rolled-back writes took). Default 1,000,000,000 (1 GB).
   */
  maxWriteBytes?: number;
  /** Workspace entries no query may read or write (default: the protected defaults). */
  protectedPaths?: ProtectedPaths;
}

interface ResolvedOptions {
  maxRows: number;
  maxCellCharacters: number;
  maxOutputCharacters: number;
  readOnly: boolean;
  timeoutMs: number;
  maxWriteBytes: number;
  session: DuckDBSessionOptions;
  protectedPaths: ProtectedPaths;
}

/** Whether a statement of this type only reads (a query or an EXPLAIN). */
function isQueryStatement(type: StatementType): boolean {
  const { StatementType: statementTypes } = duckDBApi();
  return type === statementTypes.SELECT || type === statementTypes.EXPLAIN;
}

/** Leading keywords of statements that write or change the database, for refusing them before DuckDB binds them. */
const writingKeywords =
  /^(?:COPY|EXPORT|IMPORT|ATTACH|DETACH|INSTALL|LOAD|FORCE|UPDATE|CREATE|INSERT|DELETE|DROP|ALTER|SET|RESET|PRAGMA|CALL|USE|CHECKPOINT|VACUUM|MERGE|TRUNCATE|BEGIN|COMMIT|ROLLBACK|ANALYZE)\b/i;

const maxSampleRows = 50;

/**
 * Create `data.query` and `data.describe`.
 *
 * @throws RangeError naming the option when a numeric option is not a positive integer.
 */
export function createDataTools(options: DataToolsOptions = {}): Tool[] {
  const resolved: ResolvedOptions = {
    maxRows: positiveInteger('maxRows', options.maxRows, 200),
    maxCellCharacters: positiveInteger('maxCellCharacters', options.maxCellCharacters, 300),
    maxOutputCharacters: positiveInteger('maxOutputCharacters', options.maxOutputCharacters, 40_000),
    readOnly: options.readOnly ?? true,
    timeoutMs: positiveInteger('timeoutMs', options.timeoutMs, 120_000),
    maxWriteBytes: positiveInteger('maxWriteBytes', options.maxWriteBytes, 1_000_000_000),
    session: {
      memoryLimit: options.memoryLimit ?? '1GB',
      threads: positiveInteger('threads', options.threads, 2),
      maxTempDirectorySize: options.maxTempDirectorySize ?? '2GB',
    },
    protectedPaths: options.protectedPaths ?? createProtectedPaths(),
  };
  for (const name of ['memoryLimit', 'maxTempDirectorySize'] as const) {
    const size: unknown = resolved.session[name];
    if (typeof size !== 'string' || !/^\s*\d+(?:\.\d+)?\s*[KMGT]i?B\s*$/i.test(size)) {
      throw new TypeError(
        `createDataTools(): \`${name}\` must be a size like '512MB' or '2GB', got ${JSON.stringify(options[name])}`,
      );
    }
  }
  return [createQueryTool(resolved), createDescribeTool(resolved)];
}

function createQueryTool(options: ResolvedOptions): Tool {
  const writes = options.readOnly
    ? 'Read-only: one statement per call; COPY, CREATE, INSERT, ATTACH, INSTALL, SET and other writes are refused. To save a result, pass outputPath instead of COPY.'
    : 'Statements that write (CREATE TABLE, INSERT, COPY … TO a workspace file) are allowed; separate several statements with semicolons and the last one is shown.';
  return tool({
    name: 'data.query',
    description: [
      `Run DuckDB SQL over the data files in the workspace (${dataFileExtensions}).`,
      "Name a file by its path relative to the workspace in single quotes, e.g. SELECT region, sum(amount) AS total FROM 'sales.csv' GROUP BY region ORDER BY total DESC; globs work ('logs/*.parquet'), and so do read_csv('data.csv', delim=';') and read_json_auto('events.ndjson') for reading options.",
      'A file whose name is a plain word can also be queried by that name: FROM sales for sales.csv.',
      `Results come back as CSV after a line giving the row count and column types; at most ${options.maxRows} rows are shown (the total is stated), so aggregate, filter or use LIMIT. NULL is an empty field, an empty string is "". Dates are ISO 8601, times UTC.`,
      writes,
      'Use data.describe first to see a file’s columns and types.',
    ].join(' '),
    input: z.object({
      sql: z
        .string()
        .min(1)
        .describe("The DuckDB SQL, e.g. SELECT * FROM 'sales.csv' WHERE amount > 100 ORDER BY amount DESC LIMIT 20"),
      outputPath: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Write the full result to this workspace file instead of showing rows: .csv or .parquet, e.g. "out/top-regions.csv". Replaces an existing file.',
        ),
    }),
    // A plain query only reads; `outputPath` writes a file, and writing the same result to the same
    // path twice leaves the same file. SQL that may write (readOnly: false) can do anything.
    effect: options.readOnly ? 'idempotent' : 'side-effect',
    execute: ({ sql, outputPath }, context) => runQuery(sql, outputPath, context, options),
  });
}

function createDescribeTool(options: ResolvedOptions): Tool {
  return tool({
    name: 'data.describe',
    description: [
      `Profile one data file of the workspace (${dataFileExtensions}): its columns and types, row count, and for each column the number of nulls, the approximate number of distinct values, and the minimum and maximum; then the first rows as CSV.`,
      'Use it before writing SQL with data.query.',
    ].join(' '),
    input: z.object({
      path: z
        .string()
        .min(1)
        .describe('The file, relative to the workspace, e.g. "sales.csv" or "data/events.parquet".'),
      sampleRows: z
        .number()
        .int()
        .min(0)
        .max(maxSampleRows)
        .default(5)
        .describe(`How many of the first rows to show (0 to ${maxSampleRows}).`),
    }),
    effect: 'none',
    execute: ({ path, sampleRows }, context) => describeFile(path, sampleRows, context, options),
  });
}

async function runQuery(
  sql: string,
  outputPath: string | undefined,
  context: ToolContext,
  options: ResolvedOptions,
): Promise<string> {
  const access = workspaceRoot(context, options);
  const root = access.root;
  const session = await duckDBSessionFor(context, root, options.session);
  const files = createCallFiles(access, session.scratchDirectory());
  try {
    return await runQueryWith(sql, outputPath, context, options, access, session, files);
  } finally {
    files.close();
  }
}

async function runQueryWith(
  sql: string,
  outputPath: string | undefined,
  context: ToolContext,
  options: ResolvedOptions,
  access: WorkspaceAccess,
  session: DuckDBSession,
  files: CallFiles,
): Promise<string> {
  const root = access.root;
  const scanned = confined(() =>
    scanSql(sql, (reference, role) => files.resolve(reference, options.readOnly ? 'read' : role)),
  );
  let listing: WorkspaceDataFiles | undefined;
  const dataFiles = () => {
    listing ??= listWorkspaceDataFiles(root, access.protectedPaths);
    return listing;
  };
  const { views, problems } = bareTableNames(scanned, dataFiles().files);
  const output = outputPath === undefined ? undefined : outputTarget(access, outputPath, files);
  const unreadable = [
    ...scanned.files.filter((file) => dataFormatOf(file) === 'xlsx'),
    ...views.filter((view) => view.file.format === 'xlsx').map((view) => view.file.path),
  ];
  if (unreadable[0] !== undefined && !session.supportsXlsx) throw xlsxUnsupported(unreadable[0]);
  if (options.readOnly) refuseWritingKeyword(scanned.sql);
  const viewSources = new Map<string, string>();
  for (const view of views) {
    try {
      viewSources.set(view.name, readerCall(view.file.format, pathsSql(files.resolve(view.file.path))));
    } catch (error) {
      if (!(error instanceof WorkspacePathError)) throw error;
      problems.set(view.name, `${view.file.path} (the table ${view.name}) could not be read: ${error.message}`);
    }
  }

  const opened = await session.connect({
    allowedPaths: files.allowedPaths(),
    allowedDirectory: files.scratchDirectory,
    persistent: !options.readOnly,
  });
  const connection = opened.connection;
  const watch = watchQuery(connection, context.abortSignal, options, writtenBy(files, session, !options.readOnly));
  const errorContext: ErrorContext = {
    root: files.scratchDirectory,
    dataFiles: () => describeDataFiles(dataFiles()),
    columns: () => columnsOfSources(connection, scanned, views, files),
    tableNameProblems: problems,
    sqlWasRewritten: scanned.sql !== sql,
  };
  try {
    // Parsing the SQL as written first makes a syntax error quote the model's own text.
    if (scanned.sql !== sql) {
      await connection.extractStatements(sql).catch(async (error: unknown) => {
        throw await explainDuckDBError(error, { ...errorContext, sqlWasRewritten: false });
      });
    }
    await createViews(connection, views, viewSources, problems, files, options.readOnly);
    const extracted = await connection.extractStatements(scanned.sql);
    const count = extracted.count;
    if (count === 0) {
      throw new DataToolError(
        'query-failed',
        "The SQL has no statement. Send one query, e.g. SELECT * FROM 'sales.csv' LIMIT 10.",
      );
    }
    if (options.readOnly && count > 1) {
      const pivot = scanned.words.has('pivot')
        ? " A PIVOT without an IN list makes DuckDB create a type first; list the values instead: PIVOT t ON category IN ('a', 'b') USING sum(amount)."
        : '';
      throw new DataToolError(
        'read-only',
        `data.query runs one statement per call (this SQL has ${count}). Send each query in its own call.${pivot}`,
      );
    }
    if (output !== undefined && count !== 1) {
      throw new DataToolError('query-failed', `outputPath needs exactly one query (this SQL has ${count} statements).`);
    }
    const readLimits = {
      maxRows: options.maxRows,
      maxCellCharacters: options.maxCellCharacters,
      stripPrefix: `${files.scratchDirectory}/`,
    };
    // A single plain query, the common case, runs without being prepared first: DuckDB binds a
    // prepared statement again when it runs, and binding a CSV file means sniffing it again.
    if (count === 1 && (await isPlainQuery(connection, scanned.sql))) {
      const query = statementText(scanned);
      if (output !== undefined) return await writeResult(connection, query, output, access, context);
      // Only one row past the cap is produced; the total is counted only when the cap cuts it.
      const limited = await connection.run(`SELECT * FROM (\n${query}\n) LIMIT ${options.maxRows + 1}`);
      const capped = await readCappedResult(limited, readLimits);
      if (capped.totalRows > options.maxRows) {
        const counted = await connection.runAndReadAll(`SELECT count(*) FROM (\n${query}\n)`);
        capped.totalRows = Number(counted.getRows()[0]?.[0] ?? capped.totalRows);
      }
      return files.showNames(formatQueryResult(capped, options));
    }
    for (let index = 0; index < count; index++) {
      const prepared = await extracted.prepare(index);
      const type = prepared.statementType;
      if (options.readOnly) {
        const { StatementType: statementTypes } = duckDBApi();
        if (!isQueryStatement(type)) throw readOnlyRefusal(statementTypes[type] ?? 'write');
        if (type === statementTypes.EXPLAIN) await refuseExplainAnalyzeOfWrite(connection, scanned.sql);
      }
      if (index < count - 1) {
        // An earlier query's rows are never shown, so only statements with effects need running.
        if (!isQueryStatement(type)) await prepared.run();
        continue;
      }
      if (output !== undefined) {
        if (!isQueryStatement(type) || prepared.columnCount === 0) {
          throw new DataToolError('query-failed', 'outputPath needs a query that returns rows (SELECT …).');
        }
        return await writeResult(connection, statementText(scanned), output, access, context);
      }
      const text = files.showNames(
        formatQueryResult(await readCappedResult(await prepared.stream(), readLimits), options),
      );
      if (!options.readOnly) copyWrittenFiles(files);
      return text;
    }
    throw new DataToolError('query-failed', 'The SQL has no statement.');
  } catch (error) {
    if (error instanceof DataToolError) throw error;
    if (error instanceof WorkspacePathError) throw confinedError(error);
    const interruption = watch.reason();
    if (interruption !== undefined) throw interrupted(interruption, options, error);
    throw withNames(await explainDuckDBError(error, errorContext), files);
  } finally {
    watch.stop();
    opened.close();
  }
}

/** Files that SQL wrote into the scratch directory (`readOnly: false`), copied into the workspace. */
function copyWrittenFiles(files: CallFiles): void {
  files.copyOutputs();
}

/** `error` with DuckDB's paths replaced by the workspace names they stand for. */
function withNames(error: DataToolError, files: CallFiles): DataToolError {
  return new DataToolError(error.reason, files.showNames(error.message), { cause: error.cause ?? error });
}

/** A path list as SQL: one string literal, or a list of them. */
function pathsSql(paths: readonly string[]): string {
  return paths.length === 1 ? sqlString(paths[0]!) : `[${paths.map(sqlString).join(', ')}]`;
}

async function describeFile(
  path: string,
  sampleRows: number,
  context: ToolContext,
  options: ResolvedOptions,
): Promise<string> {
  const access = workspaceRoot(context, options);
  const root = access.root;
  const relativePath = confined(() => checkedRelativePath(access, path));
  const format = dataFormatOf(path);
  const dataFiles = () => describeDataFiles(listWorkspaceDataFiles(root, access.protectedPaths));
  if (format === undefined) {
    throw new DataToolError(
      'unsupported-format',
      `"${path}" is not a data file that data.describe can read; supported extensions: ${dataFileExtensions}. ${dataFiles()}`,
    );
  }
  const session = await duckDBSessionFor(context, root, options.session);
  if (format === 'xlsx' && !session.supportsXlsx) throw xlsxUnsupported(path);
  const files = createCallFiles(access, session.scratchDirectory());
  try {
    let sourcePaths: string[];
    try {
      sourcePaths = files.resolve(relativePath);
    } catch (error) {
      if (error instanceof WorkspacePathError && /is a directory|not a regular file/.test(error.message)) {
        throw new DataToolError('not-found', `There is no file "${path}" in the workspace. ${dataFiles()}`);
      }
      throw confinedError(error);
    }
    if (sourcePaths.every((source) => source.startsWith(`${files.scratchDirectory}/`))) {
      throw new DataToolError('not-found', `There is no file "${path}" in the workspace. ${dataFiles()}`);
    }
    return await describeWith(
      path,
      format,
      sampleRows,
      context,
      options,
      session,
      files,
      pathsSql(sourcePaths),
      dataFiles,
    );
  } finally {
    files.close();
  }
}

async function describeWith(
  path: string,
  format: NonNullable<ReturnType<typeof dataFormatOf>>,
  sampleRows: number,
  context: ToolContext,
  options: ResolvedOptions,
  session: DuckDBSession,
  files: CallFiles,
  sourceSql: string,
  dataFiles: () => string,
): Promise<string> {
  const opened = await session.connect({
    allowedPaths: files.allowedPaths(),
    allowedDirectory: files.scratchDirectory,
    persistent: false,
  });
  const connection = opened.connection;
  const root = files.scratchDirectory;
  const watch = watchQuery(connection, context.abortSignal, options, writtenBy(files, session, false));
  try {
    const source = readerCall(format, sourceSql);
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const columns = described.getRows().map((row) => ({ name: String(row[0]), type: String(row[1]) }));
    const aggregates = columns.flatMap((column) => {
      const name = sqlIdentifier(column.name);
      return [`count(${name})`, `approx_count_distinct(${name})`, `min(${name})`, `max(${name})`];
    });
    // One pass over the file gives every count, min and max.
    const statistics = await connection.runAndReadAll(`SELECT count(*), ${aggregates.join(', ')} FROM ${source}`);
    const values = statistics.getRows()[0] ?? [];
    const rowCount = Number(values[0] ?? 0);
    const cell = (value: unknown, isFloat: boolean) =>
      markdownCell(shorten(renderValue(value as never, isFloat, `${root}/`) ?? 'NULL', 60));
    const lines = [
      `${path}: ${format.toUpperCase()}, ${rowCount} ${rowCount === 1 ? 'row' : 'rows'}, ${columns.length} columns.`,
      '| column | type | nulls | distinct (approx.) | min | max |',
      '| --- | --- | --- | --- | --- | --- |',
    ];
    columns.forEach((column, index) => {
      const offset = 1 + index * 4;
      const nonNull = Number(values[offset] ?? 0);
      const isFloat = column.type === 'FLOAT';
      lines.push(
        `| ${markdownCell(column.name)} | ${markdownCell(column.type)} | ${rowCount - nonNull} | ${String(values[offset + 1] ?? '')} | ${cell(values[offset + 2] ?? null, isFloat)} | ${cell(values[offset + 3] ?? null, isFloat)} |`,
      );
    });
    if (sampleRows > 0 && rowCount > 0) {
      const sample = await connection.stream(`SELECT * FROM ${source} LIMIT ${sampleRows}`);
      const capped = await readCappedResult(sample, {
        maxRows: sampleRows,
        maxCellCharacters: options.maxCellCharacters,
        stripPrefix: `${root}/`,
      });
      lines.push(`First ${capped.rows.length} rows (CSV):`, ...csvLines(capped.columns, capped.rows));
    }
    return lines.join('\n');
  } catch (error) {
    if (error instanceof DataToolError) throw error;
    const interruption = watch.reason();
    if (interruption !== undefined) throw interrupted(interruption, options, error);
    throw withNames(
      await explainDuckDBError(error, {
        root,
        dataFiles,
        columns: async () => undefined,
        tableNameProblems: new Map(),
        sqlWasRewritten: true,
      }),
      files,
    );
  } finally {
    watch.stop();
    opened.close();
  }
}

/** The workspace access, or an error telling the model there is none. */
function workspaceRoot(context: ToolContext, options: ResolvedOptions): WorkspaceAccess {
  return confined(() => workspaceAccess(context.workspace, options.protectedPaths));
}

/** Run a path check, turning its `WorkspacePathError` into a `DataToolError` with the data tools' rule. */
function confined<Value>(check: () => Value): Value {
  try {
    return check();
  } catch (error) {
    throw confinedError(error);
  }
}

function confinedError(error: unknown): unknown {
  if (!(error instanceof WorkspacePathError)) return error;
  const reason = /does not exist|no file in the workspace matches/.test(error.message)
    ? 'not-found'
    : 'outside-workspace';
  return new DataToolError(
    reason,
    `${error.message} The data tools read only files inside the workspace, named by their path relative to it, e.g. 'sales.csv' or 'data/2024.parquet'.`,
    { cause: error },
  );
}

interface TableView {
  /** Lower-cased name as the SQL used it. */
  name: string;
  file: WorkspaceDataFile;
}

/** The bare words of the SQL that name exactly one data file, and why the others could not. */
function bareTableNames(
  scanned: ScannedSql,
  files: readonly WorkspaceDataFile[],
): { views: TableView[]; problems: Map<string, string> } {
  const views: TableView[] = [];
  const problems = new Map<string, string>();
  const names = tableNamesOf(files);
  for (const word of scanned.words) {
    const candidates = names.get(word);
    if (candidates === undefined) continue;
    const [first] = candidates;
    if (candidates.length === 1 && first !== undefined) views.push({ name: word, file: first });
    else {
      problems.set(
        word,
        `The name ${word} could mean ${candidates.map((file) => file.path).join(' or ')}; name the file by its path in single quotes, e.g. FROM '${first?.path ?? ''}'.`,
      );
    }
  }
  return { views, problems };
}

/** Temporary views (this connection only) for the bare table names the SQL uses. */
async function createViews(
  connection: DuckDBConnection,
  views: readonly TableView[],
  sources: ReadonlyMap<string, string>,
  problems: Map<string, string>,
  files: CallFiles,
  readOnly: boolean,
): Promise<void> {
  if (views.length === 0) return;
  const existing = new Set<string>();
  if (!readOnly) {
    // A table the SQL created in an earlier call keeps its name; the file stays reachable by path.
    const tables = await connection.runAndReadAll(
      'SELECT lower(table_name) FROM duckdb_tables() UNION ALL SELECT lower(view_name) FROM duckdb_views() WHERE NOT internal',
    );
    for (const [name] of tables.getRows()) existing.add(String(name));
  }
  for (const view of views) {
    const source = sources.get(view.name);
    if (existing.has(view.name) || source === undefined) continue;
    try {
      await connection.run(`CREATE OR REPLACE TEMPORARY VIEW ${sqlIdentifier(view.name)} AS SELECT * FROM ${source}`);
    } catch (error) {
      const reason = files.showNames(
        relativeMessage(error instanceof Error ? error.message : String(error), files.scratchDirectory),
      );
      problems.set(view.name, `${view.file.path} (the table ${view.name}) could not be read: ${reason}`);
    }
  }
}

/** "Columns of sales.csv: region VARCHAR, amount DOUBLE." for each file the SQL reads, best effort. */
async function columnsOfSources(
  connection: DuckDBConnection,
  scanned: ScannedSql,
  views: readonly TableView[],
  files: CallFiles,
): Promise<string | undefined> {
  const sources = new Map<string, string>();
  for (const file of scanned.files) {
    const format = dataFormatOf(file);
    if (format === undefined) continue;
    try {
      sources.set(file, readerCall(format, pathsSql(files.resolve(file))));
    } catch {
      // Already reported by the query itself.
    }
  }
  for (const view of views) sources.set(`${view.file.path} (${view.name})`, sqlIdentifier(view.name));
  const lines: string[] = [];
  for (const [label, source] of [...sources].slice(0, 5)) {
    try {
      const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
      const columns = described.getRows().map((row) => `${String(row[0])} ${String(row[1])}`);
      const shown = columns.slice(0, 100).join(', ');
      lines.push(`Columns of ${label}: ${shown}${columns.length > 100 ? `, and ${columns.length - 100} more` : ''}.`);
    } catch {
      // The file itself may be what fails; DuckDB's message already says so.
    }
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}

interface OutputTarget {
  /** Where DuckDB writes it: a file in the call's scratch directory, copied into the workspace after. */
  scratch: string;
  relative: string;
  format: 'csv' | 'parquet';
}

function outputTarget(access: WorkspaceAccess, path: string, files: CallFiles): OutputTarget {
  const format = /\.csv$/i.test(path) ? 'csv' : /\.parquet$/i.test(path) ? 'parquet' : undefined;
  if (format === undefined) {
    throw new DataToolError('unsupported-format', `outputPath "${path}" must end in .csv or .parquet.`);
  }
  confined(() => checkedRelativePath(access, path));
  return { scratch: join(files.scratchDirectory, `.output.${format}`), relative: path, format };
}

/** Write the query's full result to the output file with DuckDB's COPY, which streams. */
async function writeResult(
  connection: DuckDBConnection,
  query: string,
  output: OutputTarget,
  access: WorkspaceAccess,
  context: ToolContext,
): Promise<string> {
  const formatOptions = output.format === 'csv' ? 'FORMAT csv, HEADER true' : 'FORMAT parquet';
  // `FROM (…)` lets DESCRIBE, SUMMARIZE and SHOW be saved too; the line breaks keep a trailing
  // `--` comment in the query from swallowing the closing parenthesis.
  const copied = await connection.runAndReadAll(
    `COPY (FROM (\n${query}\n)) TO ${sqlString(output.scratch)} (${formatOptions})`,
  );
  const rows = Number(copied.getRows()[0]?.[0] ?? 0);
  confined(() => writeWorkspaceFile(access, output.relative, { sourcePath: output.scratch }));
  context.recordArtifact({
    path: output.relative,
    mediaType: output.format === 'csv' ? 'text/csv' : 'application/vnd.apache.parquet',
    description: 'data.query result',
  });
  return `Wrote ${rows} ${rows === 1 ? 'row' : 'rows'} to ${output.relative} (${output.format.toUpperCase()}). Use data.describe or data.query on it to look inside.`;
}

/**
 * Whether `sql` is one SELECT-like statement (SELECT, WITH, FROM, VALUES, DESCRIBE, SUMMARIZE,
 * SHOW, a PIVOT with its IN list), told from DuckDB's parser alone: `json_serialize_sql` only
 * serialises SELECT statements and fails for anything else, without binding (reading) files.
 */
async function isPlainQuery(connection: DuckDBConnection, sql: string): Promise<boolean> {
  const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
  const serialised = reader.getRows()[0]?.[0];
  if (typeof serialised !== 'string') return false;
  const parsed = JSON.parse(serialised) as { error?: boolean; statements?: unknown[] };
  return parsed.error !== true && Array.isArray(parsed.statements) && parsed.statements.length === 1;
}

/** The SQL of a single-statement text, without its trailing semicolon and what follows it. */
function statementText(scanned: ScannedSql): string {
  const end = scanned.semicolons[0];
  return end === undefined ? scanned.sql : scanned.sql.slice(0, end);
}

/** Refuse a writing statement by its first keyword, so it is refused before DuckDB touches a file. */
function refuseWritingKeyword(sql: string): void {
  const keyword = writingKeywords.exec(withoutLeadingComments(sql))?.[0];
  if (keyword !== undefined) throw readOnlyRefusal(keyword.toUpperCase());
}

/** `EXPLAIN ANALYZE` runs its statement: allow it only when that statement is a query. */
async function refuseExplainAnalyzeOfWrite(connection: DuckDBConnection, sql: string): Promise<void> {
  const match = /^EXPLAIN\s*(?:\(([^)]*)\)|(ANALY[SZ]E))?/i.exec(withoutLeadingComments(sql));
  const analyzes = match !== null && (match[2] !== undefined || /ANALY[SZ]E/i.test(match[1] ?? ''));
  if (!analyzes || match === null) return;
  const inner = withoutLeadingComments(sql).slice(match[0].length);
  refuseWritingKeyword(inner);
  const prepared = await connection.prepare(inner);
  if (!isQueryStatement(prepared.statementType)) throw readOnlyRefusal('EXPLAIN ANALYZE of a write');
}

function withoutLeadingComments(sql: string): string {
  let rest = sql.trimStart();
  for (;;) {
    if (rest.startsWith('--')) {
      const end = rest.indexOf('\n');
      rest = end === -1 ? '' : rest.slice(end + 1).trimStart();
    } else if (rest.startsWith('/*')) {
      const end = rest.indexOf('*/');
      rest = end === -1 ? '' : rest.slice(end + 2).trimStart();
    } else return rest;
  }
}

function readOnlyRefusal(what: string): DataToolError {
  return new DataToolError(
    'read-only',
    `data.query is read-only here and refused a ${what} statement. Only queries run (SELECT, WITH, FROM, VALUES, DESCRIBE, SUMMARIZE, EXPLAIN). To save a result to a file, pass outputPath (.csv or .parquet) with a SELECT instead of COPY … TO; to build on a result, use a WITH clause or a subquery instead of CREATE TABLE.`,
  );
}

function xlsxUnsupported(path: string): DataToolError {
  return new DataToolError(
    'unsupported-format',
    `"${path}" is an Excel file, and XLSX cannot be read here: DuckDB reads it through its excel extension, which is not bundled with this build and cannot be downloaded offline. Convert the sheet to CSV first (for example with code.run, if a spreadsheet library is available there, or ask the user for a CSV export), then query the CSV.`,
  );
}

type Interruption = 'timeout' | 'aborted' | 'write-limit';

interface QueryWatch {
  reason(): Interruption | undefined;
  stop(): void;
}

/** How often a running query's writes are measured against `maxWriteBytes`. */
const writeCheckIntervalMs = 100;

/**
 * Bytes the call has written so far: its scratch directory (outputs, `COPY … TO`), measured as the
 * process tier of `code.run` measures a workspace, and with the run's database open for writing,
 * what its file and write-ahead log grew by since the call began.
 */
function writtenBy(files: CallFiles, session: DuckDBSession, persistent: boolean): () => number {
  const database = persistent ? [session.databasePath, `${session.databasePath}.wal`] : [];
  const databaseBytes = () => database.reduce((sum, path) => sum + fileBytes(path), 0);
  const before = databaseBytes();
  return () => {
    const scratch = measureWorkspaceDiskUse(files.scratchDirectory, undefined);
    // A scratch directory too large to walk is past any limit.
    if (!scratch.complete) return Number.POSITIVE_INFINITY;
    return totalDiskUse(scratch) + Math.max(0, databaseBytes() - before);
  };
}

/** Bytes a file holds (the larger of its size and its blocks); 0 when there is none. */
function fileBytes(path: string): number {
  try {
    const stats = statSync(path);
    return Math.max(stats.size, stats.blocks * 512);
  } catch {
    return 0;
  }
}

/**
 * Interrupt the connection's query when it runs past `timeoutMs`, writes more than
 * `maxWriteBytes`, or the run is stopped.
 */
function watchQuery(
  connection: DuckDBConnection,
  signal: AbortSignal,
  limits: { timeoutMs: number; maxWriteBytes: number },
  written: () => number,
): QueryWatch {
  let reason: Interruption | undefined;
  const interrupt = (why: Interruption) => {
    reason ??= why;
    connection.interrupt();
  };
  const timer = setTimeout(() => interrupt('timeout'), limits.timeoutMs);
  const writes = setInterval(() => {
    if (written() > limits.maxWriteBytes) interrupt('write-limit');
  }, writeCheckIntervalMs);
  writes.unref();
  const onAbort = () => interrupt('aborted');
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return {
    reason: () => reason,
    stop() {
      clearTimeout(timer);
      clearInterval(writes);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

function interrupted(
  reason: Interruption,
  limits: { timeoutMs: number; maxWriteBytes: number },
  cause: unknown,
): DataToolError {
  if (reason === 'write-limit') {
    return new DataToolError(
      'write-limit',
      `The query wrote more than ${limits.maxWriteBytes} bytes to disk (the write limit, maxWriteBytes) and was stopped; nothing it wrote was kept. Write less: filter or aggregate first, select fewer columns, or save as Parquet (outputPath ending in .parquet).`,
      { cause },
    );
  }
  return new DataToolError(
    'interrupted',
    reason === 'timeout'
      ? `The query ran longer than ${limits.timeoutMs / 1000} s and was stopped. Make it cheaper: filter early, aggregate, select fewer columns, or query fewer files.`
      : 'The query was stopped because the run was stopped.',
    { cause },
  );
}

function markdownCell(text: string): string {
  return text.replaceAll('|', '\\|').replace(/\r?\n|\r/g, ' ');
}

function shorten(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`createDataTools(): \`${name}\` must be a positive integer, got ${String(value)}`);
  }
  return value;
}
