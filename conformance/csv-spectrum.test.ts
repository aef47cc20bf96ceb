/**
 * Conformance of `data.query` with csv-spectrum: for each of its CSV files, `SELECT *` through
 * the tool must give exactly the rows of the matching JSON file, compared as strings (the JSON
 * holds every value as a string; NULL, which the tool prints as an empty unquoted field, is not
 * equal to the empty string, which it prints as `""`).
 *
 * Two cases differ, both because the corpus copy disagrees with itself; each is marked
 * `it.fails` with the reason beside it, so the suite shows the difference instead of hiding it,
 * and a companion test shows what does hold. A quoted empty field reads as an empty string (the
 * tool reads a CSV named as a table with `allow_quoted_nulls = false`), as the JSON expects.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createDataTools } from '../src/toolchain/data/data-tools.js';
import { createToolContext } from '../src/tools/tool-context.js';

const corpus = fileURLToPath(new URL('../../shared/corpora/csv-spectrum/', import.meta.url));
const csvDirectory = join(corpus, 'csvs');
const jsonDirectory = join(corpus, 'json');

// Fails the whole file, loudly, when the corpus is missing: this suite must never pass empty.
if (!existsSync(csvDirectory)) {
  throw new Error(`csv-spectrum corpus not found at ${corpus}: the conformance suite reads ../shared/corpora`);
}

type Row = Record<string, string | null>;

const [query] = createDataTools();
if (query === undefined) throw new Error('createDataTools() returned no tools');
// The corpus directory is the workspace: the tool only reads it.
const context = createToolContext({ workspace: csvDirectory });
const scratch = mkdtempSync(join(tmpdir(), 'hataraku-csv-spectrum-'));
const scratchContext = createToolContext({ workspace: scratch });

afterAll(async () => {
  await context.dispose();
  await scratchContext.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

const names = readdirSync(csvDirectory)
  .filter((name) => name.endsWith('.csv'))
  .map((name) => basename(name, '.csv'))
  .sort();

/** Rows from the tool for `sql`, parsed back from its CSV output. */
async function rowsOf(sql: string, callContext = context): Promise<Row[]> {
  if (query === undefined) throw new Error('no data.query tool');
  const validation = query.validate({ sql });
  if (!validation.success) throw new Error(JSON.stringify(validation.issues));
  const text = String(await query.execute(validation.data, callContext));
  const firstLineEnd = text.indexOf('\n');
  const [header, ...records] = parseCsv(text.slice(firstLineEnd + 1));
  if (header === undefined) throw new Error(`no header in ${JSON.stringify(text)}`);
  return records.map((record) =>
    Object.fromEntries(header.map((column, index) => [column ?? '', record[index] ?? null])),
  );
}

/** The expected rows: the JSON is an array of objects, or (location_coordinates) one object. */
function expectedRows(name: string): Row[] {
  const parsed = JSON.parse(readFileSync(join(jsonDirectory, `${name}.json`), 'utf8')) as Row | Row[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

/**
 * RFC 4180 records, keeping the tool's convention: an empty unquoted field is NULL, `""` is the
 * empty string.
 */
function parseCsv(text: string): Array<Array<string | null>> {
  const records: Array<Array<string | null>> = [];
  let record: Array<string | null> = [];
  let index = 0;
  while (index <= text.length) {
    let value: string | null;
    if (text[index] === '"') {
      let end = index + 1;
      let content = '';
      for (;;) {
        const quote = text.indexOf('"', end);
        if (quote === -1) throw new Error('unterminated quoted field');
        content += text.slice(end, quote);
        if (text[quote + 1] === '"') {
          content += '"';
          end = quote + 2;
        } else {
          end = quote + 1;
          break;
        }
      }
      value = content;
      index = end;
    } else {
      let end = index;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++;
      const raw = text.slice(index, end);
      value = raw === '' ? null : raw;
      index = end;
    }
    record.push(value);
    if (text[index] === ',') {
      index++;
    } else {
      records.push(record);
      record = [];
      index++;
    }
  }
  return records;
}

/**
 * Cases where the tool's `SELECT *` does not give the JSON, and why. Everything else must match
 * exactly.
 */
const differences: Record<string, string> = {
  // DuckDB reads a quoted empty field ("") as NULL by default (read_csv's allow_quoted_nulls is
  // true) and infers columns b and c as BIGINT from "3" and "4"; the JSON expects empty strings.
  // The expected JSON disagrees with its own CSV: the CSV's phone number is 2095257564, the JSON
  // says 1234567890 (an upstream csv-spectrum inconsistency). The other fields match (tested below).
  location_coordinates: 'the JSON does not match its CSV',
  // This copy of the corpus has lost its carriage returns: newlines_crlf.csv has plain LF line
  // ends (check with `od -c`), while the JSON expects "Once upon \r\na time". A real CRLF file
  // parses to exactly the JSON (tested below).
  newlines_crlf: 'the CSV file has LF line ends, the JSON expects CRLF',
};

describe('csv-spectrum through data.query', () => {
  it('has the 12 files of the corpus, each with its JSON', () => {
    expect(names).toHaveLength(12);
    for (const name of names) expect(existsSync(join(jsonDirectory, `${name}.json`))).toBe(true);
  });

  for (const name of names) {
    const difference = differences[name];
    if (difference === undefined) {
      it(`SELECT * FROM '${name}.csv' gives exactly the expected rows`, async () => {
        expect(await rowsOf(`SELECT * FROM '${name}.csv'`)).toEqual(expectedRows(name));
      });
    } else {
      it.fails(`SELECT * FROM '${name}.csv' differs: ${difference}`, async () => {
        expect(await rowsOf(`SELECT * FROM '${name}.csv'`)).toEqual(expectedRows(name));
      });
    }
  }

  it.each(['empty', 'empty_crlf'])(
    '%s.csv matches exactly with read_csv(..., all_varchar=true, allow_quoted_nulls=false)',
    async (name) => {
      const rows = await rowsOf(`SELECT * FROM read_csv('${name}.csv', all_varchar=true, allow_quoted_nulls=false)`);
      expect(rows).toEqual(expectedRows(name));
    },
  );

  it('location_coordinates.csv gives the values its CSV holds', async () => {
    const [expected] = expectedRows('location_coordinates');
    const [row] = await rowsOf("SELECT * FROM 'location_coordinates.csv'");
    expect(row).toEqual({ ...expected, 'Contact Phone Number': '2095257564' });
    expect(readFileSync(join(csvDirectory, 'location_coordinates.csv'), 'utf8')).toContain('2095257564');
  });

  it('a real CRLF copy of newlines_crlf.csv gives exactly the expected rows, CR LF kept inside quotes', async () => {
    const lf = readFileSync(join(csvDirectory, 'newlines_crlf.csv'), 'utf8');
    expect(lf).not.toContain('\r');
    writeFileSync(join(scratch, 'newlines_crlf.csv'), lf.replaceAll('\n', '\r\n'));
    const rows = await rowsOf("SELECT * FROM 'newlines_crlf.csv'", scratchContext);
    expect(rows).toEqual(expectedRows('newlines_crlf'));
  });
});
