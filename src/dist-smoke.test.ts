/**
 * The built package, loaded by plain Node as a user would: catches what the TypeScript sources
 * under vitest cannot, such as a compile that differs from the source (a lazily required module
 * constructed wrongly) or a module that loads heavy libraries eagerly again.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function runNode(script: string) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
}

describe('the built package', () => {
  it('defines and validates JSON Schema tools, and prices a call, from dist/', () => {
    const result = runNode(`
      import { tool } from './dist/index.js';
      import { createGenaiPricesSource } from './dist/cost/index.js';
      const add = tool({ name: 'add', description: 'Add.', input: { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }, execute: () => 1 });
      const draft7 = tool({ name: 'old', description: 'Old.', input: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: {} }, execute: () => 1 });
      const price = createGenaiPricesSource().lookup('openai', 'gpt-4o-mini');
      console.log(JSON.stringify({ ok: add.validate({ a: 1 }).success, bad: add.validate({ a: 'x' }).success, draft7: draft7.validate({}).success, input: price?.inputPerMillion }));
    `);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ ok: true, bad: false, draft7: true, input: 0.15 });
  });

  it('does not load the heavy libraries until a tool needs them', () => {
    const result = runNode(`
      import { createRequire } from 'node:module';
      await import('./dist/index.js');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      const heavy = ['@duckdb', 'linkedom', 'turndown', 'mammoth', '/ajv/', 'genai-prices'].filter((name) => loaded.some((path) => path.includes(name)));
      console.log(JSON.stringify(heavy));
    `);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it('does not load the heavy libraries on importing any subpath either', () => {
    const subpaths = Object.values(
      JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).exports as Record<
        string,
        { import?: string }
      >,
    ).flatMap((entry) => (typeof entry === 'object' && entry.import ? [entry.import] : []));
    expect(subpaths.length).toBeGreaterThan(10);
    const result = runNode(`
      import { createRequire } from 'node:module';
      for (const path of ${JSON.stringify(subpaths)}) await import(path);
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      const heavy = ['@duckdb', 'linkedom', 'turndown', 'mammoth', '/ajv/', 'genai-prices'].filter((name) => loaded.some((path) => path.includes(name)));
      console.log(JSON.stringify(heavy));
    `);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([]);
  });
});
