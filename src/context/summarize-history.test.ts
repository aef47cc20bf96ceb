import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelCallError } from '../errors.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import type { Model, ModelMessage } from '../models/spec.js';
import type { ContextInput } from './context-strategy.js';
import { summarizeHistory, summaryCuts } from './summarize-history.js';
import { countRequestTokens } from './token-counter.js';

function history(turns: number): ModelMessage[] {
  const messages: ModelMessage[] = [
    { role: 'system', content: 'Audit the ledger files.' },
    { role: 'user', content: 'Find the account with the largest balance.' },
  ];
  for (let turn = 1; turn <= turns; turn++) {
    messages.push({
      role: 'assistant',
      content: [
        { type: 'text', text: `Reading ledger ${turn}.` },
        { type: 'tool-call', id: `call_${turn}`, name: 'files.read', arguments: `{"path":"ledger-${turn}.csv"}` },
      ],
    });
    const rows = Array.from({ length: 40 }, (_, row) => `acct-${turn}-${row},${(turn * 1000 + row * 13) % 997}`).join(
      '\n',
    );
    messages.push({ role: 'tool', toolCallId: `call_${turn}`, toolName: 'files.read', content: rows });
  }
  return messages;
}

function input(messages: ModelMessage[], workspace: string | undefined): ContextInput {
  return { messages, tools: [], modelName: 'openai:gpt-4.1-mini', workspace, runId: 'run_1', stepIndex: 0 };
}

function summarizer(text = 'Ledgers 1-n read; largest so far acct-3-7 with 990.') {
  return createScriptedModel({ script: { turns: [{ text }] }, modelId: 'cheap' });
}

describe('summarizeHistory', () => {
  it('sends the history unchanged below the threshold, without calling the model', async () => {
    const model = summarizer();
    const messages = history(2);
    const output = await summarizeHistory({ model, thresholdTokens: 100_000 }).prepare(input(messages, undefined));
    expect(output.messages).toEqual(messages);
    expect(model.requests).toHaveLength(0);
    expect(output.modelCalls).toEqual([]);
  });

  it('replaces older turns with one summary after the task, keeping the last turns whole', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-summary-'));
    const model = summarizer();
    const messages = history(12);
    const full = countRequestTokens({ messages }, 'gpt-4.1-mini');
    const thresholdTokens = Math.floor(full * 0.7);
    expect(summaryCuts(input(messages, workspace), thresholdTokens, 4)).toHaveLength(1);
    const output = await summarizeHistory({ model, thresholdTokens, keepLastMessages: 4 }).prepare(
      input(messages, workspace),
    );
    expect(output.messages.slice(0, 2)).toEqual(messages.slice(0, 2));
    const summary = output.messages[2] as { role: string; content: string };
    expect(summary.role).toBe('user');
    expect(summary.content).toContain('Ledgers 1-n read; largest so far acct-3-7 with 990.');
    expect(summary.content).toContain('condensed by scripted:cheap');
    // The kept turns start with an assistant turn, so no tool result loses its call.
    expect(output.messages[3]?.role).toBe('assistant');
    expect(output.messages.at(-1)).toBe(messages.at(-1));
    expect(output.messages.length).toBeGreaterThanOrEqual(3 + 4);
    expect(countRequestTokens({ messages: output.messages }, 'gpt-4.1-mini')).toBeLessThan(full * 0.5);
    // The summarizer saw the instructions and the summarized turns, tool results included.
    expect(model.requests).toHaveLength(1);
    const sentText = JSON.stringify(model.requests[0]?.messages);
    expect(sentText).toContain('every concrete fact');
    expect(sentText).toContain('acct-1-0');
    expect(output.modelCalls).toHaveLength(1);
    expect(output.modelCalls?.[0]?.model).toBe('scripted:cheap');
    const digest = output.modelCalls?.[0]?.digest as string;
    expect(existsSync(join(workspace, '.hataraku/summaries', `${digest}.txt`))).toBe(true);
  });

  it('computes each summary once: later calls and a resumed process read it back', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'hataraku-summary-'));
    const model = summarizer();
    const threshold = Math.floor(countRequestTokens({ messages: history(12) }, 'gpt-4.1-mini') * 0.7);
    const options = { model, thresholdTokens: threshold, keepLastMessages: 4 };
    const strategy = summarizeHistory(options);
    const first = await strategy.prepare(input(history(12), workspace));
    const next = await strategy.prepare(input(history(13), workspace));
    expect(model.requests).toHaveLength(1);
    expect(next.messages[2]).toBe(first.messages[2]);
    expect(next.messages.slice(0, first.messages.length)).toEqual(first.messages);

    const resumedModel = summarizer('a different text the cache must win over');
    const resumed = await summarizeHistory({ ...options, model: resumedModel }).prepare(input(history(13), workspace));
    // A different model would be a different digest; the same model id gets the cached summary.
    expect(resumedModel.requests).toHaveLength(0);
    expect(resumed.messages).toEqual(next.messages);
    expect(readdirSync(join(workspace, '.hataraku/summaries'))).toHaveLength(1);
  });

  it('rolls the previous summary into the next one as the history keeps growing', async () => {
    const model = summarizer();
    const threshold = countRequestTokens({ messages: history(6) }, 'gpt-4.1-mini');
    const strategy = summarizeHistory({ model, thresholdTokens: threshold, keepLastMessages: 4 });
    const output = await strategy.prepare(input(history(30), undefined));
    const cuts = summaryCuts(input(history(30), undefined), threshold, 4);
    expect(cuts.length).toBeGreaterThan(2);
    expect(model.requests).toHaveLength(cuts.length);
    expect(JSON.stringify(model.requests[1]?.messages)).toContain('Summary of the steps before these');
    expect(output.messages.filter((message) => message.role === 'user')).toHaveLength(2);
  });

  it('sends the full history with a note when the summarizer fails', async () => {
    const failing: Model = {
      specificationVersion: 'v1',
      provider: 'test',
      modelId: 'down',
      // biome-ignore lint/correctness/useYield: fails before the first event
      async *stream() {
        throw new ModelCallError({
          code: 'model_server_error',
          provider: 'test',
          modelId: 'down',
          retryable: true,
          message: 'upstream 500',
        });
      },
    };
    const messages = history(12);
    const output = await summarizeHistory({ model: failing, thresholdTokens: 500, keepLastMessages: 4 }).prepare(
      input(messages, undefined),
    );
    expect(output.messages).toEqual(messages);
    expect(output.notes[0]).toContain('upstream 500');
  });
});
