import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import type { ModelMessage, ToolResultMessage } from '../models/spec.js';
import {
  type ContextInput,
  callOfToolResult,
  composeStrategies,
  modelCallPoints,
  sendEverything,
} from './context-strategy.js';
import { maskUsedToolResults } from './mask-tool-results.js';
import { offloadLargeToolResults } from './offload-tool-results.js';
import { summarizeHistory } from './summarize-history.js';

function history(turns: number): ModelMessage[] {
  const messages: ModelMessage[] = [
    { role: 'system', content: 'Inspect the logs.' },
    { role: 'user', content: 'Which service failed first?' },
  ];
  for (let turn = 1; turn <= turns; turn++) {
    messages.push({
      role: 'assistant',
      content: [{ type: 'tool-call', id: `call_${turn}`, name: 'files.read', arguments: `{"path":"log-${turn}.txt"}` }],
    });
    const lines = turn % 3 === 0 ? 1_000 : 20;
    const content = Array.from({ length: lines }, (_, line) => `${turn}.${line} svc-${(line * 31) % 17} ok`).join('\n');
    messages.push({ role: 'tool', toolCallId: `call_${turn}`, toolName: 'files.read', content });
  }
  return messages;
}

function input(messages: ModelMessage[], workspace: string): ContextInput {
  return { messages, tools: [], modelName: 'openai:gpt-4o-mini', workspace, runId: 'run_c', stepIndex: 0 };
}

describe('context strategies', () => {
  it('finds the history lengths at which the model was called', () => {
    const messages = history(2);
    expect(modelCallPoints(messages)).toEqual([2, 4, 6]);
    expect(callOfToolResult(messages, 5)).toMatchObject({ name: 'files.read', arguments: '{"path":"log-2.txt"}' });
    expect(callOfToolResult(messages, 4)).toBeUndefined();
  });

  it('sends everything by default', async () => {
    const messages = history(3);
    const output = await sendEverything.prepare(input(messages, '/nowhere'));
    expect(output.messages).toEqual(messages);
    expect(output.messages).not.toBe(messages);
  });

  it('composes strategies in order and gathers their notes and model calls', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-compose-'));
    const model = createScriptedModel({
      script: { turns: [{ text: 'Logs 1-9 read; nothing failed yet.' }] },
      modelId: 'cheap',
    });
    const strategy = composeStrategies(
      offloadLargeToolResults({ maxCharacters: 8_000, previewCharacters: 300 }),
      summarizeHistory({ model, thresholdTokens: 2_500, keepLastMessages: 4 }),
      maskUsedToolResults({ keepLast: 1, batchCharacters: 0 }),
    );
    expect(strategy.name).toBe('offload-large-tool-results+summarize-history+mask-used-tool-results');
    const messages = history(13);
    const output = await strategy.prepare(input(messages, workspace));
    expect(output.notes.some((note) => note.startsWith('offload-large-tool-results'))).toBe(true);
    expect(output.notes.some((note) => note.startsWith('summarize-history'))).toBe(true);
    expect(output.modelCalls?.length).toBeGreaterThan(0);
    expect(output.messages.length).toBeLessThan(messages.length);
    const again = await strategy.prepare(input(messages, workspace));
    expect(again.messages).toEqual(output.messages);
    expect(again.modelCalls).toEqual([]);
    // The newest result is shown whole (it is small); nothing sent is over the offload limit.
    expect((output.messages.at(-1) as ToolResultMessage).content).toBe((messages.at(-1) as ToolResultMessage).content);
    for (const message of output.messages)
      if (message.role === 'tool') expect(message.content.length).toBeLessThan(8_000);
  });
});
