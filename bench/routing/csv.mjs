/**
 * A small RFC 4180 CSV parser: comma-separated fields, double-quoted fields that may hold commas,
 * line breaks and doubled quotes (`""`), and records ended by CRLF or LF. The RouteLLM responses
 * file needs exactly this: model answers are multi-line, quoted fields.
 */

/**
 * Parse CSV text into records (arrays of field strings). A trailing line break does not make an
 * empty last record. Throws a SyntaxError naming the line when a quoted field is not closed or a
 * quote appears after a closing quote.
 *
 * @param {string} text
 * @returns {string[][]}
 */
export function parseCsv(text) {
  const records = [];
  let record = [];
  let field = '';
  let index = 0;
  let line = 1;
  // True once the current record has any content, so that a final newline adds no empty record.
  let recordStarted = false;
  const length = text.length;
  while (index < length) {
    const character = text[index];
    if (character === '"' && field === '') {
      // A quoted field: read to the closing quote, turning "" into ".
      const openedOnLine = line;
      index += 1;
      let closed = false;
      while (index < length) {
        const inner = text[index];
        if (inner === '"') {
          if (text[index + 1] === '"') {
            field += '"';
            index += 2;
            continue;
          }
          closed = true;
          index += 1;
          break;
        }
        if (inner === '\n') line += 1;
        field += inner;
        index += 1;
      }
      if (!closed) throw new SyntaxError(`CSV: quoted field opened on line ${openedOnLine} is never closed`);
      const next = text[index];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new SyntaxError(`CSV: unexpected ${JSON.stringify(next)} after a closing quote on line ${line}`);
      }
      recordStarted = true;
      continue;
    }
    if (character === ',') {
      record.push(field);
      field = '';
      recordStarted = true;
      index += 1;
      continue;
    }
    if (character === '\r' || character === '\n') {
      if (character === '\r' && text[index + 1] === '\n') index += 1;
      index += 1;
      line += 1;
      if (recordStarted || field !== '') {
        record.push(field);
        records.push(record);
      }
      record = [];
      field = '';
      recordStarted = false;
      continue;
    }
    field += character;
    recordStarted = true;
    index += 1;
  }
  if (recordStarted || field !== '') {
    record.push(field);
    records.push(record);
  }
  return records;
}

/**
 * Parse CSV text whose first record is a header into objects keyed by the header's names.
 * Throws a SyntaxError when a record's field count differs from the header's.
 *
 * @param {string} text
 * @returns {{ columns: string[], rows: Record<string, string>[] }}
 */
export function parseCsvWithHeader(text) {
  const [columns, ...records] = parseCsv(text);
  if (columns === undefined) return { columns: [], rows: [] };
  const rows = records.map((record, recordIndex) => {
    if (record.length !== columns.length) {
      throw new SyntaxError(
        `CSV: record ${recordIndex + 1} has ${record.length} fields, the header has ${columns.length}`,
      );
    }
    return Object.fromEntries(columns.map((name, column) => [name, record[column]]));
  });
  return { columns, rows };
}
