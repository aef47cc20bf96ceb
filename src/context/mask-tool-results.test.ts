import { describe, expect, it } from 'vitest';
import type { ModelMessage, ToolResultMessage } from '../models/spec.js';
import type { ContextInput } from './context-strategy.js';
import { maskBoundary, maskUsedToolResults } from './mask-tool-results.js';

/** A history of `turns` tool turns, each result `size` characters, ending after the last result. */
function history(turns: number, size = 1_000): ModelMessage[] {
  const messages: ModelMessage[] = [
    { role: 'system', content: 'Work through the files.' },
    { role: 'user', content: 'Summarize every file.' },
  ];
  for (let turn = 1; turn <= turns; turn++) {
    messages.push({
      role: 'assistant',
      content: [{ type: 'tool-call', id: `call_${turn}`, name: 'files.read', arguments: `{"path":"f${turn}.txt"}` }],
    });
    messages.push({
      role: 'tool',
      toolCallId: `call_${turn}`,
      toolName: 'files.read',
      content: `${turn}:${'x'.repeat(size)}`,
    });
  }
  return messages;
}

function input(messages: ModelMessage[]): ContextInput {
  return { messages, tools: [], modelName: 'openai:gpt-4o-mini', workspace: undefined, runId: 'run_1', stepIndex: 0 };
}

const masked = (messages: ModelMessage[]) =>
  messages.flatMap((message, position) =>
    message.role === 'tool' && message.content.startsWith('[Tool result of ') ? [position] : [],
  );

describe('maskUsedToolResults', () => {
  it('masks used results, keeps the last ones, and says how to get a masked one back', async () => {
    const output = await maskUsedToolResults({ keepLast: 2, batchCharacters: 0 }).prepare(input(history(5)));
    // Results at 3, 5, 7, 9, 11; the last two (9, 11) are kept.
    expect(masked(output.messages)).toEqual([3, 5, 7]);
    expect((output.messages[3] as ToolResultMessage).content).toBe(
      '[Tool result of files.read (1002 characters) elided; call the tool again with the same arguments if needed]',
    );
    expect((output.messages[3] as ToolResultMessage).toolCallId).toBe('call_1');
    expect(output.messages[9]).toEqual(history(5)[9]);
    expect(output.notes).toEqual(['mask-used-tool-results: 3 used tool results masked']);
  });

  it('does not mask a result that no assistant turn has followed yet', async () => {
    const output = await maskUsedToolResults({ keepLast: 0, batchCharacters: 0 }).prepare(input(history(3)));
    // The last result (7) is the newest: the model has not seen it yet.
    expect(masked(output.messages)).toEqual([3, 5]);
  });

  it('points at the stored file when the result was offloaded', async () => {
    const messages = history(3);
    (messages[3] as ToolResultMessage).content =
      `[Tool result stored in the workspace: .hataraku-results/tool-results/run_1/3-call_1.txt (81234 characters, 900 lines). ${'p'.repeat(900)}`;
    const output = await maskUsedToolResults({ keepLast: 1, batchCharacters: 0 }).prepare(input(messages));
    expect((output.messages[3] as ToolResultMessage).content).toBe(
      '[Tool result of files.read (81234 characters) elided; it is stored at .hataraku-results/tool-results/run_1/3-call_1.txt: read it with files.read if needed]',
    );
  });

  it('moves the mask boundary in batches, so the prompt only grows between two moves', async () => {
    const strategy = maskUsedToolResults({ keepLast: 1, batchCharacters: 5_000 });
    const sent: ModelMessage[][] = [];
    for (let turns = 1; turns <= 20; turns++) sent.push((await strategy.prepare(input(history(turns)))).messages);
    let breaks = 0;
    for (let index = 1; index < sent.length; index++) {
      const previous = sent[index - 1] as ModelMessage[];
      const current = sent[index] as ModelMessage[];
      const isPrefix = previous.every(
        (message, position) => JSON.stringify(message) === JSON.stringify(current[position]),
      );
      if (!isPrefix) breaks++;
    }
    // About 1,000 characters are used per turn: the boundary moves every fifth turn or so.
    expect(breaks).toBeGreaterThanOrEqual(3);
    expect(breaks).toBeLessThanOrEqual(4);
    const eager = maskUsedToolResults({ keepLast: 1, batchCharacters: 0 });
    let eagerBreaks = 0;
    let last: ModelMessage[] = [];
    for (let turns = 1; turns <= 20; turns++) {
      const current = (await eager.prepare(input(history(turns)))).messages;
      if (!last.every((message, position) => JSON.stringify(message) === JSON.stringify(current[position])))
        eagerBreaks++;
      last = current;
    }
    expect(eagerBreaks).toBeGreaterThan(15);
  });

  it('decides from the history alone: a fresh instance gives the same messages', async () => {
    const messages = history(17);
    const warm = maskUsedToolResults({ keepLast: 2, batchCharacters: 4_000 });
    for (let turns = 1; turns < 17; turns++) await warm.prepare(input(history(turns)));
    const fromWarm = await warm.prepare(input(messages));
    const fromFresh = await maskUsedToolResults({ keepLast: 2, batchCharacters: 4_000 }).prepare(input(messages));
    expect(fromFresh.messages).toEqual(fromWarm.messages);
    expect(maskBoundary(messages, 2, 4_000)).toBeGreaterThan(0);
  });

  it('leaves results shorter than the placeholder alone', async () => {
    const output = await maskUsedToolResults({ keepLast: 0, batchCharacters: 0 }).prepare(input(history(4, 5)));
    expect(masked(output.messages)).toEqual([]);
  });
});
