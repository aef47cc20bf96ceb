/**
 * One HTTP exchange under the network policy. For each hop (the request and every redirect):
 * the URL is checked, the host name is resolved once, every address it resolves to is checked,
 * and the connection is made to exactly the checked address (a `lookup` function that returns
 * it), with the original host name kept for the Host header and TLS. A name that resolves to a
 * public address when checked and to a private one when connecting (DNS rebinding) therefore
 * never reaches the private one. Redirects are followed by hand, so each is checked again.
 * Bodies are read up to a byte cap (after decompression) and the whole call has one deadline.
 */
import { lookup as systemLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ToolError } from '../../tools/tool-error.js';
import { bareHost, HttpPolicyError, type NetworkPolicy } from './network-policy.js';
import type { SecretHeaders } from './secret-headers.js';

/** A request that could not be completed (network, TLS, time); the message is meant for the model. */
export class HttpRequestError extends ToolError<'request-failed'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('request-failed', message, options);
  }
}

export interface OutgoingRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Names of configured secrets to send. */
  secretNames: readonly string[];
  followRedirects: boolean;
  /** Sent as `Idempotency-Key` unless the headers already have one. */
  idempotencyKey?: string | undefined;
}

export interface ReceivedResponse {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: Buffer;
  /** Whether the body went past the byte cap and was cut there. */
  truncated: boolean;
  /** The URL of the final hop. */
  url: string;
  /** URLs that answered with a redirect, in order. */
  redirects: string[];
  /** Things the caller should tell the model (e.g. a secret not sent after a redirect). */
  notes: string[];
}

export interface GuardedRequestSettings {
  policy: NetworkPolicy;
  secrets: SecretHeaders;
  resolve: ((hostname: string) => Promise<string[]>) | undefined;
  maxResponseBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  userAgent: string;
}

/** Headers a call may not set: the client manages them, and some would smuggle requests. */
const managedHeaders = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-connection',
  'accept-encoding',
]);
/** Credentials a call set itself; they are not carried to another origin on a redirect. */
const credentialHeaders = new Set(['authorization', 'cookie']);

/** Send `request` under the policy; throws `HttpPolicyError` or `HttpRequestError`. */
export async function sendGuardedRequest(
  request: OutgoingRequest,
  settings: GuardedRequestSettings,
  abortSignal: AbortSignal,
): Promise<ReceivedResponse> {
  const deadline = AbortSignal.timeout(settings.timeoutMs);
  const signal = AbortSignal.any([abortSignal, deadline]);
  const firstUrl = parseUrl(request.url);
  for (const [name] of Object.entries(request.headers)) {
    if (managedHeaders.has(name.toLowerCase())) {
      throw new HttpPolicyError(`the header ${name} is set by the client and cannot be given; remove it.`);
    }
  }
  for (const name of request.secretNames) {
    if (!settings.secrets.names.includes(name)) {
      const known = settings.secrets.names.length > 0 ? settings.secrets.names.join(', ') : 'none are configured';
      throw new HttpPolicyError(`there is no secret named ${name}; available secrets: ${known}.`);
    }
  }
  let url = firstUrl;
  let method = request.method.toUpperCase();
  let body = request.body;
  let headers = { ...request.headers };
  const redirects: string[] = [];
  const notes: string[] = [];
  try {
    for (;;) {
      const hop = await sendHop({
        url,
        method,
        headers,
        body,
        request,
        settings,
        signal,
        isFirst: redirects.length === 0,
        notes,
      });
      const location = hop.response.headers.location;
      if (
        !request.followRedirects ||
        hop.response.statusCode === undefined ||
        !isRedirect(hop.response.statusCode) ||
        location === undefined
      ) {
        return await readResponse(hop.response, url, redirects, notes, settings, signal);
      }
      hop.response.destroy();
      if (redirects.length >= settings.maxRedirects) {
        throw new HttpRequestError(
          `stopped after ${settings.maxRedirects} redirects (the last one pointed to ${location}); the site may redirect in a loop.`,
        );
      }
      redirects.push(url.href);
      const next = parseUrl(location, url);
      if (next.origin !== url.origin) {
        headers = Object.fromEntries(
          Object.entries(headers).filter(([name]) => !credentialHeaders.has(name.toLowerCase())),
        );
      }
      const status = hop.response.statusCode;
      if (status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
        method = 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-type'));
      }
      url = next;
    }
  } catch (error) {
    throw describeFailure(error, url, settings, deadline, abortSignal);
  }
}

interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  request: OutgoingRequest;
  settings: GuardedRequestSettings;
  signal: AbortSignal;
  isFirst: boolean;
  notes: string[];
}

async function sendHop(hop: Hop): Promise<{ response: IncomingMessage }> {
  const { url, settings, signal } = hop;
  settings.policy.checkUrl(url);
  const host = bareHost(url.hostname);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const address = await resolveChecked(host, port, settings, signal);

  const headers: Record<string, string> = { 'user-agent': settings.userAgent };
  for (const [name, value] of Object.entries(hop.headers)) headers[name.toLowerCase()] = value;
  headers['accept-encoding'] = 'gzip, deflate, br';
  for (const name of hop.request.secretNames) {
    const secret = settings.secrets.headerFor(name, url);
    if (secret === undefined) {
      const hosts = settings.secrets.hostsOf(name).join(', ');
      const target = `${url.protocol}//${url.host}`;
      if (hop.isFirst) throw new HttpPolicyError(`the secret ${name} may only be sent to ${hosts}, not to ${target}.`);
      hop.notes.push(
        `[the secret ${name} was not sent to ${target} after the redirect: it may only be sent to ${hosts}]`,
      );
      continue;
    }
    headers[secret.header.toLowerCase()] = secret.value;
  }
  if (hop.request.idempotencyKey !== undefined && headers['idempotency-key'] === undefined) {
    headers['idempotency-key'] = hop.request.idempotencyKey;
  }
  const payload = hop.body === undefined ? undefined : Buffer.from(hop.body);
  if (payload !== undefined) headers['content-length'] = String(payload.length);

  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send({
      protocol: url.protocol,
      hostname: host,
      port,
      path: `${url.pathname}${url.search}`,
      method: hop.method,
      headers,
      // A fresh connection per hop: a pooled socket could lead to an address checked for another name.
      agent: false,
      lookup: pinnedLookup(address),
      signal,
      ...(url.protocol === 'https:' && isIP(host) === 0 ? { servername: host } : {}),
    });
    outgoing.on('response', (response) => resolve({ response }));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** Resolve `host` once and check every address; returns the one to connect to. */
async function resolveChecked(
  host: string,
  port: number,
  settings: GuardedRequestSettings,
  signal: AbortSignal,
): Promise<string> {
  if (isIP(host) !== 0) {
    settings.policy.checkAddress(host, port, host);
    return host;
  }
  const resolve =
    settings.resolve ??
    (async (name: string) => (await systemLookup(name, { all: true, verbatim: true })).map((entry) => entry.address));
  let addresses: string[];
  try {
    addresses = await untilAborted(resolve(host), signal);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') {
      throw new HttpRequestError(`the host ${host} was not found (DNS ${code}); check the URL.`);
    }
    throw error;
  }
  if (addresses.length === 0) throw new HttpRequestError(`the host ${host} has no addresses; check the URL.`);
  // Every address is checked, not only the first: a name that mixes public and private
  // addresses is a rebinding attempt.
  for (const address of addresses) {
    if (isIP(address) === 0)
      throw new HttpRequestError(`the resolver gave "${address}" for ${host}, which is not an IP address.`);
    settings.policy.checkAddress(address, port, host);
  }
  return addresses[0]!;
}

/** A `lookup` that answers every query with the one address already checked. */
function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address);
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

async function readResponse(
  response: IncomingMessage,
  url: URL,
  redirects: string[],
  notes: string[],
  settings: GuardedRequestSettings,
  signal: AbortSignal,
): Promise<ReceivedResponse> {
  const chunks: Buffer[] = [];
  let total = 0;
  let truncated = false;
  const stream = decoded(response);
  const onAbort = () => stream.destroy(signal.reason as Error);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const room = settings.maxResponseBytes - total;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        total += room;
        truncated = true;
        break;
      }
      chunks.push(chunk);
      total += chunk.length;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Stop reading: the rest of a large body is not downloaded.
    response.destroy();
    if (stream !== response) stream.destroy();
  }
  // Secrets are redacted here, on the raw header values and body bytes, before anything
  // shortens, decodes or converts them.
  const { secrets } = settings;
  const headers: Array<[string, string]> = [];
  for (let index = 0; index + 1 < response.rawHeaders.length; index += 2) {
    headers.push([response.rawHeaders[index]!.toLowerCase(), secrets.redact(response.rawHeaders[index + 1]!)]);
  }
  return {
    status: response.statusCode ?? 0,
    statusText: secrets.redact(response.statusMessage ?? ''),
    headers,
    body: secrets.redactBytes(Buffer.concat(chunks), { cutPartialTail: truncated }),
    truncated,
    url: url.href,
    redirects,
    notes,
  };
}

/** The body stream, decompressed when the server compressed it (the byte cap counts decompressed bytes). */
function decoded(response: IncomingMessage): Readable {
  const encoding = (response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decompressor =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (decompressor === undefined) return response;
  response.on('error', (error) => decompressor.destroy(error));
  return response.pipe(decompressor);
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function parseUrl(text: string, base?: URL): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new HttpPolicyError(`"${text}" is not a valid URL; give an absolute URL such as "https://example.com/page".`);
  }
}

function untilAborted<Value>(promise: Promise<Value>, signal: AbortSignal): Promise<Value> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Turn a failure into an error whose message says what happened, with secrets redacted. */
function describeFailure(
  error: unknown,
  url: URL,
  settings: GuardedRequestSettings,
  deadline: AbortSignal,
  abortSignal: AbortSignal,
): Error {
  if (error instanceof HttpPolicyError || error instanceof HttpRequestError) {
    const Kind = error.constructor as new (message: string) => Error;
    return new Kind(settings.secrets.redact(error.message));
  }
  const target = `${url.protocol}//${url.host}`;
  if (deadline.aborted && !abortSignal.aborted) {
    return new HttpRequestError(
      `the request to ${target} timed out after ${settings.timeoutMs} ms; try again later or a smaller request.`,
    );
  }
  if (abortSignal.aborted) return new HttpRequestError('the request was cancelled.');
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const messages: Record<string, string> = {
    ECONNREFUSED: `the connection to ${target} was refused; the server is not accepting connections.`,
    ECONNRESET: `the connection to ${target} was reset by the server.`,
    ETIMEDOUT: `the connection to ${target} timed out.`,
    EHOSTUNREACH: `${target} is unreachable from here.`,
    ENETUNREACH: `the network of ${target} is unreachable from here.`,
    HPE_INVALID_CONSTANT: `${target} did not answer with valid HTTP.`,
  };
  const known = messages[code];
  if (known !== undefined) return new HttpRequestError(known);
  if (/CERT|SSL|TLS/.test(code)) {
    return new HttpRequestError(
      `the TLS certificate of ${target} could not be verified (${code}); the site is not safe to use.`,
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new HttpRequestError(
    settings.secrets.redact(`the request to ${target} failed: ${reason}${code === '' ? '' : ` (${code})`}`),
  );
}
