import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Tool } from '../../tools/tool.js';
import { createToolContext, type StandaloneToolContext } from '../../tools/tool-context.js';
import { DataToolError } from './data-tool-error.js';
import { createDataTools, type DataToolsOptions } from './data-tools.js';
import { duckDBSessionFor } from './duckdb-session.js';

let parent: string;
let workspace: string;
let context: StandaloneToolContext;

/** A file outside the workspace that no query may read. */
let outsideFile: string;

const salesCsv = [
  'region,month,amount,note',
  'East,2024-01-15,100.5,first',
  'West,2024-01-20,200,',
  'East,2024-02-03,50.25,"with, comma"',
  'North,2024-02-10,75,""',
  'West,2024-03-01,125,last',
].join('\n');

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'hataraku-data-tools-'));
  workspace = join(parent, 'workspace');
  mkdirSync(join(workspace, 'data'), { recursive: true });
  outsideFile = join(parent, 'secret.csv');
  writeFileSync(outsideFile, 'secret\nhunter2\n');
  writeFileSync(join(workspace, 'sales.csv'), `${salesCsv}\n`);
  writeFileSync(join(workspace, 'data', 'people.tsv'), 'name\tage\nAda\t36\nAlan\t41\n');
  writeFileSync(join(workspace, 'data', 'events.ndjson'), '{"kind":"click","n":1}\n{"kind":"view","n":2}\n');
  writeFileSync(join(workspace, 'data', 'config.json'), '[{"key":"a","values":[1,2]},{"key":"b","values":[]}]');
  writeFileSync(join(workspace, 'data', 'sales.json'), '[{"region":"South"}]');
  writeFileSync(join(workspace, 'book.xlsx'), 'not really a workbook');
  symlinkSync(outsideFile, join(workspace, 'leak.csv'));
  // Parquet and a large CSV are written by DuckDB itself, outside the tools under test.
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(
    `COPY (SELECT i AS id, i * 1.5 AS score, CASE WHEN i % 3 = 0 THEN NULL ELSE 'v' || i END AS label, DATE '2024-01-01' + CAST(i AS INTEGER) AS day FROM range(10) t(i)) TO '${join(workspace, 'data', 'scores.parquet')}' (FORMAT parquet)`,
  );
  await connection.run(
    `COPY (SELECT i AS id, i % 7 AS bucket FROM range(200000) t(i)) TO '${join(workspace, 'big.csv')}' (FORMAT csv, HEADER true)`,
  );
  connection.closeSync();
  instance.closeSync();
});

afterAll(() => rmSync(parent, { recursive: true, force: true }));

beforeEach(() => {
  context = createToolContext({ workspace });
});

afterEach(async () => {
  await context.dispose();
});

function toolsWith(options: DataToolsOptions = {}): { query: Tool; describe: Tool } {
  const [query, describeTool] = createDataTools(options);
  if (query === undefined || describeTool === undefined) throw new Error('createDataTools returned too few tools');
  return { query, describe: describeTool };
}

async function call(target: Tool, args: Record<string, unknown>, callContext = context): Promise<string> {
  const validation = target.validate(args);
  if (!validation.success) throw new Error(`invalid arguments: ${JSON.stringify(validation.issues)}`);
  return String(await target.execute(validation.data, callContext));
}

async function failure(target: Tool, args: Record<string, unknown>, callContext = context): Promise<DataToolError> {
  try {
    await call(target, args, callContext);
  } catch (error) {
    if (error instanceof DataToolError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(args)} to fail`);
}

const { query, describe: describeTool } = toolsWith();

describe('createDataTools', () => {
  it('creates data.query and data.describe with honest effects', () => {
    expect(query.name).toBe('data.query');
    expect(query.effect).toBe('idempotent');
    expect(describeTool.name).toBe('data.describe');
    expect(describeTool.effect).toBe('none');
    expect(toolsWith({ readOnly: false }).query.effect).toBe('side-effect');
    expect(query.description).toContain('200 rows');
  });

  it('rejects options that are not positive integers, naming them', () => {
    expect(() => createDataTools({ maxRows: 0 })).toThrow(/`maxRows`/);
    expect(() => createDataTools({ threads: 1.5 })).toThrow(/`threads`/);
    expect(() => createDataTools({ memoryLimit: 'lots' })).toThrow(/`memoryLimit`/);
    expect(() => createDataTools({ maxTempDirectorySize: 'all of it' })).toThrow(/`maxTempDirectorySize`/);
  });
});

describe('data.query: memory and spill limits', () => {
  it('fails with a clear error when a query would spill past maxTempDirectorySize, and leaves no spill behind', async () => {
    const { query: limited } = toolsWith({ memoryLimit: '64MB', maxTempDirectorySize: '8MB', threads: 1 });
    // Six million distinct 64-character strings outgrow 64 MB of memory by far.
    const error = await failure(limited, {
      sql: 'SELECT count(*) AS n FROM (SELECT DISTINCT md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS s FROM range(6000000) t(i))',
    });
    expect(error.reason).toBe('query-failed');
    expect(error.message).toMatch(
      /^The query needs more temporary disk space than one data call may use \([\d.]+ MiB of [\d.]+ MiB used\): .*maxTempDirectorySize/,
    );
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('PRAGMA');
    const session = await duckDBSessionFor(context, realpathSync(workspace), {
      memoryLimit: '64MB',
      threads: 1,
      maxTempDirectorySize: '8MB',
    });
    expect(readdirSync(session.temporaryDirectory).filter((name) => name.startsWith('spill'))).toEqual([]);
  });

  it('lets the same query finish when the limits allow it', async () => {
    const { query: roomy } = toolsWith({ memoryLimit: '64MB', maxTempDirectorySize: '2GB', threads: 1 });
    const text = await call(roomy, {
      sql: 'SELECT count(*) AS n FROM (SELECT DISTINCT md5(i::VARCHAR) AS s FROM range(300000) t(i))',
    });
    expect(text).toContain('300000');
  });
});

describe('data.query', () => {
  it('aggregates a CSV named by its path', async () => {
    const text = await call(query, {
      sql: "SELECT region, sum(amount) AS total FROM 'sales.csv' GROUP BY region ORDER BY total DESC",
    });
    expect(text).toBe(
      ['3 rows; columns: region VARCHAR, total DOUBLE', 'region,total', 'West,325', 'East,150.75', 'North,75'].join(
        '\n',
      ),
    );
  });

  it('maps a bare table name to its file', async () => {
    const text = await call(query, { sql: 'SELECT count(*) AS n FROM People WHERE age > 40' });
    expect(text.split('\n').slice(1)).toEqual(['n', '1']);
  });

  it('says which files a bare name could mean when it is ambiguous', async () => {
    // sales.csv and data/sales.json share the name "sales"
    writeFileSync(join(workspace, 'data', 'extra.csv'), 'x\n1\n');
    const error = await failure(query, { sql: 'SELECT * FROM extra, sales' });
    expect(error.reason).toBe('not-found');
    expect(error.message).toContain('data/sales.json');
    expect(error.message).toContain('sales.csv');
    rmSync(join(workspace, 'data', 'extra.csv'));
  });

  it('reads TSV, NDJSON, JSON and Parquet files', async () => {
    expect(await call(query, { sql: "SELECT name FROM 'data/people.tsv' WHERE age > 40" })).toContain('\nname\nAlan');
    expect(await call(query, { sql: "SELECT sum(n) AS n FROM 'data/events.ndjson'" })).toContain('\nn\n3');
    expect(await call(query, { sql: "SELECT key, values FROM 'data/config.json' ORDER BY key" })).toContain(
      '\nkey,values\na,"[1, 2]"\nb,[]',
    );
    const parquet = await call(query, { sql: "SELECT * FROM 'data/scores.parquet' WHERE id IN (3, 4) ORDER BY id" });
    expect(parquet).toBe(
      [
        '2 rows; columns: id BIGINT, score DECIMAL(21,1), label VARCHAR, day DATE',
        'id,score,label,day',
        '3,4.5,,2024-01-04',
        '4,6.0,v4,2024-01-05',
      ].join('\n'),
    );
  });

  it('tells NULL (an empty field) from an empty string ("")', async () => {
    const text = await call(query, {
      sql: "SELECT note FROM read_csv('sales.csv', allow_quoted_nulls=false) WHERE region <> 'East' ORDER BY month",
    });
    expect(text.split('\n').slice(1)).toEqual(['note', '', '""', 'last']);
  });

  it('renders numbers without scientific notation and dates and timestamps as ISO 8601 in UTC', async () => {
    const text = await call(query, {
      sql: "SELECT 2::DOUBLE ^ 70 AS big, 1e-9::DOUBLE AS tiny, 0.1::FLOAT AS f, DATE '2024-03-01' AS d, TIMESTAMPTZ '2024-03-01 12:00:00+02' AS ts",
    });
    expect(text.split('\n')[2]).toBe('1180591620717411300000,0.000000001,0.1,2024-03-01,2024-03-01 10:00:00+00');
  });

  it('caps the rows shown and states the cap and the total, without reading the rest into JS', async () => {
    const { query: capped } = toolsWith({ maxRows: 5 });
    const text = await call(capped, { sql: "SELECT * FROM 'big.csv'" });
    const lines = text.split('\n');
    expect(lines[0]).toBe('200000 rows (showing the first 5: the row cap of 5); columns: id BIGINT, bucket BIGINT');
    expect(lines.slice(1, 7)).toEqual(['id,bucket', '0,0', '1,1', '2,2', '3,3', '4,4']);
    expect(lines[7]).toContain('[truncated: 199995 more rows not shown.');
  });

  it('cuts long cells and says so', async () => {
    const { query: narrow } = toolsWith({ maxCellCharacters: 10 });
    const text = await call(narrow, { sql: "SELECT repeat('x', 25) AS long" });
    expect(text).toContain('\nxxxxxxxxxx…[+15 chars]');
    expect(text).toContain('[long values were cut to 10 characters]');
  });

  describe('confinement to the workspace', () => {
    it.each([
      ["SELECT * FROM '/etc/passwd'", /outside the workspace|not a data file/],
      ["SELECT * FROM read_csv('../secret.csv')", /outside the workspace/],
      ["SELECT * FROM read_text('/etc/passwd')", /cannot be read/],
      ["SELECT * FROM read_csv('/etc/passwd', delim=':')", /cannot be read/],
      ["SELECT * FROM read_csv('/etc/passwd.csv')", /absolute/],
      [`SELECT * FROM read_csv_auto('${'../'.repeat(8)}etc/passwd.csv')`, /outside the workspace/],
      ["SELECT * FROM glob('/etc/*')", /cannot be read/],
      ["SELECT * FROM 'leak.csv'", /link/],
      ["SELECT * FROM read_blob('leak.csv')", /link/],
      ["SELECT * FROM read_text('leak')", /cannot be read/],
      ["SELECT * FROM 'https://example.com/data.csv'", /cannot be read|not a data file/],
    ])('refuses %s with a clear error', async (sql, message) => {
      const error = await failure(query, { sql });
      expect(['outside-workspace', 'not-found']).toContain(error.reason);
      expect(error.message).toMatch(message);
      expect(error.message).toContain('inside the workspace');
      expect(error.message).not.toContain('hunter2');
    });

    it('keeps confinement even when writes are allowed, and the configuration is locked', async () => {
      const { query: writable } = toolsWith({ readOnly: false });
      const copy = await failure(writable, { sql: `COPY (SELECT 1) TO '${join(parent, 'escaped.csv')}'` });
      expect(copy.reason).toBe('outside-workspace');
      expect(existsSync(join(parent, 'escaped.csv'))).toBe(false);
      const set = await failure(writable, { sql: 'SET enable_external_access = true' });
      expect(set.message).toMatch(/locked/);
      const attach = await failure(writable, { sql: `ATTACH '${join(parent, 'x.db')}'` });
      expect(attach.reason).toBe('outside-workspace');
      const install = await failure(writable, { sql: 'INSTALL httpfs' });
      expect(install.message).toMatch(/cannot be read or written|disabled/);
    });
  });

  describe('read-only mode', () => {
    it.each([
      "COPY (SELECT 1) TO 'copied.csv'",
      'CREATE TABLE t AS SELECT 1',
      'INSERT INTO t VALUES (1)',
      "ATTACH 'other.db'",
      'INSTALL excel',
      'LOAD excel',
      'SET threads = 8',
      'PRAGMA enable_profiling',
      "/* hidden */ COPY (SELECT 1) TO 'copied.csv'",
      "EXPLAIN ANALYZE COPY (SELECT 1) TO 'copied.csv'",
    ])('refuses %s and says what to do instead', async (sql) => {
      const error = await failure(query, { sql });
      expect(error.reason).toBe('read-only');
      expect(error.message).toContain('read-only');
      expect(error.message).toContain('outputPath');
      expect(existsSync(join(workspace, 'copied.csv'))).toBe(false);
    });

    it('runs one statement per call', async () => {
      const error = await failure(query, { sql: 'SELECT 1; SELECT 2' });
      expect(error.reason).toBe('read-only');
      expect(error.message).toContain('one statement per call (this SQL has 2)');
    });

    it('allows queries that only read: WITH, DESCRIBE, SUMMARIZE, EXPLAIN, EXPLAIN ANALYZE of a SELECT', async () => {
      expect(await call(query, { sql: "WITH s AS (FROM 'sales.csv') SELECT count(*) AS n FROM s;" })).toContain(
        '\nn\n5',
      );
      expect(await call(query, { sql: "DESCRIBE SELECT * FROM 'sales.csv'" })).toContain('region,VARCHAR');
      expect(await call(query, { sql: "SUMMARIZE 'sales.csv'" })).toMatch(/^4 rows/);
      expect(await call(query, { sql: "EXPLAIN SELECT * FROM 'sales.csv'" })).toContain('explain_value');
      expect(await call(query, { sql: "EXPLAIN ANALYZE SELECT * FROM 'sales.csv'" })).toContain('explain_value');
    });
  });

  describe('when writes are allowed', () => {
    it('keeps tables across the calls of one run and runs several statements', async () => {
      const { query: writable } = toolsWith({ readOnly: false });
      await call(writable, { sql: "CREATE TABLE east AS SELECT * FROM 'sales.csv' WHERE region = 'East'" });
      const text = await call(writable, { sql: 'INSERT INTO east SELECT * FROM east; SELECT count(*) AS n FROM east' });
      expect(text.split('\n').slice(1)).toEqual(['n', '4']);
    });

    it('writes with COPY to a file in the workspace', async () => {
      const { query: writable } = toolsWith({ readOnly: false });
      await call(writable, { sql: "COPY (SELECT 42 AS answer) TO 'out/answer.csv'" }).catch(() => undefined);
      mkdirSync(join(workspace, 'out'), { recursive: true });
      await call(writable, { sql: "COPY (SELECT 42 AS answer) TO 'out/answer.csv'" });
      expect(readFileSync(join(workspace, 'out', 'answer.csv'), 'utf8')).toBe('answer\n42\n');
      rmSync(join(workspace, 'out'), { recursive: true });
    });
  });

  describe('outputPath', () => {
    it('writes the full result as CSV, records it as an artifact, and shows only a summary', async () => {
      const { query: capped } = toolsWith({ maxRows: 2 });
      const text = await call(capped, {
        sql: "SELECT bucket, count(*) AS n FROM 'big.csv' GROUP BY bucket ORDER BY bucket -- by bucket",
        outputPath: 'results/buckets.csv',
      });
      expect(text).toMatch(/^Wrote 7 rows to results\/buckets\.csv \(CSV\)\./);
      const written = readFileSync(join(workspace, 'results', 'buckets.csv'), 'utf8')
        .trim()
        .split('\n');
      expect(written).toHaveLength(8);
      expect(written[1]).toBe('0,28572');
      expect(context.artifacts).toEqual([
        { path: 'results/buckets.csv', mediaType: 'text/csv', description: 'data.query result' },
      ]);
    });

    it('writes Parquet that reads back the same', async () => {
      await call(query, { sql: "SUMMARIZE 'sales.csv'", outputPath: 'results/summary.parquet' });
      const text = await call(query, { sql: "SELECT column_name FROM 'results/summary.parquet' ORDER BY 1" });
      expect(text.split('\n').slice(2)).toEqual(['amount', 'month', 'note', 'region']);
    });

    it('refuses an output outside the workspace or of another type', async () => {
      const outside = await failure(query, { sql: 'SELECT 1', outputPath: '../escaped.csv' });
      expect(outside.reason).toBe('outside-workspace');
      expect(existsSync(join(parent, 'escaped.csv'))).toBe(false);
      const type = await failure(query, { sql: 'SELECT 1', outputPath: 'result.xlsx' });
      expect(type.reason).toBe('unsupported-format');
      expect(type.message).toContain('.csv or .parquet');
    });
  });

  describe('errors that say how to fix the call', () => {
    it('lists the columns for an unknown column', async () => {
      const error = await failure(query, { sql: "SELECT regin FROM 'sales.csv'" });
      expect(error.reason).toBe('query-failed');
      expect(error.message).toContain('regin');
      expect(error.message).toContain('Columns of sales.csv: region VARCHAR, month DATE, amount DOUBLE, note VARCHAR.');
      expect(error.message).not.toContain(workspace);
    });

    it('lists the data files for an unknown file or table', async () => {
      const file = await failure(query, { sql: "SELECT * FROM 'salse.csv'" });
      expect(file.reason).toBe('not-found');
      expect(file.message).toContain('"salse.csv"');
      expect(file.message).toContain('Data files in the workspace: ');
      expect(file.message).toContain('data/scores.parquet');
      expect(file.message).not.toContain(workspace);
      const table = await failure(query, { sql: 'SELECT * FROM revenue' });
      expect(table.reason).toBe('not-found');
      expect(table.message).toContain('no table or data file named revenue');
      expect(table.message).toContain('sales.csv');
      expect(table.message).not.toContain('pg_');
    });

    it('keeps the DuckDB message of a syntax error and adds a hint', async () => {
      const error = await failure(query, { sql: "SELEC * FROM 'sales.csv'" });
      expect(error.message).toContain('Parser Error: syntax error at or near "SELEC"');
      expect(error.message).toContain("LINE 1: SELEC * FROM 'sales.csv'");
      expect(error.message).toContain('Hint: this is DuckDB SQL.');
    });

    it.skipIf(existsSync(join(homedir(), '.duckdb', 'extensions')) && hasInstalledExcel())(
      'says plainly that XLSX cannot be read offline',
      async () => {
        const error = await failure(query, { sql: "SELECT * FROM 'book.xlsx'" });
        expect(error.reason).toBe('unsupported-format');
        expect(error.message).toContain('excel extension');
        expect(error.message).toContain('offline');
        const bare = await failure(describeTool, { path: 'book.xlsx' });
        expect(bare.reason).toBe('unsupported-format');
      },
    );

    it('stops a query that runs past the time limit', async () => {
      const { query: quick } = toolsWith({ timeoutMs: 200 });
      const started = Date.now();
      const error = await failure(quick, { sql: 'SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3' });
      expect(error.reason).toBe('interrupted');
      expect(error.message).toContain('longer than 0.2 s');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await call(quick, { sql: 'SELECT 1 AS ok' })).toContain('\nok\n1');
    });

    it('stops a query when the run is stopped', async () => {
      const controller = new AbortController();
      const stoppable = createToolContext({ workspace, abortSignal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      const error = await failure(
        query,
        { sql: 'SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3' },
        stoppable,
      );
      expect(error.reason).toBe('interrupted');
      await stoppable.dispose();
    });

    it('needs a workspace', async () => {
      const bare = createToolContext();
      const error = await failure(query, { sql: 'SELECT 1' }, bare);
      expect(error.message).toContain('no workspace');
      await bare.dispose();
    });
  });

  it('keeps one database per run and removes its temporary files when the run ends', async () => {
    const run = createToolContext({ workspace });
    await call(query, { sql: 'SELECT 1' }, run);
    await call(describeTool, { path: 'sales.csv' }, run);
    // The tools' defaults: 1GB, 2 threads, 2GB of spill; the same key finds the session they opened.
    const defaults = { memoryLimit: '1GB', threads: 2, maxTempDirectorySize: '2GB' };
    const session = await duckDBSessionFor(run, realpathSync(workspace), defaults);
    await call(query, { sql: 'SELECT 2' }, run);
    expect(await duckDBSessionFor(run, realpathSync(workspace), defaults)).toBe(session);
    expect(existsSync(session.temporaryDirectory)).toBe(true);
    await run.dispose();
    expect(existsSync(session.temporaryDirectory)).toBe(false);
  });
});

describe('data.describe', () => {
  it('profiles a CSV: columns, types, rows, nulls, distinct, min, max and sample rows', async () => {
    const text = await call(describeTool, { path: 'sales.csv', sampleRows: 2 });
    expect(text).toBe(
      [
        'sales.csv: CSV, 5 rows, 4 columns.',
        '| column | type | nulls | distinct (approx.) | min | max |',
        '| --- | --- | --- | --- | --- | --- |',
        '| region | VARCHAR | 0 | 3 | East | West |',
        '| month | DATE | 0 | 5 | 2024-01-15 | 2024-03-01 |',
        '| amount | DOUBLE | 0 | 5 | 50.25 | 200 |',
        // The quoted "" is an empty string, the unquoted empty field the one NULL.
        '| note | VARCHAR | 1 | 4 |  | with, comma |',
        'First 2 rows (CSV):',
        'region,month,amount,note',
        'East,2024-01-15,100.5,first',
        'West,2024-01-20,200,',
      ].join('\n'),
    );
  });

  it('reports the nulls of a nullable Parquet column', async () => {
    const text = await call(describeTool, { path: 'data/scores.parquet', sampleRows: 0 });
    expect(text.split('\n')[0]).toBe('data/scores.parquet: PARQUET, 10 rows, 4 columns.');
    expect(text).toContain('| label | VARCHAR | 4 |');
    expect(text).not.toContain('First');
  });

  it('lists the data files when the file does not exist, and refuses paths outside', async () => {
    const missing = await failure(describeTool, { path: 'sales.parquet' });
    expect(missing.reason).toBe('not-found');
    expect(missing.message).toContain('Data files in the workspace: big.csv, book.xlsx, data/config.json');
    const outside = await failure(describeTool, { path: '../secret.csv' });
    expect(outside.reason).toBe('outside-workspace');
    const link = await failure(describeTool, { path: 'leak.csv' });
    expect(link.reason).toBe('outside-workspace');
    const other = await failure(describeTool, { path: 'notes.md' });
    expect(other.reason).toBe('unsupported-format');
  });
});

function hasInstalledExcel(): boolean {
  const base = join(homedir(), '.duckdb', 'extensions');
  try {
    return readdirSync(base, { recursive: true }).some((name) => String(name).endsWith('excel.duckdb_extension'));
  } catch {
    return false;
  }
}
