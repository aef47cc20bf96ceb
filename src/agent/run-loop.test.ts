/**
 * The loop's endings, each published once: the `run-end` event comes from one place
 * (`run-end.ts`), whichever phase ends the run.
 */
import { describe, expect, it } from 'vitest';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import { agent } from './agent.js';
import type { RunEvent } from './events.js';
import { run } from './run.js';

function assistant(turns: number) {
  return agent({
    name: 'assistant',
    instructions: 'Answer.',
    model: createScriptedModel({ script: { turns: Array.from({ length: turns }, () => ({ text: 'ok' })) } }),
    limits: { maxSteps: 1 },
  });
}

describe('the loop', () => {
  it('publishes run-end once when the caller has aborted, and leaves the run pending', async () => {
    const engine = openSqliteEngine({ path: ':memory:' });
    const controller = new AbortController();
    controller.abort();
    const events: RunEvent[] = [];
    const failure = await run(assistant(1), 'hi', {
      engine,
      signal: controller.signal,
      onEvent: (event) => events.push(event),
    }).result.catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'model_aborted' });
    const ends = events.filter((event) => event.type === 'run-end');
    expect(ends).toEqual([expect.objectContaining({ status: 'interrupted', stopReason: 'aborted' })]);
    expect((await engine.listRuns({ limit: 1 }))[0]?.status).toBe('pending');
    await engine.close();
  });

  it('publishes run-end once when a limit stops the run', async () => {
    const engine = openSqliteEngine({ path: ':memory:' });
    const events: RunEvent[] = [];
    const scripted = agent({
      name: 'assistant',
      instructions: 'Answer.',
      model: createScriptedModel({
        script: { turns: [{ toolCalls: [{ name: 'missing', arguments: {} }] }, { text: 'never' }] },
      }),
      limits: { maxSteps: 1 },
    });
    const result = await run(scripted, 'hi', { engine, onEvent: (event) => events.push(event) });
    expect(result).toMatchObject({ status: 'stopped', stopReason: 'max-steps' });
    expect(events.filter((event) => event.type === 'run-end')).toHaveLength(1);
    await engine.close();
  });
});
