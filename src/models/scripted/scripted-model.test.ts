import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelCallError, UserError } from '../../errors.js';
import { collectResponse } from '../collect-response.js';
import type { ModelMessage, ModelStreamEvent } from '../spec.js';
import { createScriptedModel } from './scripted-model.js';

const script = {
  version: 1 as const,
  turns: [
    { toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }] },
    { text: 'The sum is 5.', usage: { inputTokens: 50, outputTokens: 6 } },
  ],
};

const firstTurn: ModelMessage[] = [{ role: 'user', content: 'add 2 and 3' }];
const secondTurn: ModelMessage[] = [
  ...firstTurn,
  { role: 'assistant', content: [{ type: 'tool-call', id: 'call_1_1', name: 'add', arguments: '{"a":2,"b":3}' }] },
  { role: 'tool', toolCallId: 'call_1_1', toolName: 'add', content: '5' },
];

describe('scripted model', () => {
  it('answers each request with the turn matching the number of assistant messages so far', async () => {
    const model = createScriptedModel({ script });
    const first = await collectResponse(model, { messages: firstTurn });
    expect(first.toolCalls).toEqual([{ type: 'tool-call', id: 'call_1_1', name: 'add', arguments: '{"a":2,"b":3}' }]);
    expect(first.finishReason).toBe('tool-calls');
    const second = await collectResponse(model, { messages: secondTurn });
    expect(second.text).toBe('The sum is 5.');
    expect(second.usage).toMatchObject({ inputTokens: 50, outputTokens: 6 });
    // Stateless: a fresh instance asked for turn 2 gives turn 2 (what a resumed run relies on).
    const fresh = await collectResponse(createScriptedModel({ script }), { messages: secondTurn });
    expect(fresh.text).toBe('The sum is 5.');
  });

  it('streams text and tool-call arguments in chunks', async () => {
    const model = createScriptedModel({ script, chunkSize: 4 });
    const events: ModelStreamEvent[] = [];
    for await (const event of model.stream({ messages: firstTurn })) events.push(event);
    const deltas = events.filter((event) => event.type === 'tool-call-delta');
    expect(deltas.length).toBeGreaterThan(2);
    expect(events.map((event) => event.type).slice(-2)).toEqual(['usage', 'finish']);
  });

  it('records every request in memory and, when asked, to a JSON-lines file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-scripted-'));
    const recordTo = join(directory, 'requests.jsonl');
    const model = createScriptedModel({ script, recordTo });
    await collectResponse(model, { messages: firstTurn, temperature: 0 });
    expect(model.requests).toHaveLength(1);
    const lines = readFileSync(recordTo, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ temperature: 0, messages: firstTurn });
  });

  it('fails clearly when the run asks for more turns than the script has', async () => {
    const model = createScriptedModel({ script: { turns: [{ text: 'only one' }] } });
    const request = { messages: secondTurn };
    await expect(collectResponse(model, request)).rejects.toThrow(ModelCallError);
    await expect(collectResponse(model, request)).rejects.toThrow(/has 1 turns but the run asked for turn 2/);
  });

  it('loads a script file and names the bad field of an invalid one', () => {
    const directory = mkdtempSync(join(tmpdir(), 'hataraku-scripted-'));
    const good = join(directory, 'good.json');
    writeFileSync(good, JSON.stringify(script));
    expect(createScriptedModel({ script: good }).modelId).toBe(good);
    const bad = join(directory, 'bad.json');
    writeFileSync(bad, JSON.stringify({ turns: [{ toolCalls: [{ arguments: {} }] }] }));
    expect(() => createScriptedModel({ script: bad })).toThrow(UserError);
    expect(() => createScriptedModel({ script: bad })).toThrow(/turns\.0\.toolCalls\.0\.name/);
    const notJson = join(directory, 'broken.json');
    writeFileSync(notJson, '{ turns: ');
    expect(() => createScriptedModel({ script: notJson })).toThrow(/is not valid JSON/);
  });
});
