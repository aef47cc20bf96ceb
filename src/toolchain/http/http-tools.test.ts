import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Tool } from '../../tools/tool.js';
import { createToolContext } from '../../tools/tool-context.js';
import { startTestServer, type TestServer } from './__fixtures__/test-server.js';
import { createHttpTools, type HttpToolOptions } from './http-tools.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(handler: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const started = await startTestServer(handler);
  servers.push(started);
  return started;
}

/** Tools that may reach exactly the given test servers (and nothing else private). */
function tools(reachable: TestServer[], options: HttpToolOptions = {}) {
  const [request, fetch] = createHttpTools({
    allowedPrivateAddresses: reachable.map((entry) => `127.0.0.1:${entry.port}`),
    ...options,
  });
  return { request: request!, fetch: fetch! };
}

async function call(tool: Tool, args: Record<string, unknown>, stepIndex = 0): Promise<string> {
  const validation = tool.validate(args);
  if (!validation.success) throw new Error(JSON.stringify(validation.issues));
  try {
    return String(await tool.execute(validation.data, createToolContext({ runId: 'run-1', stepIndex })));
  } catch (error) {
    return `Error from ${tool.name}: ${(error as Error).message}`;
  }
}

describe('http.request', () => {
  it('returns status, headers and body', async () => {
    const api = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'x-trace': 'abc' });
      response.end('{"ok":true}');
    });
    const output = await call(tools([api]).request, { url: `${api.origin}/items?x=1` });
    expect(output).toMatch(
      new RegExp(`^200 OK\\nGET ${api.origin}/items\\?x=1\\ncontent-type: application/json\\nx-trace: abc\\n`),
    );
    expect(output.endsWith('\n\n{"ok":true}')).toBe(true);
    expect(api.received[0]!.headers['user-agent']).toBe('hataraku');
  });

  it('sends a body and an Idempotency-Key for writes, none for reads', async () => {
    const api = await server((_request, response) => response.end('stored'));
    const { request } = tools([api]);
    await call(
      request,
      { method: 'POST', url: api.origin, headers: { 'Content-Type': 'application/json' }, body: '{"n":1}' },
      7,
    );
    await call(request, { url: api.origin });
    expect(api.received[0]).toMatchObject({ method: 'POST', body: '{"n":1}' });
    expect(api.received[0]!.headers['idempotency-key']).toBe('run-1:7');
    expect(api.received[0]!.headers['content-type']).toBe('application/json');
    expect(api.received[1]!.headers['idempotency-key']).toBeUndefined();
    expect(request.effect).toBe('side-effect');
  });

  it('follows redirects, turning a POST into a GET on 303', async () => {
    const api = await server((request, response) => {
      if (request.url === '/submit') response.writeHead(303, { location: '/done' }).end();
      else response.end(`landed on ${request.url} by ${request.method}`);
    });
    const output = await call(tools([api]).request, { method: 'POST', url: `${api.origin}/submit`, body: 'x' });
    expect(output).toMatch(
      new RegExp(`^200 OK\\nPOST ${api.origin}/done\\n\\(redirected from ${api.origin}/submit\\)`),
    );
    expect(output).toContain('landed on /done by GET');
  });

  it('stops after the redirect limit', async () => {
    const loop = await server((_request, response) => response.writeHead(302, { location: '/again' }).end());
    const output = await call(tools([loop], { maxRedirects: 3 }).request, { url: loop.origin });
    expect(output).toMatch(/stopped after 3 redirects .* redirect in a loop/);
    expect(loop.received).toHaveLength(4);
  });

  it('stops reading at the size cap and says so', async () => {
    let closedEarly = false;
    const big = await server((_request, response) => {
      response.on('close', () => {
        closedEarly = !response.writableFinished;
      });
      response.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = 'x'.repeat(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 160 && !response.destroyed) {
          sent++;
          if (!response.write(chunk)) return response.once('drain', pump);
        }
        response.end();
      };
      pump();
    });
    const output = await call(tools([big], { maxResponseBytes: 1000 }).request, { url: big.origin });
    expect(output).toMatch(/\n\nx{1000}\n\[truncated: the body is longer than 1000 bytes; only that much was read\]$/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closedEarly).toBe(true);
  });

  it('counts decompressed bytes against the cap (a gzip bomb stays small)', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 'a'));
    const api = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      response.end(bomb);
    });
    const output = await call(tools([api], { maxResponseBytes: 2000 }).request, { url: api.origin });
    expect(output).toContain(`\n\n${'a'.repeat(2000)}\n[truncated: the body is longer than 2000 bytes`);
  });

  it('gives up at the time limit with a clear error', async () => {
    const silent = await server(() => {});
    const started = Date.now();
    const output = await call(tools([silent], { timeoutMs: 300 }).request, { url: silent.origin });
    expect(output).toBe(
      `Error from http.request: the request to ${silent.origin} timed out after 300 ms; try again later or a smaller request.`,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('explains a refused connection, a bad URL, a managed header and a binary body', async () => {
    const api = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0]));
    });
    const { request } = tools([api]);
    expect(await call(request, { url: api.origin })).toMatch(/\[binary body: 6 bytes of image\/png, not shown\]$/);
    expect(await call(request, { url: 'not a url' })).toMatch(/is not a valid URL; give an absolute URL/);
    expect(await call(request, { url: 'ftp://example.com/' })).toMatch(/ftp: URLs are not supported/);
    expect(await call(request, { url: api.origin, headers: { Host: 'x' } })).toMatch(
      /header Host is set by the client/,
    );
    const closedPort = api.port;
    await api.close();
    servers.splice(servers.indexOf(api), 1);
    expect(await call(request, { url: `http://127.0.0.1:${closedPort}/` })).toMatch(/connection to .* was refused/);
  });
});

describe('host allow- and deny-lists', () => {
  it('refuses hosts off the allow-list and on the deny-list, on redirects too', async () => {
    const api = await server((request, response) => {
      if (request.url === '/out') response.writeHead(302, { location: 'http://other.test/' }).end();
      else response.end('fine');
    });
    const resolve = async () => ['127.0.0.1'];
    const allowOnly = tools([api], { allowHosts: ['*.example.test'], resolve }).request;
    expect(await call(allowOnly, { url: `http://api.example.test:${api.port}/` })).toMatch(/fine$/);
    expect(await call(allowOnly, { url: `http://example.test:${api.port}/` })).toMatch(
      /host example.test is not on the allow-list; allowed hosts: \*\.example\.test/,
    );
    expect(await call(allowOnly, { url: `http://api.example.test:${api.port}/out` })).toMatch(
      /host other.test is not on the allow-list/,
    );
    const deny = tools([api], { denyHosts: ['blocked.test'], resolve }).request;
    expect(await call(deny, { url: `http://blocked.test:${api.port}/` })).toMatch(/blocked.test is on the deny-list/);
  });
});

describe('secrets', () => {
  const token = 'tok_9f8e7d6c5b4a';

  /** An echo server that repeats the request headers and puts the secret in odd places too. */
  async function echo() {
    return server((request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain', 'x-echo': String(request.headers.authorization) });
      response.end(
        `auth=${request.headers.authorization}\nraw=${token}\nurl=${encodeURIComponent(token)}\nb64=${Buffer.from(token).toString('base64')}`,
      );
    });
  }

  function secretTools(reachable: TestServer[], extra: HttpToolOptions = {}) {
    return tools(reachable, {
      resolve: async () => ['127.0.0.1'],
      // The test servers speak plain http, which a secret may only use when its origin says so.
      secrets: {
        API_TOKEN: {
          value: token,
          header: 'Authorization',
          format: 'Bearer {value}',
          hosts: reachable.map((entry) => `http://api.test:${entry.port}`),
        },
      },
      ...extra,
    });
  }

  it('injects a secret by name and never returns its value', async () => {
    const api = await echo();
    const { request } = secretTools([api]);
    const output = await call(request, { url: `http://api.test:${api.port}/`, secrets: ['API_TOKEN'] });
    expect(api.received[0]!.headers.authorization).toBe(`Bearer ${token}`);
    expect(output).not.toContain(token);
    expect(output).not.toContain(Buffer.from(token).toString('base64'));
    expect(output).toContain(
      'auth=[secret API_TOKEN]\nraw=[secret API_TOKEN]\nurl=[secret API_TOKEN]\nb64=[secret API_TOKEN]',
    );
    expect(output).toContain('x-echo: [secret API_TOKEN]');
    expect(request.description).toContain(`API_TOKEN (for http://api.test:${api.port})`);
    expect(request.description).not.toContain(token);
  });

  it('redacts a secret cut in half by the size cap', async () => {
    const api = await echo();
    const { request } = secretTools([api], { maxResponseBytes: 'auth=Bearer tok_9f'.length });
    const output = await call(request, { url: `http://api.test:${api.port}/`, secrets: ['API_TOKEN'] });
    expect(output).not.toContain('tok_9f');
    expect(output).toContain('auth=[secret cut]');
  });

  it('refuses to send a secret to another host, and drops it on a redirect there', async () => {
    const other = await echo();
    const api = await server((_request, response) =>
      response.writeHead(302, { location: `http://other.test:${other.port}/` }).end(),
    );
    const { request } = secretTools([api, other]);
    const refused = await call(request, { url: `http://other.test:${other.port}/`, secrets: ['API_TOKEN'] });
    expect(refused).toBe(
      `Error from http.request: the secret API_TOKEN may only be sent to http://api.test:${api.port}, http://api.test:${other.port}, not to http://other.test:${other.port}.`,
    );
    expect(other.received).toHaveLength(0);
    const redirected = await call(request, {
      url: `http://api.test:${api.port}/`,
      secrets: ['API_TOKEN'],
      headers: { Authorization: 'Basic mine' },
    });
    expect(api.received[0]!.headers.authorization).toBe(`Bearer ${token}`);
    expect(other.received[0]!.headers.authorization).toBeUndefined();
    expect(redirected).toContain(
      `[the secret API_TOKEN was not sent to http://other.test:${other.port} after the redirect`,
    );
    expect(await call(request, { url: api.origin, secrets: ['NOPE'] })).toMatch(
      /no secret named NOPE; available secrets: API_TOKEN/,
    );
  });

  it('keeps the secret out of error messages', async () => {
    const api = await server((request, response) => {
      response.writeHead(404, `Not found for ${request.headers.authorization}`);
      response.end();
    });
    const { fetch } = secretTools([api]);
    const output = await call(fetch, { url: `http://api.test:${api.port}/`, secrets: ['API_TOKEN'] });
    expect(output).toMatch(/^Error from web.fetch: .* answered 404 Not found for \[secret API_TOKEN\]/);
    expect(output).not.toContain(token);
  });

  it('requires every secret to be bound to hosts', () => {
    expect(() => createHttpTools({ secrets: { LOOSE: { value: 'v', header: 'X-Key' } } })).toThrow(
      /secret LOOSE needs `hosts`/,
    );
    expect(() =>
      createHttpTools({ secrets: { BAD: { value: 'a\r\nInjected: 1', header: 'X-Key', hosts: ['a.test'] } } }),
    ).toThrow(/without line breaks/);
    expect(createHttpTools({ allowHosts: ['a.test'], secrets: { OK: { value: 'v', header: 'X-Key' } } })).toHaveLength(
      2,
    );
  });
});

describe('web.fetch', () => {
  it('turns a page into readable markdown without scripts, styles or navigation', async () => {
    const site = await server((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><html><head><title>Ducks</title><style>p{}</style><script>var tracker=1</script></head>
<body><nav><a href="/">Home</a></nav><header>Site banner</header>
<main><h1>Ducks</h1><p>Ducks are <em>water</em> birds. See <a href="/geese">geese</a>.</p><ul><li>Mallard</li></ul></main>
<footer>Footer text</footer></body></html>`);
    });
    const output = await call(tools([site]).fetch, { url: `${site.origin}/ducks` });
    expect(output).toBe(
      `# Ducks\nSource: ${site.origin}/ducks\n\n# Ducks\n\nDucks are _water_ birds. See [geese](${site.origin}/geese).\n\n-   Mallard`,
    );
  });

  it('returns plain text as it is and refuses binary content', async () => {
    const site = await server((request, response) => {
      if (request.url === '/data.txt') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('plain words');
      } else {
        response.writeHead(200, { 'content-type': 'application/zip' });
        response.end(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
      }
    });
    const { fetch } = tools([site]);
    expect(await call(fetch, { url: `${site.origin}/data.txt` })).toBe(
      `Source: ${site.origin}/data.txt\n\nplain words`,
    );
    expect(await call(fetch, { url: `${site.origin}/file.zip` })).toMatch(
      /is not a web page \(application\/zip content\)/,
    );
    expect(fetch.effect).toBe('none');
  });
});
