/**
 * A tool marked `exclusive` (as `code.run` is) runs alone within its run: the calls before it in
 * the turn finish first, the ones after it wait for it, and the rest still run side by side.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import { createCodeTool } from '../toolchain/code/code-tool.js';
import { tool } from '../tools/define-tool.js';
import { agent } from './agent.js';
import { run } from './run.js';

describe('exclusive tools', () => {
  it('code.run is exclusive', () => {
    expect(createCodeTool().exclusive).toBe(true);
  });

  it('an exclusive call never overlaps another call of the run; the others stay concurrent', async () => {
    const engine = openSqliteEngine({ path: join(mkdtempSync(join(tmpdir(), 'hataraku-exclusive-')), 'journal.db') });
    const running = new Set<string>();
    const overlaps: string[] = [];
    let peakShared = 0;
    const work = (name: string, exclusive: boolean) =>
      tool({
        name,
        description: `${name} waits a little.`,
        input: z.object({ id: z.number() }),
        exclusive,
        execute: async ({ id }) => {
          const label = `${name}#${id}`;
          if (exclusive && running.size > 0) overlaps.push(`${label} started during ${[...running].join(',')}`);
          if (!exclusive && [...running].some((other) => other.startsWith('exclusive'))) {
            overlaps.push(`${label} started during ${[...running].join(',')}`);
          }
          running.add(label);
          if (!exclusive) peakShared = Math.max(peakShared, running.size);
          await new Promise((resolve) => setTimeout(resolve, 20));
          running.delete(label);
          return label;
        },
      });
    const calls = [
      { name: 'shared', arguments: { id: 0 } },
      { name: 'shared', arguments: { id: 1 } },
      { name: 'exclusive', arguments: { id: 2 } },
      { name: 'shared', arguments: { id: 3 } },
      { name: 'shared', arguments: { id: 4 } },
      { name: 'exclusive', arguments: { id: 5 } },
    ];
    const model = createScriptedModel({ script: { turns: [{ toolCalls: calls }, { text: 'done' }] } });
    const result = await run(
      agent({
        name: 'a',
        instructions: '',
        model,
        tools: [work('shared', false), work('exclusive', true)],
        maxToolConcurrency: 4,
      }),
      'x',
      { engine },
    );
    expect(result.status).toBe('completed');
    expect(overlaps).toEqual([]);
    expect(peakShared).toBe(2);
    const results = model.requests[1]?.messages.filter((message) => message.role === 'tool');
    expect(results?.map((message) => message.role === 'tool' && message.content)).toEqual([
      'shared#0',
      'shared#1',
      'exclusive#2',
      'shared#3',
      'shared#4',
      'exclusive#5',
    ]);
    await engine.close();
  });
});
