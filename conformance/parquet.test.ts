/**
 * Conformance of the data tools with Parquet files from apache/parquet-testing: every file is
 * described (row count, column names and types, nulls) and queried, plain, snappy and
 * dictionary encodings read the same rows, the delta-encoded file matches its expected CSV,
 * nested lists and maps print as readable literals, and nullable columns report their nulls.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createDataTools } from '../src/toolchain/data/data-tools.js';
import type { Tool } from '../src/tools/tool.js';
import { createToolContext } from '../src/tools/tool-context.js';

const corpus = fileURLToPath(new URL('../../shared/corpora/parquet/', import.meta.url));

// Fails the whole file, loudly, when the corpus is missing: this suite must never pass empty.
if (!existsSync(corpus)) {
  throw new Error(`Parquet corpus not found at ${corpus}: the conformance suite reads ../shared/corpora`);
}

const [query, describeTool] = createDataTools();
const context = createToolContext({ workspace: corpus });

afterAll(() => context.dispose());

async function call(target: Tool | undefined, args: Record<string, unknown>): Promise<string> {
  if (target === undefined) throw new Error('createDataTools() returned too few tools');
  const validation = target.validate(args);
  if (!validation.success) throw new Error(JSON.stringify(validation.issues));
  return String(await target.execute(validation.data, context));
}

/** The CSV lines of a query result (header first), without the summary line. */
async function csvOf(sql: string): Promise<string[]> {
  return (await call(query, { sql })).split('\n').slice(1);
}

const allTypesColumns = [
  'id INTEGER',
  'bool_col BOOLEAN',
  'tinyint_col INTEGER',
  'smallint_col INTEGER',
  'int_col INTEGER',
  'bigint_col BIGINT',
  'float_col FLOAT',
  'double_col DOUBLE',
  'date_string_col BLOB',
  'string_col BLOB',
  'timestamp_col TIMESTAMP',
];

/** What each file holds, per the parquet-testing documentation and the files' schemas. */
const expectedFiles: Record<string, { rows: number; columns: string[] }> = {
  'alltypes_plain.parquet': { rows: 8, columns: allTypesColumns },
  'alltypes_plain.snappy.parquet': { rows: 2, columns: allTypesColumns },
  'alltypes_dictionary.parquet': { rows: 2, columns: allTypesColumns },
  'delta_encoding_required_column.parquet': {
    rows: 100,
    columns: [
      ...[
        'c_customer_sk',
        'c_current_cdemo_sk',
        'c_current_hdemo_sk',
        'c_current_addr_sk',
        'c_first_shipto_date_sk',
        'c_first_sales_date_sk',
        'c_birth_day',
        'c_birth_month',
        'c_birth_year',
      ].map((name) => `${name}: INTEGER`),
      ...[
        'c_customer_id',
        'c_salutation',
        'c_first_name',
        'c_last_name',
        'c_preferred_cust_flag',
        'c_birth_country',
        'c_email_address',
        'c_last_review_date',
      ].map((name) => `${name}: VARCHAR`),
    ],
  },
  'nested_lists.snappy.parquet': { rows: 3, columns: ['a VARCHAR[][][]', 'b INTEGER'] },
  'nested_maps.snappy.parquet': {
    rows: 6,
    columns: ['a MAP(VARCHAR, MAP(INTEGER, BOOLEAN))', 'b INTEGER', 'c DOUBLE'],
  },
  'nullable.impala.parquet': {
    rows: 7,
    columns: [
      'id BIGINT',
      'int_array INTEGER[]',
      'int_array_Array INTEGER[][]',
      'int_map MAP(VARCHAR, INTEGER)',
      'int_Map_Array MAP(VARCHAR, INTEGER)[]',
      'nested_struct STRUCT("A" INTEGER, "b" INTEGER[], "C" STRUCT("d" STRUCT("E" INTEGER, "F" VARCHAR)[][]), "g" MAP(VARCHAR, STRUCT("H" STRUCT("i" DOUBLE[]))))',
    ],
  },
};

/** The describe table's rows: column → [type, nulls]. */
function describedColumns(text: string): Map<string, { type: string; nulls: number }> {
  const columns = new Map<string, { type: string; nulls: number }>();
  for (const line of text.split('\n')) {
    const cells = /^\| (.+?) \| (.+?) \| (\d+) \| \d+ \|/.exec(line);
    if (cells) columns.set(cells[1] as string, { type: cells[2] as string, nulls: Number(cells[3]) });
  }
  return columns;
}

describe('Parquet corpus through the data tools', () => {
  const files = readdirSync(corpus)
    .filter((name) => name.endsWith('.parquet'))
    .sort();

  it('covers every Parquet file of the corpus', () => {
    expect(files).toEqual(Object.keys(expectedFiles).sort());
  });

  for (const file of files) {
    it(`describes and queries ${file}: row count, column names and types`, async () => {
      const expected = expectedFiles[file];
      if (expected === undefined) throw new Error(`no expectation for ${file}`);
      const described = await call(describeTool, { path: file, sampleRows: 2 });
      expect(described.split('\n')[0]).toBe(
        `${file}: PARQUET, ${expected.rows} rows, ${expected.columns.length} columns.`,
      );
      expect(described).toContain('First 2 rows (CSV):');
      const queried = await call(query, { sql: `SELECT * FROM '${file}'` });
      expect(queried.split('\n')[0]).toBe(`${expected.rows} rows; columns: ${expected.columns.join(', ')}`);
      const count = await csvOf(`SELECT count(*) AS n FROM '${file}'`);
      expect(count).toEqual(['n', String(expected.rows)]);
    });
  }

  it('reads every row of alltypes_plain with its values, and plain, snappy and dictionary files agree', async () => {
    const plain = await csvOf("SELECT * FROM 'alltypes_plain.parquet' ORDER BY id");
    expect(plain).toEqual([
      'id,bool_col,tinyint_col,smallint_col,int_col,bigint_col,float_col,double_col,date_string_col,string_col,timestamp_col',
      '0,true,0,0,0,0,0,0,01/01/09,0,2009-01-01 00:00:00',
      '1,false,1,1,1,10,1.1,10.1,01/01/09,1,2009-01-01 00:01:00',
      '2,true,0,0,0,0,0,0,02/01/09,0,2009-02-01 00:00:00',
      '3,false,1,1,1,10,1.1,10.1,02/01/09,1,2009-02-01 00:01:00',
      '4,true,0,0,0,0,0,0,03/01/09,0,2009-03-01 00:00:00',
      '5,false,1,1,1,10,1.1,10.1,03/01/09,1,2009-03-01 00:01:00',
      '6,true,0,0,0,0,0,0,04/01/09,0,2009-04-01 00:00:00',
      '7,false,1,1,1,10,1.1,10.1,04/01/09,1,2009-04-01 00:01:00',
    ]);
    const snappy = await csvOf("SELECT * FROM 'alltypes_plain.snappy.parquet' ORDER BY id");
    expect(snappy).toEqual([plain[0], plain[7], plain[8]]);
    const dictionary = await csvOf("SELECT * FROM 'alltypes_dictionary.parquet' ORDER BY id");
    expect(dictionary).toEqual([plain[0], plain[1], plain[2]]);
  });

  it('reads the delta-encoded file exactly as its expected CSV', async () => {
    const actual = await csvOf("SELECT * FROM 'delta_encoding_required_column.parquet'");
    const expected = readFileSync(join(corpus, 'delta_encoding_required_column_expect.csv'), 'utf8')
      .trim()
      .split('\n')
      // The expected CSV quotes every field; the tool quotes only fields that need it.
      .map((line) =>
        line
          .slice(1, -1)
          .split('","')
          .map((field) => (field.includes(',') ? `"${field}"` : field))
          .join(','),
      );
    expect(actual).toHaveLength(101);
    // Column names differ only in spelling: the Parquet schema ends each name with ':', and the
    // expected CSV writes " c_customer_id" with a leading space.
    const normalise = (header: string) =>
      header
        .split(',')
        .map((name) => name.trim().replace(/:$/, ''))
        .join(',');
    expect(normalise(actual[0] as string)).toBe(normalise(expected[0] as string));
    expect(actual.slice(1)).toEqual(expected.slice(1));
  });

  it('prints nested lists as list literals, NULL included', async () => {
    expect(await csvOf("SELECT * FROM 'nested_lists.snappy.parquet'")).toEqual([
      'a,b',
      `"[[['a', 'b'], ['c']], [NULL, ['d']]]",1`,
      `"[[['a', 'b'], ['c', 'd']], [NULL, ['e']]]",1`,
      `"[[['a', 'b'], ['c', 'd'], ['e']], [NULL, ['f']]]",1`,
    ]);
    const flattened = await csvOf(
      "SELECT string_agg(x, '') AS letters FROM (SELECT unnest(flatten(flatten(a))) AS x FROM 'nested_lists.snappy.parquet')",
    );
    expect(flattened).toEqual(['letters', 'abcdabcdeabcdef']);
  });

  it('prints nested maps as map literals, and their keys can be looked up', async () => {
    expect(await csvOf("SELECT a FROM 'nested_maps.snappy.parquet'")).toEqual([
      'a',
      `"{'a': {1: true, 2: false}}"`,
      `{'b': {1: true}}`,
      `{'c': NULL}`,
      `{'d': {}}`,
      `{'e': {1: true}}`,
      `"{'f': {3: true, 4: false, 5: true}}"`,
    ]);
    expect(await csvOf("SELECT a['f'][4] AS f4 FROM 'nested_maps.snappy.parquet' WHERE map_contains(a, 'f')")).toEqual([
      'f4',
      'false',
    ]);
  });

  it('reports the nulls of nullable columns, and NULL rows print as empty fields', async () => {
    const described = describedColumns(await call(describeTool, { path: 'nullable.impala.parquet', sampleRows: 0 }));
    expect([...described].map(([name, column]) => [name, column.nulls])).toEqual([
      ['id', 0],
      ['int_array', 4],
      ['int_array_Array', 2],
      ['int_map', 1],
      ['int_Map_Array', 3],
      ['nested_struct', 1],
    ]);
    const counted = await csvOf(
      "SELECT count(*) FILTER (WHERE int_array IS NULL) AS a, count(*) FILTER (WHERE int_array_Array IS NULL) AS aa, count(*) FILTER (WHERE int_map IS NULL) AS m, count(*) FILTER (WHERE int_Map_Array IS NULL) AS ma, count(*) FILTER (WHERE nested_struct IS NULL) AS s FROM 'nullable.impala.parquet'",
    );
    expect(counted).toEqual(['a,aa,m,ma,s', '4,2,1,3,1']);
    expect(await csvOf("SELECT * FROM 'nullable.impala.parquet' WHERE id = 6")).toEqual([
      'id,int_array,int_array_Array,int_map,int_Map_Array,nested_struct',
      '6,,,,,',
    ]);
    expect(await csvOf("SELECT int_array, int_map FROM 'nullable.impala.parquet' WHERE id = 2")).toEqual([
      'int_array,int_map',
      `"[NULL, 1, 2, NULL, 3, NULL]","{'k1': 2, 'k2': NULL}"`,
    ]);
  });
});
