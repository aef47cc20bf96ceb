/**
 * Security suite, HTTP: server-side request forgery. Loopback, private, link-local and metadata
 * addresses in every spelling, names that resolve to them, redirects to them, and DNS answers
 * that mix public and private addresses must all be refused before a connection is made, with a
 * clear error, and the process must keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tool } from '../../tools/tool.js';
import { createToolContext } from '../../tools/tool-context.js';
import { startTestServer, type TestServer } from './__fixtures__/test-server.js';
import { createHttpTools, type HttpToolOptions } from './http-tools.js';

let target: TestServer;
beforeAll(async () => {
  // A live service on loopback: a refusal is proven by its never receiving a request.
  target = await startTestServer((_request, response) => response.end('internal data'));
});
afterAll(async () => {
  await target.close();
});

async function call(tool: Tool, args: Record<string, unknown>): Promise<string> {
  const validation = tool.validate(args);
  if (!validation.success) throw new Error(JSON.stringify(validation.issues));
  try {
    return String(await tool.execute(validation.data, createToolContext()));
  } catch (error) {
    return `Error from ${tool.name}: ${(error as Error).message}`;
  }
}

function httpTools(options: HttpToolOptions = {}) {
  const [request, fetch] = createHttpTools({ timeoutMs: 2_000, ...options });
  return { request: request!, fetch: fetch! };
}

describe('HTTP: private and special addresses are refused', () => {
  const port = () => target.port;
  it.each([
    ['http://127.0.0.1:PORT/', /127\.0\.0\.1: it is a loopback address/],
    ['http://10.0.0.1/', /10\.0\.0\.1: it is a private address/],
    ['http://172.16.5.4/', /a private address/],
    ['http://192.168.1.1/', /a private address/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254: it is the cloud metadata address/],
    ['http://169.254.1.1/', /a link-local address/],
    ['http://[::1]:PORT/', /::1: it is a loopback address/],
    ['http://[fd00:ec2::254]/', /the cloud metadata address/],
    ['http://[fc00::1]/', /a private \(unique local\) address/],
    ['http://[fe80::1]/', /a link-local address/],
    ['http://0.0.0.0:PORT/', /an unspecified/],
    ['http://[::]:PORT/', /an unspecified address/],
    ['http://2130706433:PORT/', /127\.0\.0\.1: it is a loopback address/],
    ['http://0x7f.1:PORT/', /127\.0\.0\.1: it is a loopback address/],
    ['http://0177.0.0.1:PORT/', /127\.0\.0\.1: it is a loopback address/],
    ['http://127.1:PORT/', /127\.0\.0\.1: it is a loopback address/],
    ['http://[::ffff:127.0.0.1]:PORT/', /a loopback address \(127\.0\.0\.1, inside an IPv6 address\)/],
    ['http://[::ffff:a9fe:a9fe]/', /the cloud metadata address \(169\.254\.169\.254, inside an IPv6 address\)/],
    ['http://[64:ff9b::a00:1]/', /a private address \(10\.0\.0\.1, inside an IPv6 address\)/],
    ['http://[2002:7f00:1::]/', /a loopback address \(127\.0\.0\.1, inside an IPv6 address\)/],
    ['http://localhost:PORT/', /localhost is an internal name/],
    ['http://metadata.google.internal/computeMetadata/v1/', /metadata\.google\.internal is an internal name/],
  ])('refuses %s', async (template, reason) => {
    const url = template.replace('PORT', String(port()));
    const before = target.received.length;
    const { request, fetch } = httpTools();
    const output = await call(request, { url });
    expect(output).toMatch(/^Error from http\.request: /);
    expect(output).toMatch(reason);
    expect(output).toMatch(/only public (addresses|hosts) can be reached/);
    expect(await call(fetch, { url })).toMatch(/^Error from web\.fetch: .*only public/);
    expect(target.received.length).toBe(before);
  });

  it('refuses a host name that resolves to loopback', async () => {
    const { request } = httpTools({ resolve: async () => ['127.0.0.1'] });
    expect(await call(request, { url: `http://innocent.test:${target.port}/` })).toBe(
      'Error from http.request: refused to connect to innocent.test (which resolves to 127.0.0.1): it is a loopback address; only public addresses can be reached.',
    );
    expect(target.received).toHaveLength(0);
  });

  it('refuses a host name whose addresses mix public and private (a rebinding attempt)', async () => {
    const { request } = httpTools({ resolve: async () => ['93.184.216.34', '10.1.1.1'] });
    expect(await call(request, { url: 'http://mixed.test/' })).toMatch(
      /mixed\.test \(which resolves to 10\.1\.1\.1\): it is a private address/,
    );
  });

  it('resolves once per hop and connects to exactly the address checked', async () => {
    const answers = [['127.0.0.1'], ['10.9.9.9']];
    let lookups = 0;
    const { request } = httpTools({
      allowedPrivateAddresses: [`127.0.0.1:${target.port}`],
      // A rebinding resolver: a trusted answer first, a private one on any later query.
      resolve: async () => answers[Math.min(lookups++, 1)]!,
    });
    const output = await call(request, { url: `http://rebind.test:${target.port}/` });
    expect(output).toMatch(/internal data$/);
    expect(lookups).toBe(1);
    expect(target.received.at(-1)!.headers.host).toBe(`rebind.test:${target.port}`);
  });
});

describe('HTTP: redirects are checked again', () => {
  let entry: TestServer;
  beforeAll(async () => {
    entry = await startTestServer((request, response) => {
      const to = new URL(request.url, 'http://x').searchParams.get('to') ?? '/';
      response.writeHead(302, { location: to.replace('PORT', String(target.port)) }).end();
    });
  });
  afterAll(async () => {
    await entry.close();
  });

  it.each([
    ['http://127.0.0.1:PORT/', /127\.0\.0\.1: it is a loopback address/],
    ['http://169.254.169.254/latest/meta-data/', /the cloud metadata address/],
    ['http://10.0.0.1/', /a private address/],
    ['http://[::1]:PORT/', /a loopback address/],
    ['http://localhost:PORT/', /localhost is an internal name/],
    ['http://rebound.test:PORT/', /rebound\.test \(which resolves to 127\.0\.0\.1\): it is a loopback address/],
  ])('refuses a redirect from an allowed server to %s', async (location, reason) => {
    const before = target.received.length;
    const entered = entry.received.length;
    const { request } = httpTools({
      // Only the first hop, the entry server, is trusted; every name resolves to loopback.
      allowedPrivateAddresses: [`127.0.0.1:${entry.port}`],
      resolve: async () => ['127.0.0.1'],
    });
    const output = await call(request, { url: `http://public.test:${entry.port}/?to=${encodeURIComponent(location)}` });
    expect(output).toMatch(/^Error from http\.request: .*only public (addresses|hosts) can be reached\.$/);
    expect(output).toMatch(reason);
    expect(entry.received.length).toBe(entered + 1);
    expect(target.received.length).toBe(before);
  });
});

describe('HTTP: the process stays healthy', () => {
  it('serves a normal request after all the refusals', async () => {
    const { request } = httpTools({ allowedPrivateAddresses: [`127.0.0.1:${target.port}`] });
    expect(await call(request, { url: `${target.origin}/` })).toMatch(/^200 OK[\s\S]*internal data$/);
  });
});
