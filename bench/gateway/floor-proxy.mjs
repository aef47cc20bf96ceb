/**
 * A reference, not a gateway: the least any Node gateway does for a call. It parses and
 * re-serialises the JSON body, forwards it over a keep-alive agent to the upstream named in the
 * `x-portkey-custom-host` header (as the benchmark addresses Portkey), and pipes the answer back,
 * with no key, no validation, no ledger. `BENCH_PEER=floor npm run bench:gateway` runs it in
 * Portkey's place, to show what this machine allows a Node process to add.
 */
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const port = Number(process.argv.find((a) => a.startsWith('--port='))?.slice(7));
http
  .createServer((request, response) => {
    if (request.method !== 'POST') return response.end('ok');
    const upstream = new URL(`${request.headers['x-portkey-custom-host']}/chat/completions`);
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      const forwarded = http.request(
        upstream,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: request.headers.authorization,
          },
        },
        (answer) => {
          response.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] });
          answer.pipe(response);
        },
      );
      forwarded.end(body);
    });
  })
  .listen(port, '127.0.0.1', () => console.log('Ready for connections'));
