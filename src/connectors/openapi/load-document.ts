/**
 * Reading an OpenAPI document: from a file or an http(s) URL (through the guarded HTTP client),
 * as JSON or YAML, checked to be OpenAPI 3.0, 3.1 or Swagger 2.0; Swagger 2.0 is converted to
 * OpenAPI 3.0 so that everything after works with one shape.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { sendGuardedRequest } from '../../toolchain/http/guarded-request.js';
import { createNetworkPolicy } from '../../toolchain/http/network-policy.js';
import { createSecretHeaders } from '../../toolchain/http/secret-headers.js';
import { ConnectorError } from '../connector-error.js';
import type { OpenApiDocument } from './openapi-document.js';
import { convertSwagger2 } from './swagger2.js';

/** An OpenAPI 3.x document, loosely typed: it is external input, read defensively. */
export type { OpenApiDocument } from './openapi-document.js';

export interface LoadedDocument {
  document: OpenApiDocument;
  /** The version the source was written in: `2.0`, `3.0.x`, `3.1.x`. */
  sourceVersion: string;
}

export interface LoadDocumentOptions {
  /** Non-public addresses a document URL may be fetched from. */
  allowedPrivateAddresses?: string[];
  resolve?: (hostname: string) => Promise<string[]>;
}

export async function loadOpenApiDocument(
  location: string,
  label: string,
  options: LoadDocumentOptions = {},
): Promise<LoadedDocument> {
  const text = /^https?:\/\//i.test(location)
    ? await fetchText(location, label, options)
    : await readFile(location, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new ConnectorError(
          'connector_spec_invalid',
          `${label}: cannot read the OpenAPI document ${location} (${error.code ?? error.message}); check connectors.openapi spec.`,
        );
      });
  return parseOpenApiText(text, `${label}: ${location}`);
}

/** Parse a document's text (JSON or YAML) and bring it to OpenAPI 3. */
export function parseOpenApiText(text: string, label: string): LoadedDocument {
  let parsed: unknown;
  try {
    parsed = text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 10_000 });
  } catch (error) {
    throw new ConnectorError(
      'connector_spec_invalid',
      `${label} is neither valid JSON nor YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConnectorError('connector_spec_invalid', `${label} is not an OpenAPI document (not an object).`);
  }
  const record = parsed as Record<string, unknown>;
  if (record.swagger === '2.0') return { document: convertSwagger2(record), sourceVersion: '2.0' };
  if (typeof record.openapi === 'string' && /^3\.[01]\./.test(record.openapi)) {
    return { document: record as OpenApiDocument, sourceVersion: record.openapi };
  }
  const found = typeof record.openapi === 'string' ? `openapi ${record.openapi}` : `swagger ${String(record.swagger)}`;
  throw new ConnectorError(
    'connector_spec_invalid',
    `${label} is ${found}; Hataraku reads OpenAPI 3.0, 3.1 and Swagger 2.0 documents.`,
  );
}

async function fetchText(url: string, label: string, options: LoadDocumentOptions): Promise<string> {
  const policy = createNetworkPolicy({
    allowHosts: [new URL(url).hostname],
    allowedPrivateAddresses: options.allowedPrivateAddresses ?? [],
  });
  try {
    const response = await sendGuardedRequest(
      {
        method: 'GET',
        url,
        headers: { accept: 'application/json, application/yaml, text/yaml, */*' },
        body: undefined,
        secretNames: [],
        followRedirects: true,
      },
      {
        policy,
        secrets: createSecretHeaders({}, policy),
        resolve: options.resolve,
        maxResponseBytes: 100 * 1024 * 1024,
        timeoutMs: 60_000,
        maxRedirects: 5,
        userAgent: 'hataraku',
      },
      AbortSignal.timeout(60_000),
    );
    if (response.status !== 200) throw new Error(`the server answered ${response.status} ${response.statusText}`);
    return response.body.toString('utf8');
  } catch (error) {
    throw new ConnectorError(
      'connector_spec_invalid',
      `${label}: cannot fetch the OpenAPI document ${url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
