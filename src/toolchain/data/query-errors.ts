/**
 * DuckDB's error messages, rewritten to tell a model how to fix its call: an unknown file lists
 * the data files there are, an unknown column lists the columns of the files the query reads,
 * a syntax error keeps DuckDB's message and adds a hint about DuckDB's dialect. Absolute paths
 * in messages are shown relative to the workspace, as the model wrote them.
 */
import { dataFileExtensions } from './data-formats.js';
import { DataToolError } from './data-tool-error.js';

export interface ErrorContext {
  /** The workspace's real path; stripped from messages. */
  root: string;
  /** "Data files in the workspace: …" */
  dataFiles: () => string;
  /** Columns of the files the query reads, e.g. "Columns of sales.csv: region VARCHAR, amount DOUBLE." */
  columns: () => Promise<string | undefined>;
  /** Why a bare table name could not be mapped to a file, by lower-cased name. */
  tableNameProblems: ReadonlyMap<string, string>;
  /**
   * Whether DuckDB ran a rewritten SQL text (file names made absolute). Its `LINE 1: …` excerpt
   * then shows text the model did not write, cut at arbitrary points, so it is left out.
   */
  sqlWasRewritten: boolean;
}

const readHint = `data.query reads only files inside the workspace, named by their path relative to it with a data-file extension (${dataFileExtensions}), e.g. SELECT * FROM 'sales.csv'.`;

/** A `DataToolError` explaining `error`, a failure DuckDB reported. */
export async function explainDuckDBError(error: unknown, context: ErrorContext): Promise<DataToolError> {
  const raw = (error instanceof Error ? error.message : String(error)).replace(/^Failed to extract statements: /, '');
  const located = context.sqlWasRewritten ? raw.replace(/\n+LINE \d+:[\s\S]*$/, '') : raw;
  const message = relativeMessage(located, context.root);
  const options = { cause: error };

  const permission = /Permission Error: Cannot access (?:file|directory) "([^"]*)"/.exec(message);
  if (permission) {
    return new DataToolError(
      'outside-workspace',
      `"${permission[1]}" cannot be read or written: ${readHint} ${context.dataFiles()}`,
      options,
    );
  }

  const noFiles = /No files found that match the pattern "([^"]*)"/.exec(message);
  if (noFiles) {
    return new DataToolError(
      'not-found',
      `No file in the workspace matches "${noFiles[1]}". ${context.dataFiles()}`,
      options,
    );
  }

  const missingTable = /Catalog Error: Table with name (.+?) does not exist/.exec(message);
  if (missingTable) {
    const name = missingTable[1] as string;
    const problem = context.tableNameProblems.get(name.toLowerCase());
    if (problem !== undefined) return new DataToolError('not-found', problem, options);
    if (name.startsWith('/') || name.startsWith('..') || /^[A-Za-z]:[\\/]/.test(name)) {
      return new DataToolError(
        'outside-workspace',
        `"${name}" is outside the workspace. ${readHint} ${context.dataFiles()}`,
        options,
      );
    }
    if (/[/\\]/.test(name) || name.includes('.')) {
      return new DataToolError(
        'not-found',
        `"${name}" is not a data file in the workspace. ${readHint} ${context.dataFiles()}`,
        options,
      );
    }
    return new DataToolError(
      'not-found',
      `There is no table or data file named ${name}. Query a file by its path in single quotes (FROM 'data/sales.csv') or by its bare name when that is unique (FROM sales for sales.csv). ${context.dataFiles()}`,
      options,
    );
  }

  if (
    /Binder Error: Referenced column .* not found|Binder Error: Values list .* does not have a column/.test(message)
  ) {
    const columns = await context.columns();
    return new DataToolError(
      'query-failed',
      `${withoutCatalogSuggestion(message)}${columns ? `\n${columns}` : ''}`,
      options,
    );
  }

  if (/^Parser Error/.test(message)) {
    return new DataToolError(
      'query-failed',
      `${message}\nHint: this is DuckDB SQL. Put file names and text values in single quotes ('sales.csv', 'East'), and column names with spaces or capitals in double quotes ("Order Date"). Send one query without a trailing explanation.`,
      options,
    );
  }

  if (/CSV Error|Error when sniffing file|Could not convert string .* to|Conversion Error/.test(message)) {
    return new DataToolError(
      'query-failed',
      `${message}\nHint: read the file with explicit options, e.g. read_csv('file.csv', delim=';', header=true, all_varchar=true) or ignore_errors=true, and convert columns with TRY_CAST.`,
      options,
    );
  }

  if (/Out of Memory Error/.test(message) && /max_temp_directory_size/.test(message)) {
    const used = /\(([^)]*) used\)/.exec(message)?.[1];
    return new DataToolError(
      'query-failed',
      `The query needs more temporary disk space than one data call may use${used ? ` (${used.replace('/', ' of ')} used)` : ''}: its intermediate results outgrew the memory limit and then the spill limit (maxTempDirectorySize). Aggregate or filter earlier, select fewer columns, or pass outputPath to write a large result to a file.`,
      options,
    );
  }

  if (/Out of Memory Error/.test(message)) {
    return new DataToolError(
      'query-failed',
      `${message}\nHint: the query needs more memory than the data tools may use; aggregate or filter earlier, select fewer columns, or pass outputPath to write a large result to a file.`,
      options,
    );
  }

  return new DataToolError('query-failed', withoutCatalogSuggestion(message), options);
}

/** The message with the workspace's absolute path removed, so paths read as the model wrote them. */
export function relativeMessage(message: string, root: string): string {
  return message.replaceAll(`${root}/`, '');
}

/** DuckDB suggests system tables (`Did you mean "pg_class"?`) for unknown names; that misleads a model. */
function withoutCatalogSuggestion(message: string): string {
  return message.replace(/\nDid you mean "(?:pg_|sqlite_|duckdb_|information_schema)[^"]*"\?/, '');
}
