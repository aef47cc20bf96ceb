/**
 * Security suite, data tools: protected entries, the descriptors DuckDB is handed, writes in
 * `readOnly: false`, and a link flipped while queries run. DuckDB must never read or write a
 * protected entry or anything outside the workspace, whatever the SQL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Tool } from '../../tools/tool.js';
import { createToolContext, type StandaloneToolContext } from '../../tools/tool-context.js';
import { DataToolError } from './data-tool-error.js';
import { createDataTools } from './data-tools.js';

let workspace: string;
let outside: string;
let context: StandaloneToolContext;

beforeEach(() => {
  workspace = realpathSync(mkdtempSync(join(tmpdir(), 'hataraku-data-security-')));
  outside = realpathSync(mkdtempSync(join(tmpdir(), 'hataraku-data-outside-')));
  writeFileSync(join(outside, 'secret.csv'), 'secret\nTOP-SECRET\n');
  writeFileSync(join(workspace, 'sales.csv'), 'region,amount\nEast,1\n');
  writeFileSync(join(workspace, '.env'), 'OPENAI_API_KEY=sk-env-secret\n');
  writeFileSync(join(workspace, '.env.csv'), 'key\nsk-env-csv-secret\n');
  mkdirSync(join(workspace, '.git'));
  writeFileSync(join(workspace, '.git', 'config'), '[core]\n');
  writeFileSync(join(workspace, '.git', 'refs.csv'), 'ref\ngit-secret\n');
  mkdirSync(join(workspace, '.hataraku'));
  writeFileSync(join(workspace, '.hataraku', 'results.csv'), 'x\njournal-secret\n');
  writeFileSync(join(workspace, 'hataraku.config.json'), '{"model":"openai:gpt-4o-mini"}');
  context = createToolContext({ workspace });
});

afterEach(async () => {
  await context.dispose();
});

function tools(readOnly = true): { query: Tool; describe: Tool } {
  const [query, describeTool] = createDataTools({ readOnly });
  if (query === undefined || describeTool === undefined) throw new Error('createDataTools returned too few tools');
  return { query, describe: describeTool };
}

/** The tool's answer, or the message of its error. */
async function answer(target: Tool, args: Record<string, unknown>): Promise<string> {
  const validation = target.validate(args);
  if (!validation.success) throw new Error(`invalid arguments: ${JSON.stringify(validation.issues)}`);
  try {
    return String(await target.execute(validation.data, context));
  } catch (error) {
    if (error instanceof DataToolError) return `${error.reason}: ${error.message}`;
    throw error;
  }
}

const secrets = /sk-env|git-secret|journal-secret|TOP-SECRET|gpt-4o|\[core\]/;

describe('data tools: protected entries', () => {
  it.each([
    "SELECT * FROM '.env.csv'",
    "SELECT * FROM '.ENV.csv'",
    "SELECT * FROM read_csv('.git/refs.csv')",
    "SELECT * FROM '.hataraku/results.csv'",
    "SELECT * FROM read_csv('./.git/../.git/refs.csv')",
    "SELECT * FROM read_json_auto('hataraku.config.json')",
  ])('refuses %s by name', async (sql) => {
    const text = await answer(tools().query, { sql });
    expect(text).toMatch(/^outside-workspace: .*is protected/);
    expect(text).not.toMatch(secrets);
  });

  it('refuses the absolute path of a protected entry, typed out by the model', async () => {
    for (const sql of [
      `SELECT * FROM read_text('${workspace}/.env')`,
      `SELECT * FROM read_csv('${workspace}/.git/config', delim='|')`,
      `SELECT * FROM read_text('${workspace}/' || '.env')`,
      `SELECT * FROM read_blob('${workspace}/.hataraku/results.csv')`,
      `SELECT * FROM glob('${workspace}/*')`,
      `SELECT * FROM read_text('${workspace}/sales.csv')`,
    ]) {
      const text = await answer(tools().query, { sql });
      expect(text, sql).not.toMatch(secrets);
      expect(text, sql).not.toMatch(/East,1/);
      expect(text, sql).toMatch(/cannot be read|outside-workspace|absolute/);
    }
  });

  it('expands globs without protected entries, and never into them', async () => {
    const text = await answer(tools().query, {
      sql: "SELECT count(*) AS n FROM read_csv('**/*.csv', union_by_name = true)",
    });
    expect(text).toMatch(/\nn\n1$/);
    expect(await answer(tools().query, { sql: "SELECT * FROM '.git/*.csv'" })).toMatch(/is protected/);
    expect(await answer(tools().query, { sql: "SELECT * FROM '*/refs.csv'" })).toMatch(/^not-found: no file/);
  });

  it('does not let SQL guess at descriptors it was not handed', async () => {
    for (const descriptor of [0, 1, 2, 3, 10, 20, 30]) {
      const text = await answer(tools().query, { sql: `SELECT * FROM read_text('/proc/self/fd/${descriptor}')` });
      expect(text).toMatch(/cannot be read|outside-workspace/);
    }
  });

  it('describes and lists data files without protected ones', async () => {
    const text = await answer(tools().describe, { path: 'missing.csv' });
    expect(text).toMatch(/^not-found: There is no file "missing.csv"/);
    expect(text).toContain('Data files in the workspace: sales.csv.');
    expect(await answer(tools().describe, { path: '.env.csv' })).toMatch(/is protected/);
  });

  it('refuses a hard link to a file outside', async () => {
    linkSync(join(outside, 'secret.csv'), join(workspace, 'alias.csv'));
    const text = await answer(tools().query, { sql: "SELECT * FROM 'alias.csv'" });
    expect(text).toMatch(/has 2 hard links/);
    expect(text).not.toMatch(secrets);
  });
});

describe('data tools: writes when allowed', () => {
  it('writes COPY output into the workspace only, never over a protected entry or outside', async () => {
    const { query } = tools(false);
    expect(await answer(query, { sql: "COPY (SELECT 42 AS answer) TO 'out/answer.csv'" })).not.toMatch(/^\w+-\w+:/);
    expect(readFileSync(join(workspace, 'out', 'answer.csv'), 'utf8')).toBe('answer\n42\n');
    expect(await answer(query, { sql: "COPY (SELECT 1 AS x) TO '.env.csv'" })).toMatch(/is protected/);
    expect(readFileSync(join(workspace, '.env.csv'), 'utf8')).toContain('sk-env-csv-secret');
    expect(await answer(query, { sql: `COPY (SELECT 1 AS x) TO '${workspace}/.git/hooks.csv'` })).toMatch(
      /absolute|outside-workspace/,
    );
    expect(await answer(query, { sql: `COPY (SELECT 1 AS x) TO '${workspace}/' || 'x.csv'` })).toMatch(
      /syntax|cannot|outside|query-failed/,
    );
    expect(existsSync(join(workspace, '.git', 'hooks.csv'))).toBe(false);
    for (const sql of [
      `ATTACH '${workspace}/.hataraku/hataraku.db' AS journal`,
      'INSTALL httpfs',
      'LOAD httpfs',
      "SET allowed_directories = ['/']",
      `COPY (SELECT 1) TO '${outside}/x.csv'`,
    ]) {
      const text = await answer(query, { sql });
      expect(text, sql).toMatch(/^(?:outside-workspace|query-failed|not-found|read-only):/);
    }
    expect(readdirSync(outside)).toEqual(['secret.csv']);
  });
});

describe('data tools: the write limit (maxWriteBytes)', () => {
  const limit = 20_000_000;
  // About 200 MB a second here: 4 GB of rows would fill a disk in a default two-minute call.
  const endless = 'SELECT range AS a, md5(range::VARCHAR) AS b FROM range(100000000)';

  function limited(readOnly: boolean): Tool {
    const [query] = createDataTools({ readOnly, maxWriteBytes: limit, threads: 1 });
    if (query === undefined) throw new Error('createDataTools returned no tools');
    return query;
  }

  // The data tools keep their private directories in the temp dir: this block gets a temp dir
  // of its own, so that the files another test file's calls have open at the same moment (test
  // files run in parallel) are not taken for ones these calls left behind.
  let sharedTemporaryDirectory: string | undefined;
  beforeAll(() => {
    sharedTemporaryDirectory = process.env.TMPDIR;
    process.env.TMPDIR = mkdtempSync(join(tmpdir(), 'hataraku-data-write-limit-'));
  });
  afterAll(() => {
    if (sharedTemporaryDirectory === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = sharedTemporaryDirectory;
  });

  /** The CSV files under the private directories the data tools keep in the temp dir. */
  function privateFiles(): string[] {
    return readdirSync(tmpdir())
      .filter((name) => name.startsWith('hataraku-duckdb-'))
      .flatMap((name) =>
        readdirSync(join(tmpdir(), name), { recursive: true, encoding: 'utf8' }).map((file) => join(name, file)),
      )
      .filter((name) => name.endsWith('.csv'));
  }
  let before: string[] = [];
  beforeEach(() => {
    before = privateFiles();
  });
  const newPrivateFiles = () => privateFiles().filter((file) => !before.includes(file));

  it('stops an outputPath that writes past it, and keeps nothing it wrote', async () => {
    const text = await answer(limited(true), { sql: endless, outputPath: 'huge.csv' });
    expect(text).toMatch(/^write-limit: The query wrote more than 20000000 bytes to disk .* nothing it wrote was kept/);
    expect(existsSync(join(workspace, 'huge.csv'))).toBe(false);
    expect(newPrivateFiles()).toEqual([]);
  });

  it('stops COPY … TO and CREATE TABLE past it when writes are allowed', async () => {
    const copied = await answer(limited(false), { sql: `COPY (${endless}) TO 'huge.csv'` });
    expect(copied).toMatch(/^write-limit: /);
    expect(existsSync(join(workspace, 'huge.csv'))).toBe(false);
    const created = await answer(limited(false), { sql: `CREATE TABLE huge AS ${endless}` });
    expect(created).toMatch(/^write-limit: /);
    // The table was rolled back; the database still answers.
    expect(
      await answer(limited(false), { sql: "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'huge'" }),
    ).toMatch(/\b0\b/);
  });

  it("lets a result under it through, and removes the call's copy of it", async () => {
    const text = await answer(limited(true), { sql: 'SELECT range AS a FROM range(1000)', outputPath: 'small.csv' });
    expect(text).toMatch(/^Wrote 1000 rows to small.csv/);
    expect(readFileSync(join(workspace, 'small.csv'), 'utf8').split('\n')[1]).toBe('0');
    expect(newPrivateFiles()).toEqual([]);
  });
});

describe('data tools: other spellings of a path, and partitioned writes', () => {
  it('refuses a protected name spelt with dollar quotes, escape strings, /proc/self/cwd or /proc/self/root', async () => {
    // The host's working directory is the workspace, as with the CLI run in a project.
    const previous = process.cwd();
    process.chdir(workspace);
    try {
      for (const sql of [
        'SELECT * FROM read_text($$.env$$)',
        "SELECT * FROM read_text(E'.\\x65nv')",
        "SELECT * FROM read_text(concat('.e', 'nv'))",
        "SELECT * FROM read_text('/proc/self/cwd/.env')",
        `SELECT * FROM read_text('/proc/self/root${workspace}/.env')`,
        "SELECT * FROM read_text('file:.env')",
        "SELECT * FROM sniff_csv('.env.csv')",
      ]) {
        const text = await answer(tools().query, { sql });
        expect(text, sql).not.toMatch(secrets);
        expect(text, sql).toMatch(/^outside-workspace:/);
      }
    } finally {
      process.chdir(previous);
    }
  });

  it('keeps a partitioned COPY inside the workspace, whatever the partition values and file pattern', async () => {
    const { query } = tools(false);
    for (const sql of [
      "COPY (SELECT '../../../../../../tmp' AS a, 1 AS b) TO 'parts.csv' (FORMAT csv, PARTITION_BY (a))",
      "COPY (SELECT '.git' AS a, 1 AS b) TO 'parts.csv' (FORMAT csv, PARTITION_BY (a))",
    ]) {
      expect(await answer(query, { sql }), sql).not.toMatch(/^\w+-\w+:/);
    }
    for (const sql of [
      `COPY (SELECT 'x' AS a, 1 AS b) TO 'parts.csv' (FORMAT csv, PARTITION_BY (a), FILENAME_PATTERN '../../../../../..${outside}/escape-{i}')`,
      "COPY (SELECT 'x' AS a, 1 AS b) TO 'parts.csv' (FORMAT csv, PARTITION_BY (a), FILENAME_PATTERN '../../.env')",
      "COPY (SELECT 1 AS b) TO 'parts.csv' (FORMAT csv, PER_THREAD_OUTPUT, FILENAME_PATTERN '../.env')",
    ]) {
      expect(await answer(query, { sql }), sql).toMatch(/^outside-workspace:/);
    }
    expect(readdirSync(outside)).toEqual(['secret.csv']);
    expect(readFileSync(join(workspace, '.env'), 'utf8')).toBe('OPENAI_API_KEY=sk-env-secret\n');
    expect(readdirSync(join(workspace, 'parts.csv')).sort()).toEqual(['a=..%2F..%2F..%2F..%2F..%2F..%2Ftmp', 'a=.git']);
  });
});

describe('data tools: check-then-use races', () => {
  let flipper: ChildProcess | undefined;
  afterEach(() => {
    flipper?.kill('SIGKILL');
    flipper = undefined;
  });

  it('a link flipped between inside and outside never lets DuckDB read outside', async () => {
    mkdirSync(join(workspace, 'inside'));
    writeFileSync(join(workspace, 'inside', 'secret.csv'), 'secret\ninside\n');
    symlinkSync('inside', join(workspace, 'flip'));
    const script = `
      const fs = require('node:fs');
      const [workspace, outside] = process.argv.slice(1);
      let i = 0;
      for (;;) {
        const temporary = workspace + '/flip.' + (i % 2);
        try { fs.unlinkSync(temporary); } catch {}
        fs.symlinkSync(i % 2 === 0 ? outside : 'inside', temporary);
        fs.renameSync(temporary, workspace + '/flip');
        i++;
      }`;
    flipper = spawn(process.execPath, ['-e', script, workspace, outside], { stdio: 'ignore' });
    const { query } = tools();
    let read = 0;
    let refused = 0;
    for (let round = 0; round < 300; round++) {
      const text = await answer(query, { sql: "SELECT secret FROM 'flip/secret.csv'" });
      expect(text).not.toContain('TOP-SECRET');
      if (text.endsWith('\ninside')) read++;
      else refused++;
    }
    expect(read).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  }, 120_000);
});
