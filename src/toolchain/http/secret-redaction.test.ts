/**
 * Security suite, redaction and where secrets may go: a GitHub-style token (with `_`) echoed by
 * a real server in every spelling a text can take, in a long header, in a page that turndown
 * escapes, cut at the size cap; and secrets refused for another scheme, host or port.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Tool } from '../../tools/tool.js';
import { createToolContext } from '../../tools/tool-context.js';
import { startTestServer, type TestServer } from './__fixtures__/test-server.js';
import { createHttpTools, type HttpToolOptions } from './http-tools.js';
import { createRedactor } from './secret-redaction.js';

const token = 'ghp_R3d4ct_M3_pl3as3_0123456789abcdefXYZ';
const label = '[secret GITHUB]';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function call(tool: Tool, args: Record<string, unknown>): Promise<string> {
  const validation = tool.validate(args);
  if (!validation.success) throw new Error(JSON.stringify(validation.issues));
  try {
    return String(await tool.execute(validation.data, createToolContext({ runId: 'run-1', stepIndex: 0 })));
  } catch (error) {
    return `Error from ${tool.name}: ${(error as Error).message}`;
  }
}

function toolsFor(server: TestServer, options: HttpToolOptions = {}) {
  const [request, fetch] = createHttpTools({
    allowedPrivateAddresses: [`127.0.0.1:${server.port}`],
    resolve: async () => ['127.0.0.1'],
    secrets: {
      GITHUB: {
        value: token,
        header: 'Authorization',
        format: 'token {value}',
        hosts: [`http://api.test:${server.port}`],
      },
    },
    ...options,
  });
  return { request: request!, fetch: fetch! };
}

/** Every spelling of the token a server might echo. */
function spellings(value: string): Record<string, string> {
  const bytes = Buffer.from(value);
  return {
    raw: value,
    json: value.replaceAll('_', '\\u005f'),
    jsonAll: [...value].map((character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
    markdown: value.replaceAll('_', '\\_'),
    percent: value.replaceAll('_', '%5F'),
    percentAll: [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join(''),
    htmlDecimal: value.replaceAll('_', '&#95;'),
    htmlNamed: value.replaceAll('_', '&lowbar;'),
    // Browsers decode a numeric reference without its `;` when the next character cannot
    // continue its digits (`&#95R` is `_R`; `&#950` would be another character).
    htmlDecimalNoSemicolon: value.replace(/_(?=[^0-9]|$)/g, '&#95').replaceAll('_', '&#95;'),
    htmlHexNoSemicolon: value.replace(/_(?=[^0-9a-fA-F]|$)/g, '&#x5f').replaceAll('_', '&#X5F;'),
    htmlLeadingZeros: value.replaceAll('_', '&#x00000000005f;'),
    doubleJson: value.replaceAll('_', '\\\\u005f'),
    base64: bytes.toString('base64'),
    base64Shifted: Buffer.concat([Buffer.from('x:'), bytes]).toString('base64'),
    base64Url: Buffer.concat([Buffer.from('user:'), bytes]).toString('base64url'),
    hex: bytes.toString('hex'),
  };
}

describe('redaction: every spelling', () => {
  const redactor = createRedactor([{ name: 'GITHUB', values: [token, `token ${token}`] }]);

  it.each(Object.entries(spellings(token)))('redacts the %s spelling in running text', (_name, spelled) => {
    const text = `before ${spelled} after`;
    const redacted = redactor.redact(text);
    expect(redacted).toContain(label);
    expect(redacted).toMatch(/^before .*after$/);
    expect(redactor.redact(redacted)).toBe(redacted);
    for (const form of Object.values(spellings(token))) expect(redacted).not.toContain(form);
  });

  it('redacts raw bytes, and a secret cut at the end in any spelling', () => {
    expect(redactor.redactBytes(Buffer.from(`a=${token};`)).toString()).toBe(`a=${label};`);
    expect(redactor.redact(`x=${token.slice(0, 10)}`, { cutPartialTail: true })).toBe('x=[secret cut]');
    const escaped = spellings(token).markdown!;
    expect(redactor.redact(`x=${escaped.slice(0, 8)}`, { cutPartialTail: true })).toBe('x=[secret cut]');
  });

  it('leaves text without secrets alone', () => {
    const text = 'plain 100% text & a \\_ b \\u0041 %41 &#65;';
    expect(redactor.redact(text)).toBe(text);
  });
});

describe('redaction through the tools', () => {
  it('http.request: redacts the token in a long header before it is shortened, and in every body spelling', async () => {
    const server = await startTestServer((_request, response) => {
      // 35 characters of padding put the token across the 300-character cut of a header value.
      response.writeHead(200, {
        'content-type': 'text/plain',
        'x-long': `${'p'.repeat(280)}${token}`,
        'x-json': `{"t":"${spellings(token).json}"}`,
      });
      response.end(Object.values(spellings(token)).join('\n'));
    });
    servers.push(server);
    const output = await call(toolsFor(server).request, {
      url: `http://api.test:${server.port}/`,
      secrets: ['GITHUB'],
    });
    expect(server.received[0]!.headers.authorization).toBe(`token ${token}`);
    for (const form of Object.values(spellings(token))) expect(output).not.toContain(form);
    expect(output).not.toContain('R3d4ct');
    expect(output).not.toContain(token.slice(0, 12));
    expect(output.match(/\[secret GITHUB\]/g)?.length).toBeGreaterThanOrEqual(Object.keys(spellings(token)).length);
  });

  it('web.fetch: redacts a token that the Markdown conversion would escape', async () => {
    const server = await startTestServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(
        `<html><body><main><h1>Echo</h1><p>Your token is ${token}.</p><p>Split: ${token.slice(0, 9)}<b></b>${token.slice(9)}</p><p>${spellings(token).htmlDecimal}</p></main></body></html>`,
      );
    });
    servers.push(server);
    const output = await call(toolsFor(server).fetch, { url: `http://api.test:${server.port}/`, secrets: ['GITHUB'] });
    // turndown escapes the brackets of the label too.
    expect(output).toMatch(/Your token is \\?\[secret GITHUB\\?\]\./);
    expect(output).not.toContain('R3d4ct');
    expect(output).not.toMatch(/ghp\\?_/);
  });

  it('redacts a token the server splits across chunks, byte by byte', async () => {
    const server = await startTestServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const body = Buffer.from(`token=${token}; again=${spellings(token).percent!}`);
      let index = 0;
      const next = () => {
        if (index >= body.length) {
          response.end();
          return;
        }
        response.write(body.subarray(index, index + 1));
        index++;
        setImmediate(next);
      };
      next();
    });
    servers.push(server);
    const output = await call(toolsFor(server).request, { url: `http://api.test:${server.port}/` });
    expect(output).toContain(`token=${label}; again=${label}`);
    expect(output).not.toContain('R3d4ct');
  });

  it('cuts a token split by the size cap', async () => {
    const server = await startTestServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(`key=${spellings(token).json!}`);
    });
    servers.push(server);
    const { request } = toolsFor(server, { maxResponseBytes: 'key='.length + 20 });
    const output = await call(request, { url: `http://api.test:${server.port}/`, secrets: ['GITHUB'] });
    expect(output).toContain('key=[secret cut]');
    expect(output).not.toContain('ghp');
  });
});

describe('secrets go only to their exact origin', () => {
  it('refuses another scheme, host or port, and wildcards', async () => {
    const server = await startTestServer((_request, response) => response.end('ok'));
    servers.push(server);
    const [request] = createHttpTools({
      allowedPrivateAddresses: [`127.0.0.1:${server.port}`, '127.0.0.1'],
      resolve: async () => ['127.0.0.1'],
      secrets: { GITHUB: { value: token, header: 'Authorization', hosts: ['api.test'] } },
    });
    // `api.test` means https on 443: plain http, even to the right host, is refused.
    expect(await call(request!, { url: `http://api.test:${server.port}/`, secrets: ['GITHUB'] })).toBe(
      `Error from http.request: the secret GITHUB may only be sent to api.test, not to http://api.test:${server.port}.`,
    );
    expect(await call(request!, { url: 'https://api.test:8443/', secrets: ['GITHUB'] })).toMatch(
      /may only be sent to api\.test, not to https:\/\/api\.test:8443\./,
    );
    expect(await call(request!, { url: 'https://evil.api.test/', secrets: ['GITHUB'] })).toMatch(
      /not to https:\/\/evil\.api\.test\./,
    );
    expect(server.received).toHaveLength(0);
    expect(() =>
      createHttpTools({ secrets: { GITHUB: { value: token, header: 'Authorization', hosts: ['*.github.com'] } } }),
    ).toThrow(/secret GITHUB: host "\*\.github\.com" has a wildcard/);
    expect(() =>
      createHttpTools({ allowHosts: ['*.github.com'], secrets: { GITHUB: { value: token, header: 'Authorization' } } }),
    ).toThrow(/has a wildcard/);
    expect(() =>
      createHttpTools({ secrets: { GITHUB: { value: token, header: 'Authorization', hosts: ['ftp://x.test'] } } }),
    ).toThrow(/must be https/);
  });
});
