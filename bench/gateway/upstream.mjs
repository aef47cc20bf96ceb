/**
 * The fake upstream of the gateway benchmark: an OpenAI Chat Completions server on loopback,
 * streamed (role chunk, four text chunks, finish chunk, usage chunk, [DONE]) or not, as the
 * request's `stream` field asks. Run as its own process; prints its port.
 *
 * By default it answers at once, the whole body in one write. With a latency, it behaves like a
 * model server (and like the mocker of Bifrost's benchmark): `--latency-ms L --jitter-ms J`
 * answers a non-streamed call after L ± J ms (uniform); a streamed call ends after the same
 * time, its text chunks `--chunk-ms C` apart (the first, with the role chunk, 3 × C before the
 * end; finish, usage and [DONE] with the last), as a model that generates the same answer takes
 * as long whether it streams it or not.
 *
 * `--stamp` (for `legs.mjs`) puts in each answer, as its `system_fingerprint` (in a streamed
 * answer, that of its finish chunk), when this process got the request and when it sent the
 * end of the answer: `<received>-<sent>`, nanoseconds of the monotonic clock, which every process
 * on the machine shares.
 */
import { createServer } from 'node:http';

const option = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const latencyMs = option('latency-ms', 0);
const jitterMs = option('jitter-ms', 0);
const chunkMs = option('chunk-ms', 0);
const stamp = process.argv.includes('--stamp');

const base = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1749312000, model: 'gpt-bench' };
const usage = { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 };
const frame = (chunk) => `data: ${JSON.stringify(chunk)}\n\n`;
const roleChunk = frame({
  ...base,
  choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
});
const textChunks = ['Hello', ' from', ' the', ' upstream'].map((content) =>
  frame({ ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }] }),
);
const endChunksStamped = (fingerprint) =>
  frame({
    ...base,
    ...(fingerprint === undefined ? {} : { system_fingerprint: fingerprint }),
    choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
  }) +
  frame({ ...base, choices: [], usage }) +
  'data: [DONE]\n\n';
const endChunks = endChunksStamped(undefined);
const streamBody = roleChunk + textChunks.join('') + endChunks;
const jsonBodyStamped = (fingerprint) =>
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1749312000,
    model: 'gpt-bench',
    ...(fingerprint === undefined ? {} : { system_fingerprint: fingerprint }),
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
const jsonBody = jsonBodyStamped(undefined);

const streamedSpreadMs = 3 * chunkMs;
const firstDelay = () => Math.max(0, latencyMs + (Math.random() * 2 - 1) * jitterMs);
const later = (milliseconds, action) => (milliseconds > 0 ? setTimeout(action, milliseconds) : action());

/**
 * A streamed answer chunk by chunk, ending at `endsAt` (a `performance.now()` time): the role and
 * first text chunk 3 × `chunkMs` before, then one text chunk every `chunkMs`. Each write is timed
 * from the deadline, not from the write before, so timers firing late do not add up.
 */
function streamSlowly(response, endsAt, received) {
  const pieces = [roleChunk + textChunks[0], ...textChunks.slice(1, -1), textChunks.at(-1) + endChunks];
  let next = 0;
  const send = () => {
    if (response.destroyed) return;
    const piece = pieces[next++];
    if (next === pieces.length) response.end(stamp ? textChunks.at(-1) + endChunksStamped(stampOf(received)) : piece);
    else {
      response.write(piece);
      later(endsAt - (pieces.length - 1 - next) * chunkMs - performance.now(), send);
    }
  };
  send();
}

/** `<received>-<now>` in nanoseconds of the monotonic clock. */
const stampOf = (received) => `${received}-${process.hrtime.bigint()}`;

const server = createServer((request, response) => {
  const received = process.hrtime.bigint();
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
    const instant = latencyMs === 0 && jitterMs === 0 && chunkMs === 0;
    const delay = instant ? 0 : firstDelay();
    const endsAt = performance.now() + delay;
    later(streamed ? delay - streamedSpreadMs : delay, () => {
      if (response.destroyed) return;
      if (streamed) {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        if (instant)
          response.end(stamp ? roleChunk + textChunks.join('') + endChunksStamped(stampOf(received)) : streamBody);
        else streamSlowly(response, endsAt, received);
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(stamp ? jsonBodyStamped(stampOf(received)) : jsonBody);
      }
    });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`upstream listening on ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
