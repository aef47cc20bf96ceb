/**
 * The quarterly-brief example with its scripted demo models, decomposed and by one agent: both
 * complete through the real loop and real tools (DuckDB, workspace files) and write the same
 * brief; every figure an analyst reports is what its queries returned; the decomposed run is a
 * tree of child runs whose costs roll up. (Wall time is measured by compare.mjs, not asserted.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunTree } from '../../src/decomposition/run-tree.js';
import { openSqliteEngine } from '../../src/engine/sqlite/sqlite-engine.js';
import { type ComparisonFigures, compareQuarterlyBrief } from '../../src/examples/quarterly-brief-comparison.js';

let directory: string;
let decomposed: ComparisonFigures;
let single: ComparisonFigures;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'hataraku-quarterly-brief-'));
  ({ decomposed, single } = await compareQuarterlyBrief(directory));
}, 60_000);

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('the quarterly-brief example', () => {
  it('completes both ways and writes the same brief', () => {
    expect(decomposed.status).toBe('completed');
    expect(single.status).toBe('completed');
    const brief = readFileSync(join(decomposed.workspace, 'tasks', '1-brief', 'brief.md'), 'utf8');
    expect(readFileSync(join(single.workspace, 'brief.md'), 'utf8')).toBe(brief);
    expect(brief).toContain('$1,179,710.54');
  });

  it('is a tree of seven runs whose costs roll up, checked by the checker', async () => {
    expect(decomposed.runs).toBe(7);
    expect(single.runs).toBe(1);
    expect(decomposed.costUsd).toBeGreaterThan(0);
    const engine = openSqliteEngine({ path: join(directory, 'decomposed', '.hataraku', 'hataraku.db') });
    try {
      const tree = await loadRunTree(engine, decomposed.runId);
      expect(tree?.children.map((child) => [child.agentName, child.status])).toEqual([
        ['sales-analyst', 'completed'],
        ['support-analyst', 'completed'],
        ['survey-analyst', 'completed'],
        ['docs-reader', 'completed'],
        ['writer', 'completed'],
        ['checker', 'completed'],
      ]);
      expect(tree?.treeCostUsd).toBeCloseTo(decomposed.costUsd, 12);
      const check = tree?.children.at(-1);
      expect(String((await engine.getRun(check?.runId ?? ''))?.output)).toMatch(/^PASS/);
    } finally {
      await engine.close();
    }
  });

  it('reports only figures its queries returned', async () => {
    const engine = openSqliteEngine({ path: join(directory, 'decomposed', '.hataraku', 'hataraku.db') });
    try {
      for (const child of ['sales', 'support', 'survey']) {
        const runId = `${decomposed.runId}.1.${child}`;
        const results = (await engine.listSteps(runId))
          .filter((step) => step.name === 'tool:data.query')
          .map((step) => String((step.output as { content: string }).content))
          .join('\n');
        const answer = String((await engine.getRun(runId))?.output);
        // Every number in the answer appears in a query result (money and counts written with separators).
        const numbers = answer.match(/\d[\d,]*(\.\d+)?/g) ?? [];
        const reported = numbers.map((number) => number.replaceAll(',', '')).filter((number) => number.length > 2);
        for (const number of reported) {
          if (['1200000', '2026'].includes(number)) continue; // the target and the year, from the task
          expect(results, `${child}: ${number}`).toContain(number);
        }
        expect(reported.length).toBeGreaterThan(0);
      }
    } finally {
      await engine.close();
    }
  });

  it('decomposed: more calls, each with a smaller prompt, than one agent', () => {
    expect(decomposed.modelCalls).toBeGreaterThan(single.modelCalls);
    expect(decomposed.largestPromptTokens).toBeLessThan(single.largestPromptTokens);
  });
});
