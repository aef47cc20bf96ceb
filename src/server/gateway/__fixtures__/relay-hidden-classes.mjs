/**
 * Run by `relay-hidden-classes.test.ts` under `node --log-maps`: a gateway (the built server,
 * fast lane and relay) in front of a local OpenAI-like upstream, warmed up with relayed calls,
 * then a marker object whose map the log names, then more relayed calls, whole and streamed.
 * The test counts the hidden classes (maps) V8 made after the marker.
 *
 * argv: the working directory, the number of measured calls.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { createHataraku } from '../../../../dist/hataraku.js';
import { createServer, startServer } from '../../../../dist/server/server.js';

const [directory, measuredText] = process.argv.slice(2);
const measured = Number(measuredText);

const upstream = http.createServer((request, response) => {
  let text = '';
  request.on('data', (piece) => {
    text += piece;
  });
  request.on('end', () => {
    const body = JSON.parse(text);
    // JSON written as text: this upstream must not make hidden classes of its own per call.
    const head = `"id":"chatcmpl-${Math.random()}","created":1,"model":${JSON.stringify(body.model)}`;
    const usage = '"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}';
    if (body.stream) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta, finish) =>
        `data: {${head},"object":"chat.completion.chunk","choices":[{"index":0,"delta":${delta},"finish_reason":${finish}}]}\n\n`;
      response.write(chunk('{"role":"assistant","content":"Hi"}', 'null'));
      response.write(chunk('{"content":" there"}', '"stop"'));
      response.write(`data: {${head},"object":"chat.completion.chunk","choices":[],${usage}}\n\n`);
      response.end('data: [DONE]\n\n');
      return;
    }
    const answer = `{${head},"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"},"finish_reason":"stop"}],${usage}}`;
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    response.end(answer);
  });
});
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));

writeFileSync(
  join(directory, 'hataraku.config.json'),
  JSON.stringify({
    providers: {
      up: { type: 'openai', baseURL: `http://127.0.0.1:${upstream.address().port}/v1`, apiKeyEnv: 'UP_KEY', maxRetries: 0 },
    },
    prices: { 'up:gpt-test': { inputPerMillion: 1, outputPerMillion: 4 } },
  }),
);
const hataraku = createHataraku({ cwd: directory, env: { UP_KEY: 'sk-upstream' } });
const server = createServer({ hataraku, recoverIntervalMs: 0, gatewayFlushMs: 10, log: () => {} });
const listening = await startServer(server, { host: '127.0.0.1', port: 0 });
const { secret } = server.keys.create({ name: 'app', tenant: 'acme' });
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const { port } = new URL(listening.url);

function call(streamed) {
  const body = JSON.stringify({
    model: 'up:gpt-test',
    messages: [{ role: 'user', content: 'Say hi' }],
    ...(streamed ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/chat/completions',
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      },
      (response) => {
        let text = '';
        response.on('data', (piece) => {
          text += piece;
        });
        response.on('end', () =>
          response.statusCode === 200 && text.includes('Hi') ? resolve() : reject(new Error(`${response.statusCode} ${text}`)),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function calls(count) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < count) await call(next++ % 2 === 1);
    }),
  );
}

await calls(300);
globalThis.hatarakuMarker = { hataraku_measured_calls_start: measured };
await calls(measured);
globalThis.hatarakuMarker = { hataraku_measured_calls_end: measured };
agent.destroy();
await listening.close();
await server.close();
await hataraku.close();
upstream.close();
