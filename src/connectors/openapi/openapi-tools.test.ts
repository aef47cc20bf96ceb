/**
 * OpenAPI operations as tools, called against a real HTTP server on 127.0.0.1 (port 0): schema
 * conversion ($ref, allOf/oneOf, nullable, enums, readOnly), Swagger 2.0 conversion, filters,
 * every kind of auth (with OAuth2 token refresh), idempotency keys on writes, pagination hints,
 * and the guarded client's refusals.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenApiSettings } from '../../config/connectors-settings.js';
import type { Tool } from '../../tools/tool.js';
import { createToolContext } from '../../tools/tool-context.js';
import type { ConnectorTool } from '../connector-tool.js';
import { createOpenApiTools } from './openapi-tools.js';

const shopSpec = fileURLToPath(new URL('./__fixtures__/shop.openapi.yaml', import.meta.url));
const legacySpec = fileURLToPath(new URL('./__fixtures__/legacy.swagger.json', import.meta.url));

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let port: number;
const received: Received[] = [];
let tokensIssued = 0;
let validToken = '';

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(request.url ?? '/', 'http://localhost');
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(value));
      };
      if (url.pathname === '/spec.yaml') {
        response.writeHead(200, { 'content-type': 'application/yaml' });
        response.end(readFileSync(shopSpec, 'utf8').replace('https://shop.example.com/v1', '/v1'));
        return;
      }
      if (url.pathname === '/v1/deep') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
        return;
      }
      if (url.pathname === '/laughs.json') {
        json(200, referenceFanOut(8, 10));
        return;
      }
      if (url.pathname === '/oauth/token') {
        tokensIssued++;
        validToken = `token-number-${tokensIssued}`;
        json(200, { access_token: validToken, token_type: 'bearer', expires_in: 3600 });
        return;
      }
      if (url.pathname === '/v1/whoami') {
        const authorization = request.headers.authorization ?? '';
        if (authorization.startsWith('Bearer token-number-') && authorization !== `Bearer ${validToken}`) {
          json(401, { message: 'token expired' });
          return;
        }
        json(200, { authorization, apiKey: request.headers['x-api-key'] ?? url.searchParams.get('api_key') });
        return;
      }
      if (url.pathname === '/v1/items' && request.method === 'GET') {
        const page = Number(url.searchParams.get('page') ?? '1');
        json(200, [{ id: `i${page}`, name: 'lamp', price: 3 }], {
          link: `<http://127.0.0.1:${port}/v1/items?page=${page + 1}>; rel="next", <http://127.0.0.1:${port}/v1/items?page=9>; rel="last"`,
        });
        return;
      }
      if (url.pathname === '/v1/items' && request.method === 'POST') {
        json(201, { id: 'new', ...JSON.parse(body), next_cursor: 'abc123' });
        return;
      }
      if (url.pathname.startsWith('/v1/items/')) {
        if (request.method === 'DELETE') {
          response.writeHead(204);
          response.end();
          return;
        }
        const id = decodeURIComponent(url.pathname.slice('/v1/items/'.length));
        if (id === 'missing') json(404, { message: 'no such item' });
        else json(200, { id, name: 'lamp', price: 3 });
        return;
      }
      if (url.pathname === '/api/pets') {
        json(200, request.method === 'GET' ? [{ id: 1, name: 'Rex', query: url.search }] : JSON.parse(body));
        return;
      }
      json(404, { message: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** The parts of a converted schema the tests look at. */
interface SchemaView {
  required?: string[];
  properties?: Record<string, SchemaView>;
  $defs?: Record<string, SchemaView>;
  anyOf?: unknown[];
}

/**
 * A 1.5 KB document whose one operation's schema refers ten times, at each of `levels` levels,
 * to the next level: inlined, that is 10^levels schemas (a "billion laughs" of references).
 */
function referenceFanOut(levels: number, fan: number): unknown {
  const parts: Record<string, unknown> = { [`level${levels}`]: { type: 'string' } };
  for (let level = 0; level < levels; level++) {
    const properties = Object.fromEntries(
      Array.from({ length: fan }, (_, index) => [`p${index}`, { $ref: `#/x-parts/level${level + 1}` }]),
    );
    parts[`level${level}`] = { type: 'object', properties };
  }
  const body = { content: { 'application/json': { schema: { $ref: '#/x-parts/level0' } } } };
  return {
    openapi: '3.0.3',
    info: { title: 'laughs', version: '1' },
    servers: [{ url: '/v1' }],
    'x-parts': parts,
    paths: {
      '/boom': { post: { operationId: 'boom', requestBody: body, responses: { 200: { description: 'ok' } } } },
      '/items': { get: { operationId: 'listItems', responses: { 200: { description: 'ok' } } } },
      '/deep': { get: { operationId: 'deep', responses: { 200: { description: 'ok' } } } },
      '/coded': {
        get: {
          operationId: 'coded',
          parameters: [{ name: 'code', in: 'query', required: true, schema: { type: 'string', pattern: '^(a+)+$' } }],
          responses: { 200: { description: 'ok' } },
        },
      },
    },
  };
}

function shop(extra: Partial<OpenApiSettings> = {}): OpenApiSettings {
  return {
    name: 'shop',
    spec: shopSpec,
    baseURL: `http://127.0.0.1:${port}/v1`,
    auth: undefined,
    include: undefined,
    exclude: undefined,
    timeoutMs: 10_000,
    maxResponseBytes: 1_000_000,
    allowedPrivateAddresses: [`127.0.0.1:${port}`],
    ...extra,
  };
}

function find(tools: ConnectorTool[], name: string): Tool {
  const found = tools.find((entry) => entry.tool.name === name);
  if (found === undefined) throw new Error(`no tool ${name}; have ${tools.map((entry) => entry.tool.name).join(', ')}`);
  return found.tool;
}

async function call(tool: Tool, args: unknown, stepIndex = 0) {
  const checked = tool.validate(args);
  if (!checked.success) throw new Error(`invalid arguments: ${JSON.stringify(checked.issues)}`);
  const context = createToolContext({ runId: 'run_test', stepIndex });
  try {
    return String(await tool.execute(checked.data, context));
  } finally {
    await context.dispose();
  }
}

describe('converting an OpenAPI 3.0 document', () => {
  it('makes a tool per operation, named from operationId or method and path', async () => {
    const set = await createOpenApiTools(shop());
    expect(set.total).toBe(5);
    expect(set.skipped).toEqual([]);
    expect(set.tools.map((entry) => entry.tool.name)).toEqual([
      'shop.listItems',
      'shop.createItem',
      'shop.getItem',
      'shop.deleteItem',
      'shop.GET_whoami',
    ]);
    expect(set.sourceVersion).toBe('3.0.3');
  });

  it('resolves $ref, allOf and oneOf, nullable, exclusive bounds and readOnly into the input schema', async () => {
    const { tools } = await createOpenApiTools(shop());
    const create = find(tools, 'shop.createItem');
    const schema = create.inputSchema as SchemaView;
    expect(schema.required).toEqual(['body']);
    expect(schema.properties?.body).toEqual({ $ref: '#/$defs/NewItem' });
    const newItem = schema.$defs?.NewItem;
    expect(newItem?.properties?.id).toBeUndefined();
    expect(newItem?.required).toEqual(['name', 'price']);
    expect(newItem?.properties?.price).toEqual({ type: 'number', exclusiveMinimum: 0 });
    expect(newItem?.properties?.note).toEqual({ type: ['string', 'null'] });
    expect(newItem?.properties?.parent).toEqual({ $ref: '#/$defs/NewItem' });
    expect(newItem?.properties?.kind?.anyOf).toHaveLength(2);
    expect(schema.$defs?.Colour).toEqual({ type: 'string', enum: ['red', 'green', 'blue'] });

    expect(create.validate({ body: { name: 'lamp', price: 3, note: null } }).success).toBe(true);
    expect(create.validate({ body: { name: 'lamp', price: 0 } }).success).toBe(false);
    expect(create.validate({ body: { name: 'lamp', price: 3, colour: 'purple' } }).success).toBe(false);
    expect(create.validate({ body: { name: 'lamp', price: 3 }, extra: 1 }).success).toBe(false);
  });

  it('filters operations by tag, path and operationId', async () => {
    const onlyItems = await createOpenApiTools(
      shop({ include: { tags: ['items'] }, exclude: { operations: ['createItem'] } }),
    );
    expect(onlyItems.tools.map((entry) => entry.operation)).toEqual(['listItems', 'getItem']);
    expect(onlyItems.filteredOut).toBe(3);
    const byPath = await createOpenApiTools(shop({ include: { paths: ['/items/*'] } }));
    expect(byPath.tools.map((entry) => entry.operation)).toEqual(['getItem', 'deleteItem']);
  });
});

describe('calling operations', () => {
  it('reads with GET, serialising parameters, and returns pagination hints from the Link header', async () => {
    const { tools } = await createOpenApiTools(shop());
    const list = find(tools, 'shop.listItems');
    expect(list.effect).toBe('none');
    const output = await call(list, { page: 2, colour: ['red', 'blue'] });
    expect(received.at(-1)?.url).toBe('/v1/items?page=2&colour=red%2Cblue');
    expect(received.at(-1)?.headers['idempotency-key']).toBeUndefined();
    expect(output).toMatch(/^HTTP 200 OK/);
    expect(output).toContain('[pagination] next page: call again with {"page":"3"}');
    expect(output).toContain('"id":"i2"');
  });

  it('encodes path parameters so that a value cannot change the path', async () => {
    const { tools } = await createOpenApiTools(shop());
    await call(find(tools, 'shop.getItem'), { itemId: '../admin?x=1' });
    expect(received.at(-1)?.url).toBe('/v1/items/..%2Fadmin%3Fx%3D1');
    await expect(call(find(tools, 'shop.getItem'), { itemId: '..' })).rejects.toThrow(/cannot be "\.\."/);
  });

  it('reports an error status as a failed call with the body', async () => {
    const { tools } = await createOpenApiTools(shop());
    await expect(call(find(tools, 'shop.getItem'), { itemId: 'missing' })).rejects.toThrow(/HTTP 404 .*no such item/s);
  });

  it('sends writes with an Idempotency-Key from the run and step, and needs approval unless the host is allowed', async () => {
    const { tools } = await createOpenApiTools(shop());
    const create = tools.find((entry) => entry.operation === 'createItem');
    expect(create?.tool.effect).toBe('side-effect');
    expect(create?.destructive).toBe(true);
    expect(tools.find((entry) => entry.operation === 'deleteItem')?.tool.effect).toBe('idempotent');
    const output = await call(create?.tool as Tool, { body: { name: 'desk', price: 80 } }, 7);
    const request = received.at(-1);
    expect(request?.method).toBe('POST');
    expect(request?.headers['idempotency-key']).toBe('run_test:7');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual({ name: 'desk', price: 80 });
    expect(output).toContain('[pagination] cursor fields: next_cursor="abc123"');

    const allowed = await createOpenApiTools(shop(), { writeHosts: ['127.0.0.1'] });
    expect(allowed.tools.find((entry) => entry.operation === 'createItem')?.destructive).toBe(false);
  });

  it('stays on the API host and refuses private addresses that are not allowed', async () => {
    const blocked = await createOpenApiTools(shop({ allowedPrivateAddresses: [] }));
    await expect(call(find(blocked.tools, 'shop.listItems'), {})).rejects.toThrow(/refused to connect to 127\.0\.0\.1/);
  });
});

describe('auth from secrets', () => {
  it('sends a bearer token and redacts it from what the model reads', async () => {
    const { tools } = await createOpenApiTools(shop({ auth: { type: 'bearer', token: 'bearer-secret-42' } }));
    const output = await call(find(tools, 'shop.GET_whoami'), {});
    expect(received.at(-1)?.headers.authorization).toBe('Bearer bearer-secret-42');
    expect(output).not.toContain('bearer-secret-42');
    expect(output).toContain('[secret]');
  });

  it('sends an API key in a header or in the query', async () => {
    const header = await createOpenApiTools(
      shop({ auth: { type: 'apiKey', in: 'header', name: 'X-Api-Key', value: 'key-in-header' } }),
    );
    await call(find(header.tools, 'shop.GET_whoami'), {});
    expect(received.at(-1)?.headers['x-api-key']).toBe('key-in-header');
    const query = await createOpenApiTools(
      shop({ auth: { type: 'apiKey', in: 'query', name: 'api_key', value: 'key-in-query' } }),
    );
    const output = await call(find(query.tools, 'shop.GET_whoami'), {});
    expect(received.at(-1)?.url).toBe('/v1/whoami?api_key=key-in-query');
    expect(output).not.toContain('key-in-query');
  });

  it('sends basic credentials', async () => {
    const { tools } = await createOpenApiTools(
      shop({ auth: { type: 'basic', username: 'ann', password: 'pa55word' } }),
    );
    const output = await call(find(tools, 'shop.GET_whoami'), {});
    expect(received.at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from('ann:pa55word').toString('base64')}`);
    expect(output).not.toContain(Buffer.from('ann:pa55word').toString('base64'));
  });

  it('gets an OAuth2 client-credentials token, reuses it, and fetches a new one after a 401', async () => {
    const { tools } = await createOpenApiTools(
      shop({
        auth: {
          type: 'oauth2',
          tokenUrl: `http://127.0.0.1:${port}/oauth/token`,
          clientId: 'client-1',
          clientSecret: 'client-secret-xyz',
          scopes: ['read', 'write'],
        },
      }),
    );
    const before = tokensIssued;
    const whoami = find(tools, 'shop.GET_whoami');
    await call(whoami, {});
    const tokenRequest = received.find((request) => request.url === '/oauth/token' && tokensIssued === before + 1);
    expect(tokenRequest?.body).toBe('grant_type=client_credentials&scope=read+write');
    expect(tokenRequest?.headers.authorization).toBe(
      `Basic ${Buffer.from('client-1:client-secret-xyz').toString('base64')}`,
    );
    expect(received.at(-1)?.headers.authorization).toBe(`Bearer token-number-${before + 1}`);
    await call(whoami, {});
    expect(tokensIssued).toBe(before + 1);

    validToken = 'rotated-by-the-server';
    const output = await call(whoami, {});
    expect(tokensIssued).toBe(before + 2);
    expect(output).toMatch(/^HTTP 200/);
    expect(received.at(-1)?.headers.authorization).toBe(`Bearer token-number-${before + 2}`);
  });
});

describe('Swagger 2.0', () => {
  it('is converted: body and query parameters, collection formats, definitions; multipart is listed as not converted', async () => {
    const set = await createOpenApiTools({
      ...shop(),
      name: 'legacy',
      spec: legacySpec,
      baseURL: `http://127.0.0.1:${port}/api`,
    });
    expect(set.sourceVersion).toBe('2.0');
    expect(set.total).toBe(3);
    expect(set.tools.map((entry) => entry.tool.name)).toEqual(['legacy.findPets', 'legacy.addPet']);
    expect(set.skipped).toEqual([
      { operation: 'uploadPhoto', reason: expect.stringMatching(/multipart\/form-data is not supported/) },
    ]);
    const output = await call(find(set.tools, 'legacy.findPets'), { tags: ['a', 'b'], limit: 5 });
    expect(received.at(-1)?.url).toBe('/api/pets?tags=a&tags=b&limit=5');
    expect(output).toContain('Rex');
    const add = find(set.tools, 'legacy.addPet');
    expect(add.validate({ pet: { name: 'Tom' } }).success).toBe(false);
    expect(add.validate({ body: { name: 'Tom' } }).success).toBe(true);
  });
});

describe('a document from a URL', () => {
  it('is fetched through the guarded client, and its relative server URL is resolved against it', async () => {
    const set = await createOpenApiTools(shop({ spec: `http://127.0.0.1:${port}/spec.yaml`, baseURL: undefined }));
    expect(set.baseURL).toBe(`http://127.0.0.1:${port}/v1`);
    expect(await call(find(set.tools, 'shop.getItem'), { itemId: 'i9' })).toContain('"id":"i9"');
  });

  it('is refused from a private address that is not allowed', async () => {
    await expect(
      createOpenApiTools(shop({ spec: `http://127.0.0.1:${port}/spec.yaml`, allowedPrivateAddresses: [] })),
    ).rejects.toThrow(/cannot fetch the OpenAPI document .*refused to connect to 127\.0\.0\.1/);
  });
});

describe('hostile answers', () => {
  it('does not run a pattern of the document on the arguments: the server checks it', async () => {
    // Run by the host, ^(a+)+$ against 40 letters and a "!" would take hours (26 letters: 221 ms).
    const set = await createOpenApiTools(shop({ spec: `http://127.0.0.1:${port}/laughs.json`, baseURL: undefined }));
    const coded = find(set.tools, 'shop.coded');
    expect(coded.validate({ code: `${'a'.repeat(40)}!` }).success).toBe(true);
    expect(JSON.stringify(coded.inputSchema)).toContain('Must match the regular expression ^(a+)+$');
  });

  it('shows JSON nested too deeply to re-serialise as it was received, not as a stack overflow', async () => {
    const set = await createOpenApiTools(shop({ spec: `http://127.0.0.1:${port}/laughs.json`, baseURL: undefined }));
    const output = await call(find(set.tools, 'shop.deep'), {});
    expect(output).toBe(`HTTP 200 OK\n${'['.repeat(200_000)}${']'.repeat(200_000)}`);
  });
});

describe('bad documents', () => {
  it('lists an operation whose references fan out to 10^8 schemas as not converted, and converts the rest', async () => {
    // Before the node budget this document held 4.3 GB and crashed the process after 86 s.
    const set = await createOpenApiTools(shop({ spec: `http://127.0.0.1:${port}/laughs.json`, baseURL: undefined }));
    expect(set.tools.map((entry) => entry.operation)).toEqual(['listItems', 'deep', 'coded']);
    expect(set.skipped).toEqual([
      {
        operation: 'boom',
        reason:
          'schema too large: over 50000 schemas once its local references are inlined (a reference used many times at each level?)',
      },
    ]);
  });

  it('says what is wrong in one line', async () => {
    await expect(createOpenApiTools(shop({ spec: '/nonexistent/spec.yaml' }))).rejects.toThrow(
      /OpenAPI shop: cannot read the OpenAPI document \/nonexistent\/spec.yaml \(ENOENT\)/,
    );
    await expect(
      createOpenApiTools(shop({ spec: legacySpec.replace('legacy.swagger.json', 'nope.json') })),
    ).rejects.toThrow(/ENOENT/);
  });
});
