import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workspaceAccess } from '../files/workspace-access.js';
import { WorkspacePathError } from '../files/workspace-path.js';
import { createCallFiles } from './call-files.js';
import { scanSql } from './sql-file-references.js';

let workspace: string;
let root: string;

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), 'hataraku-sql-scan-'));
  root = realpathSync(workspace);
  mkdirSync(join(workspace, 'data'));
  writeFileSync(join(workspace, 'sales.csv'), 'a\n1\n');
  symlinkSync('/etc/passwd', join(workspace, 'escape.csv'));
});

afterAll(() => rmSync(workspace, { recursive: true, force: true }));

/** The shape of the rewrite: each reference becomes the workspace path it names. */
const plainPaths = (reference: string) => [`${root}/${reference}`];

/** The real resolver of the data tools: confined, checked descriptors. */
function checkedPaths() {
  const scratch = mkdtempSync(join(tmpdir(), 'hataraku-sql-scratch-'));
  const files = createCallFiles(workspaceAccess(workspace), scratch);
  return (reference: string) => files.resolve(reference);
}

describe('scanSql', () => {
  it('rewrites quoted data-file names to the paths the resolver gives, with a reader call after FROM', () => {
    const scanned = scanSql("SELECT * FROM 'sales.csv' JOIN read_parquet('data/*.parquet') USING (id)", plainPaths);
    expect(scanned.sql).toBe(
      `SELECT * FROM read_csv('${root}/sales.csv', allow_quoted_nulls = false) JOIN read_parquet('${root}/data/*.parquet') USING (id)`,
    );
    expect(scanned.files).toEqual(['sales.csv', 'data/*.parquet']);
  });

  it('rewrites double-quoted file identifiers and keeps the quoting style', () => {
    expect(scanSql('SELECT * FROM "sales.csv"', plainPaths).sql).toBe(
      `SELECT * FROM read_csv('${root}/sales.csv', allow_quoted_nulls = false)`,
    );
    expect(scanSql('SELECT "sales.csv".a FROM t', plainPaths).sql).toBe(`SELECT "${root}/sales.csv".a FROM t`);
  });

  it('leaves text values, comments, dollar-quoted and escape strings alone', () => {
    const sql = [
      "SELECT 'East' AS region, $$'x.csv'$$ AS d, E'y.csv' AS e -- 'z.csv'",
      "/* 'w.csv' */ FROM 'sales.csv' WHERE note = 'it''s fine'",
    ].join('\n');
    const scanned = scanSql(sql, plainPaths);
    expect(scanned.sql).toBe(
      sql.replace("FROM 'sales.csv'", `FROM read_csv('${root}/sales.csv', allow_quoted_nulls = false)`),
    );
    expect(scanned.files).toEqual(['sales.csv']);
  });

  it('escapes quotes in the path it writes back', () => {
    writeFileSync(join(workspace, "o'brien.csv"), 'a\n1\n');
    expect(scanSql("SELECT * FROM read_csv('o''brien.csv')", plainPaths).sql).toBe(
      `SELECT * FROM read_csv('${root}/o''brien.csv')`,
    );
  });

  it('reads a CSV file named as a table with quoted empty fields kept as empty strings', () => {
    expect(scanSql("SELECT * FROM 'sales.csv' t JOIN 'sales.csv' u ON true", plainPaths).sql).toBe(
      `SELECT * FROM read_csv('${root}/sales.csv', allow_quoted_nulls = false) t JOIN read_csv('${root}/sales.csv', allow_quoted_nulls = false) u ON true`,
    );
  });

  it('does not touch URLs; DuckDB refuses them itself', () => {
    const sql = "SELECT * FROM 'https://example.com/x.csv'";
    expect(scanSql(sql, plainPaths).sql).toBe(sql);
  });

  it('refuses absolute paths, paths out of the workspace and links that lead out', () => {
    expect(() => scanSql("SELECT * FROM '/etc/hosts.csv'", checkedPaths())).toThrow(WorkspacePathError);
    expect(() => scanSql("SELECT * FROM read_csv('../x.csv')", checkedPaths())).toThrow(/outside the workspace/);
    expect(() => scanSql("SELECT * FROM 'data/../../x.csv'", checkedPaths())).toThrow(/outside the workspace/);
    expect(() => scanSql("SELECT * FROM 'escape.csv'", checkedPaths())).toThrow(/link/);
    expect(() => scanSql("SELECT * FROM '.git/x.csv'", checkedPaths())).toThrow(/is protected/);
    expect(() => scanSql("SELECT * FROM '.ENV.csv'", checkedPaths())).toThrow(/is protected/);
  });

  it('collects lower-cased words and the offsets of top-level semicolons', () => {
    const scanned = scanSql("SELECT Region FROM Sales; SELECT ';' -- ;\n;", plainPaths);
    expect(scanned.words).toContain('sales');
    expect(scanned.words).toContain('region');
    expect(scanned.words).not.toContain(';');
    expect(scanned.semicolons).toEqual([24, scanned.sql.length - 1]);
  });

  it('hands DuckDB the checked descriptor, and expands a glob itself', () => {
    writeFileSync(join(workspace, 'data', 'a.csv'), 'a\n1\n');
    writeFileSync(join(workspace, 'data', 'b.csv'), 'a\n2\n');
    const scanned = scanSql("SELECT * FROM 'sales.csv' UNION ALL FROM read_csv('data/*.csv')", checkedPaths());
    expect(scanned.sql).toMatch(
      /^SELECT \* FROM read_csv\('\/proc\/self\/fd\/\d+', allow_quoted_nulls = false\) UNION ALL FROM read_csv\(\['\/proc\/self\/fd\/\d+', '\/proc\/self\/fd\/\d+'\]\)$/,
    );
  });

  it('copies an unterminated string through unchanged, for DuckDB to report', () => {
    const sql = "SELECT 'sales.csv";
    expect(scanSql(sql, plainPaths).sql).toBe(sql);
  });
});
