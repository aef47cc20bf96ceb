/**
 * The HTTP tools, `http.request` and `web.fetch`, created from one set of options: the host
 * lists, the private-address protection, limits and secrets are shared by both.
 */
import type { Tool } from '../../tools/tool.js';
import type { GuardedRequestSettings } from './guarded-request.js';
import { createHttpRequestTool } from './http-request-tool.js';
import type { HttpToolOptions } from './http-tool-options.js';
import { createNetworkPolicy } from './network-policy.js';
import { createSecretHeaders } from './secret-headers.js';
import { sendApprovalDefaultPolicy } from './send-approval.js';
import { createWebFetchTool } from './web-fetch-tool.js';

/**
 * Create `http.request` and `web.fetch`.
 * @throws TypeError naming the option when a host pattern, address or secret is malformed, or a
 *   secret has no hosts to be sent to; RangeError when a limit is not a positive integer.
 */
export function createHttpTools(options: HttpToolOptions = {}): Tool[] {
  const policy = createNetworkPolicy(options);
  const settings: GuardedRequestSettings = {
    policy,
    secrets: createSecretHeaders(options.secrets ?? {}, policy),
    resolve: options.resolve,
    maxResponseBytes: limit(options.maxResponseBytes, 5 * 1024 * 1024, 'maxResponseBytes'),
    timeoutMs: limit(options.timeoutMs, 30_000, 'timeoutMs'),
    maxRedirects: limit(options.maxRedirects, 5, 'maxRedirects', 0),
    userAgent: options.userAgent ?? 'hataraku',
  };
  const limits = { maxOutputCharacters: limit(options.maxOutputCharacters, 50_000, 'maxOutputCharacters') };
  const sendAllowHosts = options.sendAllowHosts ?? [];
  if (!Array.isArray(sendAllowHosts) || !sendAllowHosts.every((host) => typeof host === 'string')) {
    throw new TypeError('createHttpTools(): `sendAllowHosts` must be a list of host names such as ["api.example.com"]');
  }
  const sendApproval = sendApprovalDefaultPolicy(sendAllowHosts);
  return [createHttpRequestTool(settings, limits, sendApproval), createWebFetchTool(settings, limits)] as Tool[];
}

function limit(value: number | undefined, fallback: number, name: string, minimum = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new RangeError(
      `createHttpTools(): \`${name}\` must be an integer of at least ${minimum}, got ${String(value)}`,
    );
  }
  return value;
}

export { HttpRequestError } from './guarded-request.js';
export type { HttpSecret, HttpToolOptions } from './http-tool-options.js';
export { HttpPolicyError } from './network-policy.js';
