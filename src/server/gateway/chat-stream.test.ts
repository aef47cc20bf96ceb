/**
 * A relayed stream read back into its answer (`chat-stream.ts`), as the ledger and the relay's
 * stream-to-whole conversion read it.
 */
import { describe, expect, it } from 'vitest';
import { answerOfEventStream } from './chat-stream.js';

describe('the answer of an event stream', () => {
  it("reads a Groq stream's usage from x_groq", () => {
    const stream =
      'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n' +
      'data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":40,"completion_tokens":10,"total_tokens":50,"queue_time":0.01}}}\n\n' +
      'data: [DONE]\n\n';
    expect(answerOfEventStream(stream).usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 10 });
  });

  it('joins text split over events, CRLF line ends and all, and skips payloads that are not JSON', () => {
    const stream =
      'data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\r\n\r\n' +
      'data: not json\n\n' +
      'data: {"id":"c","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\n';
    const answer = answerOfEventStream(stream);
    expect(answer).toMatchObject({ id: 'c', model: 'm', text: 'Hello', finishReason: 'stop' });
  });
});
