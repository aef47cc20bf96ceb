/**
 * The fake upstream of the gateway benchmark: an OpenAI Chat Completions server on loopback that
 * answers at once, streamed (role chunk, four text chunks, finish chunk, usage chunk, [DONE]) or
 * not, as the request's `stream` field asks. Run as its own process; prints its port.
 */
import { createServer } from 'node:http';

const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1749312000, model: 'gpt-bench' };
const usage = { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 };
const streamBody = [
  { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
  ...['Hello', ' from', ' the', ' upstream'].map((content) => ({
    ...base,
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })),
  { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
  { ...base, choices: [], usage },
]
  .map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`)
  .concat('data: [DONE]\n\n')
  .join('');
const jsonBody = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1749312000,
  model: 'gpt-bench',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello from the upstream' },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
  usage,
});

const server = createServer((request, response) => {
  const pieces = [];
  request.on('data', (piece) => pieces.push(piece));
  request.on('end', () => {
    let streamed = false;
    try {
      streamed = JSON.parse(Buffer.concat(pieces).toString('utf8')).stream === true;
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"bad json"}}');
      return;
    }
    if (streamed) {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.end(streamBody);
    } else {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(jsonBody);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`upstream listening on ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
