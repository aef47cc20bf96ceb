/**
 * Tool calls put into OpenAI's form for the relay's clients (`tool-call-wire.ts`), on streams
 * recorded from real servers (the model layer's fixtures): Ollama's parallel calls at one index,
 * llama.cpp's arguments as objects; OpenAI's own parallel calls stay exactly as they were.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answerOfEventStream, eventPayloads } from './chat-stream.js';
import { createToolCallDeltaNormalizer, normalizeMessageToolCalls } from './tool-call-wire.js';

function fixture(name: string): string {
  return readFileSync(new URL(`../../models/openai/__fixtures__/${name}`, import.meta.url), 'utf8');
}

/** Each chunk of a stream normalized in turn: the chunks after, and whether each changed. */
function normalizeStream(text: string) {
  const normalizer = createToolCallDeltaNormalizer();
  return eventPayloads(text).map((payload) => {
    const chunk = JSON.parse(payload) as { choices: Array<{ delta?: { tool_calls?: unknown[] } }> };
    const toolCalls = chunk.choices[0]?.delta?.tool_calls;
    const changed = Array.isArray(toolCalls) ? normalizer.normalize(toolCalls) : false;
    return { chunk, changed, toolCalls };
  });
}

describe('tool calls in OpenAI form', () => {
  it("gives Ollama's parallel calls, all sent at index 0, an index each", () => {
    const chunks = normalizeStream(fixture('ollama-parallel-index-zero.txt'));
    expect(chunks.map(({ changed }) => changed)).toEqual([false, true, false, false]);
    expect(chunks[0]?.toolCalls).toEqual([
      { id: 'call_x7k2m9qa', index: 0, type: 'function', function: { name: 'add', arguments: '{"a":2,"b":3}' } },
    ]);
    expect(chunks[1]?.toolCalls).toEqual([
      { id: 'call_p4w8n1zd', index: 1, type: 'function', function: { name: 'add', arguments: '{"a":10,"b":20}' } },
    ]);
  });

  it('leaves OpenAI parallel calls, with their argument pieces at each index, exactly as they were', () => {
    const text = fixture('parallel-tool-calls.txt');
    const chunks = normalizeStream(text);
    expect(chunks.some(({ changed }) => changed)).toBe(false);
    expect(chunks.map(({ chunk }) => JSON.stringify(chunk))).toEqual(eventPayloads(text));
  });

  it("turns llama.cpp's arguments sent as an object into their JSON text", () => {
    const chunks = normalizeStream(fixture('llamacpp-object-arguments.txt'));
    expect(chunks[0]?.changed).toBe(true);
    expect(chunks[0]?.toolCalls).toEqual([
      { index: 0, id: 'k3Zp9QxR2mVw7Lb1', type: 'function', function: { name: 'add', arguments: '{"a":2,"b":3}' } },
    ]);
  });

  it('makes up an id for a call sent without one, and indexes calls sent without an index', () => {
    const normalizer = createToolCallDeltaNormalizer();
    const first = [{ function: { name: 'lookup', arguments: '{"q":' } }];
    const more = [{ function: { arguments: '"x"}' } }];
    const second = [{ id: 'call_b', function: { name: 'add', arguments: '{}' } }];
    expect(normalizer.normalize(first)).toBe(true);
    expect(normalizer.normalize(more)).toBe(true);
    expect(normalizer.normalize(second)).toBe(true);
    expect(first[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^[A-Za-z0-9]{9}$/) });
    // A delta without an id continues the last call, and gets no id of its own.
    expect(more[0]).toEqual({ index: 0, function: { arguments: '"x"}' } });
    expect(second[0]).toMatchObject({ index: 1, id: 'call_b' });
  });

  it('indexes a flood of calls at one index in time linear in their number (a hostile stream)', () => {
    // 200,000 calls in one event (about 8 MB, under the relay's bound on an event), each a new
    // id at index 0: a scan of the calls seen per call held the thread for minutes, then threw.
    const normalizer = createToolCallDeltaNormalizer();
    const count = 200_000;
    const flood = Array.from({ length: count }, (_, position) => ({ index: 0, id: `c${position}` }));
    expect(normalizer.normalize(flood)).toBe(true);
    expect(flood.map((call) => call.index)).toEqual(Array.from({ length: count }, (_, position) => position));
    // And calls without an index, found again by their id.
    const again = Array.from({ length: count }, (_, position) => ({ id: `c${position}` })) as Array<{
      id: string;
      index?: number;
    }>;
    normalizer.normalize(again);
    expect(again.every((call, position) => call.index === position)).toBe(true);
  }, 20_000);

  it('reads the answer of an Ollama stream with both calls, for the ledger', () => {
    const answer = answerOfEventStream(fixture('ollama-parallel-index-zero.txt'));
    expect(answer.toolCalls).toEqual([
      { type: 'tool-call', id: 'call_x7k2m9qa', name: 'add', arguments: '{"a":2,"b":3}' },
      { type: 'tool-call', id: 'call_p4w8n1zd', name: 'add', arguments: '{"a":10,"b":20}' },
    ]);
  });

  it("puts a whole message's calls into OpenAI form, and says when nothing changed", () => {
    const calls = [
      { id: 'call_a', type: 'function', function: { name: 'add', arguments: '{"a":1}' } },
      { type: 'function', function: { name: 'add', arguments: { a: 2 } } },
    ];
    expect(normalizeMessageToolCalls(calls)).toBe(true);
    expect(calls[1]).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9]{9}$/),
      type: 'function',
      function: { name: 'add', arguments: '{"a":2}' },
    });
    expect(normalizeMessageToolCalls(calls)).toBe(false);
  });
});
