/**
 * An OpenAPI document's operations as tools named `<api>.<operationId>`. Calls go through the
 * guarded HTTP client, locked to the API's host (the model chooses arguments, never the host),
 * with its SSRF protection, deadline and size cap. GET, HEAD and OPTIONS are reads; PUT and
 * DELETE idempotent writes; POST, PATCH and others side effects. Every write is made durable
 * before it runs and carries `Idempotency-Key: <run id>:<step>`, the same after a crash and
 * resume, so a server that honours the header applies it once; writes need approval unless the
 * API's host is in `connectors.writeHosts`.
 */
import type { OpenApiSettings } from '../../config/connectors-settings.js';
import { type GuardedRequestSettings, sendGuardedRequest } from '../../toolchain/http/guarded-request.js';
import { createNetworkPolicy } from '../../toolchain/http/network-policy.js';
import { bodyText, header, mediaType } from '../../toolchain/http/response-text.js';
import { createSecretHeaders } from '../../toolchain/http/secret-headers.js';
import { tool } from '../../tools/define-tool.js';
import type { Tool, ToolEffect } from '../../tools/tool.js';
import { ConnectorError } from '../connector-error.js';
import type { ConnectorTool, SkippedOperation } from '../connector-tool.js';
import { withoutPatterns } from '../schema-patterns.js';
import { connectorToolNames } from '../tool-names.js';
import { buildRequest } from './build-request.js';
import { loadOpenApiDocument, type OpenApiDocument } from './load-document.js';
import { createConnectorAuth } from './openapi-auth.js';
import { type OperationPlan, planOperations } from './operations.js';
import { paginationHint } from './pagination.js';

export interface OpenApiToolSet {
  tools: ConnectorTool[];
  skipped: SkippedOperation[];
  /** Operations in the document, before filters. */
  total: number;
  filteredOut: number;
  baseURL: string;
  sourceVersion: string;
}

export interface OpenApiToolOptions {
  /** Hosts whose writes run without asking. */
  writeHosts?: readonly string[];
  /** Resolver for host names (tests, corporate DNS). */
  resolve?: (hostname: string) => Promise<string[]>;
  /** An already-loaded document (skips reading `settings.spec`). */
  document?: OpenApiDocument;
}

const readMethods = new Set(['GET', 'HEAD', 'OPTIONS']);
const idempotentMethods = new Set(['PUT', 'DELETE']);
const maxErrorBodyCharacters = 2_000;

export function effectOfMethod(method: string): ToolEffect {
  if (readMethods.has(method)) return 'none';
  return idempotentMethods.has(method) ? 'idempotent' : 'side-effect';
}

export async function createOpenApiTools(
  settings: OpenApiSettings,
  options: OpenApiToolOptions = {},
): Promise<OpenApiToolSet> {
  const label = `OpenAPI ${settings.name}`;
  const loaded =
    options.document === undefined
      ? await loadOpenApiDocument(settings.spec, label, {
          allowedPrivateAddresses: settings.allowedPrivateAddresses,
          ...(options.resolve ? { resolve: options.resolve } : {}),
        })
      : { document: options.document, sourceVersion: options.document.openapi };
  const document = loaded.document;
  const baseURL = settings.baseURL ?? serverURL(document, settings.spec);
  if (baseURL === undefined) {
    throw new ConnectorError(
      'connector_spec_invalid',
      `${label}: the document names no server URL; set connectors.openapi.${settings.name}.baseURL.`,
    );
  }
  const host = new URL(baseURL).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const guarded = (extraHosts: string[] = []): GuardedRequestSettings => {
    const policy = createNetworkPolicy({
      allowHosts: [host, ...extraHosts],
      allowedPrivateAddresses: settings.allowedPrivateAddresses,
    });
    return {
      policy,
      secrets: createSecretHeaders({}, policy),
      resolve: options.resolve,
      maxResponseBytes: settings.maxResponseBytes,
      timeoutMs: settings.timeoutMs,
      maxRedirects: 5,
      userAgent: 'hataraku',
    };
  };
  const requestSettings = guarded();
  const auth = createConnectorAuth(
    settings.auth,
    () => guarded(settings.auth?.type === 'oauth2' ? [new URL(settings.auth.tokenUrl).hostname] : []),
    label,
  );
  const writesAllowed = (options.writeHosts ?? []).includes(host);

  const catalog = planOperations(document, { include: settings.include, exclude: settings.exclude });
  const names = connectorToolNames(
    settings.name,
    catalog.operations.map((operation) => operation.id),
  );
  const tools: ConnectorTool[] = [];
  const skipped = [...catalog.skipped];
  for (const [position, plan] of catalog.operations.entries()) {
    const effect = effectOfMethod(plan.method);
    try {
      const defined = tool<Record<string, unknown>, string>({
        name: names[position] as string,
        description: plan.description.trim() === '' ? `${plan.method} ${plan.path}` : plan.description,
        input: withoutPatterns(plan.inputSchema),
        effect,
        execute: (input, context) =>
          callOperation(plan, input, {
            baseURL,
            requestSettings,
            auth,
            signal: context.abortSignal,
            idempotencyKey: effect === 'none' ? undefined : context.idempotencyKey,
          }),
      });
      tools.push({
        tool: defined as Tool,
        source: `openapi:${settings.name}`,
        operation: plan.id,
        destructive: effect !== 'none' && !writesAllowed,
      });
    } catch (error) {
      skipped.push({ operation: plan.id, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return {
    tools,
    skipped,
    total: catalog.total,
    filteredOut: catalog.filteredOut,
    baseURL,
    sourceVersion: loaded.sourceVersion,
  };
}

interface CallSettings {
  baseURL: string;
  requestSettings: GuardedRequestSettings;
  auth: ReturnType<typeof createConnectorAuth>;
  signal: AbortSignal;
  idempotencyKey: string | undefined;
}

async function callOperation(plan: OperationPlan, input: Record<string, unknown>, call: CallSettings): Promise<string> {
  const request = buildRequest(plan, input, call.baseURL);
  const send = async () => {
    const applied = await call.auth.apply(call.signal);
    const url = new URL(request.url);
    for (const [name, value] of applied.query) url.searchParams.set(name, value);
    return sendGuardedRequest(
      {
        method: request.method,
        url: url.href,
        headers: { ...request.headers, ...applied.headers },
        body: request.body,
        secretNames: [],
        // Writes are not replayed at another address: a redirect answer is reported instead.
        followRedirects: readMethods.has(plan.method),
        idempotencyKey: call.idempotencyKey,
      },
      call.requestSettings,
      call.signal,
    );
  };
  let response: Awaited<ReturnType<typeof sendGuardedRequest>>;
  try {
    response = await send();
    // A refused OAuth2 token: the request was not processed, so sending it again (same key) is safe.
    if (response.status === 401 && call.auth.refresh()) response = await send();
  } catch (error) {
    throw new Error(call.auth.redact(error instanceof Error ? error.message : String(error)));
  }
  const text = bodyText(response);
  const type = mediaType(response);
  let parsed: unknown;
  if (text !== undefined && /json/.test(type)) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  const lines = [`HTTP ${response.status} ${response.statusText}`.trim()];
  const hint = paginationHint(header(response, 'link'), parsed, request.queryArguments);
  if (hint !== undefined) lines.push(hint);
  const location = header(response, 'location');
  if (location !== undefined) lines.push(`location: ${location}`);
  if (plan.method === 'HEAD' || text === '') {
    lines.push('(no body)');
  } else if (text === undefined) {
    lines.push(`[binary body: ${response.body.length} bytes of ${type || 'unknown type'}, not shown]`);
  } else {
    lines.push(parsed === undefined ? text : compactJson(parsed, text));
  }
  if (response.truncated)
    lines.push(`[truncated: the body is longer than ${call.requestSettings.maxResponseBytes} bytes]`);
  const result = call.auth.redact(lines.join('\n'));
  if (response.status >= 400) {
    throw new Error(
      result.length > maxErrorBodyCharacters ? `${result.slice(0, maxErrorBodyCharacters)}… [cut]` : result,
    );
  }
  return result;
}

/**
 * The parsed body as compact JSON, or the text as received when it is nested too deeply to
 * serialise again: `JSON.parse` takes 200,000 nested arrays, `JSON.stringify` overflows the stack
 * on them, and the model was shown "Maximum call stack size exceeded" instead of the answer.
 */
function compactJson(parsed: unknown, text: string): string {
  try {
    return JSON.stringify(parsed);
  } catch {
    return text;
  }
}

/** The document's first server URL, variables filled with their defaults, made absolute against a spec URL. */
function serverURL(document: OpenApiDocument, specLocation: string): string | undefined {
  const servers = Array.isArray(document.servers) ? (document.servers as Array<Record<string, unknown>>) : [];
  const first = servers[0];
  if (first === undefined || typeof first.url !== 'string') return undefined;
  let url = first.url;
  const variables = (first.variables ?? {}) as Record<string, { default?: unknown }>;
  for (const [name, variable] of Object.entries(variables))
    url = url.replaceAll(`{${name}}`, String(variable.default ?? ''));
  if (/^https?:\/\//i.test(url)) return url;
  if (/^https?:\/\//i.test(specLocation)) return new URL(url, specLocation).href;
  return undefined;
}
