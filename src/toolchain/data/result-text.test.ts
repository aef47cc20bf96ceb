import { describe, expect, it } from 'vitest';
import { csvField, formatQueryResult, plainNumber, shortestFloat32 } from './result-text.js';

describe('plainNumber', () => {
  it('never uses scientific notation', () => {
    expect(plainNumber(2 ** 70)).toBe('1180591620717411300000');
    expect(plainNumber(1e21)).toBe('1000000000000000000000');
    expect(plainNumber(1.5e-7)).toBe('0.00000015');
    expect(plainNumber(-2.5e-9)).toBe('-0.0000000025');
    expect(plainNumber(1.25e22)).toBe('12500000000000000000000');
  });

  it('keeps ordinary numbers as JS prints them', () => {
    expect(plainNumber(1.1)).toBe('1.1');
    expect(plainNumber(-42)).toBe('-42');
    expect(plainNumber(Number.NaN)).toBe('NaN');
    expect(plainNumber(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
  });
});

describe('shortestFloat32', () => {
  it('prints the fewest digits that identify a 32-bit float', () => {
    expect(shortestFloat32(Math.fround(0.1))).toBe('0.1');
    expect(shortestFloat32(Math.fround(123.456))).toBe('123.456');
    expect(shortestFloat32(Math.fround(1e-8))).toBe('0.00000001');
  });
});

describe('csvField', () => {
  it('quotes only what needs quoting, and tells NULL from the empty string', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('')).toBe('""');
    expect(csvField(null)).toBe('');
  });
});

describe('formatQueryResult', () => {
  const columns = [
    { name: 'region', type: 'VARCHAR' },
    { name: 'total', type: 'DOUBLE' },
  ];
  const limits = { maxRows: 2, maxCellCharacters: 100, maxOutputCharacters: 10_000 };

  it('states the row count and the column types, then the CSV', () => {
    const text = formatQueryResult(
      { columns, rows: [['East', '10.5']], totalRows: 1, cellsCut: false },
      { ...limits, maxRows: 5 },
    );
    expect(text).toBe('1 row; columns: region VARCHAR, total DOUBLE\nregion,total\nEast,10.5');
  });

  it('states the row cap and how to see the rest when rows are left out', () => {
    const text = formatQueryResult(
      {
        columns,
        rows: [
          ['East', '1'],
          ['West', '2'],
        ],
        totalRows: 7,
        cellsCut: true,
      },
      limits,
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('7 rows (showing the first 2: the row cap of 2); columns: region VARCHAR, total DOUBLE');
    expect(lines).toContain('West,2');
    expect(text).toContain('[truncated: 5 more rows not shown.');
    expect(text).toContain('outputPath');
    expect(text).toContain('[long values were cut to 100 characters]');
  });

  it('drops rows to stay under the output size cap, and says so', () => {
    const rows = Array.from({ length: 50 }, (_, index) => [`region-${index}`, String(index)]);
    const text = formatQueryResult(
      { columns, rows, totalRows: 50, cellsCut: false },
      {
        ...limits,
        maxRows: 50,
        maxOutputCharacters: 200,
      },
    );
    expect(text.split('\n')[0]).toMatch(/^50 rows \(showing the first \d+: the output size cap of 200 characters\)/);
    expect(text).not.toContain('region-49');
  });
});
