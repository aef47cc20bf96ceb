/** Each kind of check against a real workspace: real DuckDB for SQL, the real QuickJS sandbox for JS. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createScriptedModel } from '../../models/scripted/scripted-model.js';
import type { EvalCheck } from '../suite-schema.js';
import { checksPassed, runCheck } from './run-checks.js';

function workspace(): string {
  const directory = mkdtempSync(join(tmpdir(), 'hataraku-checks-'));
  mkdirSync(join(directory, 'out'));
  writeFileSync(join(directory, 'out', 'totals.csv'), 'region,revenue\nNorth,120.5\nSouth,80\n');
  writeFileSync(join(directory, 'report.md'), '# Report\n\nNorth leads with $120.50.\n');
  return directory;
}

async function verdict(check: EvalCheck, output: string | object = 'The total is 200.5 dollars.') {
  return runCheck(check, { output: output as never, workspace: workspace() });
}

describe('checks', () => {
  it('exact, regex and number read the final output', async () => {
    expect((await verdict({ exact: 'yes' }, ' yes \n')).passed).toBe(true);
    expect((await verdict({ exact: 'YES', caseSensitive: false }, 'yes')).passed).toBe(true);
    expect((await verdict({ exact: 'yes' }, 'yes!')).passed).toBe(false);
    expect((await verdict({ regex: 'total is \\d+' })).passed).toBe(true);
    expect((await verdict({ regex: 'average' })).passed).toBe(false);
    expect((await verdict({ number: 200, tolerance: 1 })).passed).toBe(true);
    expect((await verdict({ number: 200, tolerance: 0.1 })).detail).toBe('found 200.5');
    expect((await verdict({ number: 7, field: 'count' }, { count: 7 })).passed).toBe(true);
    expect((await verdict({ number: 7, field: 'count' }, '{"total": 7}')).passed).toBe(false);
  });

  it('jsonSchema validates a JSON output', async () => {
    const schema = { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } };
    expect((await verdict({ jsonSchema: schema }, '{"n": 3}')).passed).toBe(true);
    const wrong = await verdict({ jsonSchema: schema }, '{"n": "three"}');
    expect(wrong.passed).toBe(false);
    expect(wrong.detail).toMatch(/\/n must be integer/);
    expect((await verdict({ jsonSchema: schema }, 'not json at all')).detail).toBe('the output is not JSON');
  });

  it('file checks existence and content, and never looks outside the workspace', async () => {
    expect((await verdict({ file: 'report.md', contains: '$120.50' })).passed).toBe(true);
    expect((await verdict({ file: 'report.md', matches: '^# Report$' })).passed).toBe(true);
    expect((await verdict({ file: 'report.md', contains: 'South' })).passed).toBe(false);
    expect((await verdict({ file: 'missing.md' })).detail).toBe('missing.md was not produced');
    const outside = await verdict({ file: '../../etc/passwd' });
    expect(outside.passed).toBe(false);
    expect(outside.detail).toMatch(/not inside the workspace/);
  });

  it('sql asserts on an output file with DuckDB, confined to the workspace', async () => {
    expect((await verdict({ sql: "SELECT sum(revenue) = 200.5 FROM 'out/totals.csv'" })).passed).toBe(true);
    expect((await verdict({ sql: "SELECT count(*) FROM 'out/totals.csv' WHERE revenue > 1000" })).passed).toBe(false);
    const outside = await verdict({ sql: "SELECT count(*) > 0 FROM read_csv('/etc/passwd')" });
    expect(outside.passed).toBe(false);
    expect(outside.detail).toMatch(/^the query failed/);
  });

  it('js runs in the QuickJS sandbox: it reads workspace files, and the host is out of reach', async () => {
    expect((await verdict({ js: "return readFile('report.md').includes('North');" })).passed).toBe(true);
    const message = await verdict({ js: "return { pass: false, message: 'too short: ' + output.length };" });
    expect(message).toMatchObject({ passed: false, detail: 'too short: 27' });
    const host = await verdict({ js: "return typeof process === 'undefined' && typeof require === 'undefined';" });
    expect(host.passed).toBe(true);
    const thrown = await verdict({ js: "throw new Error('boom');" });
    expect(thrown.passed).toBe(false);
    expect(thrown.detail).toMatch(/threw/);
  });

  it('modelGraded asks the grader, is marked as model-graded, and is skipped without a grader', async () => {
    const skipped = await verdict({ modelGraded: 'mentions the total' });
    expect(skipped).toMatchObject({ modelGraded: true, skipped: true, passed: false });
    expect(checksPassed([skipped])).toBe(false);
    const grader = createScriptedModel({ script: { turns: [{ text: 'PASS\nIt states the total.' }] } });
    const graded = await runCheck(
      { modelGraded: 'mentions the total' },
      { output: 'Total: 3', workspace: workspace(), grader },
    );
    expect(graded).toMatchObject({ modelGraded: true, skipped: false, passed: true });
  });
});
