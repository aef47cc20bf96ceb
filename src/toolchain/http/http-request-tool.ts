/** `http.request`: one HTTP request under the network policy, answered as status, headers and body text. */
import { z } from 'zod';
import type { ToolDefaultPolicy } from '../../agent/policy.js';
import { tool } from '../../tools/define-tool.js';
import { type GuardedRequestSettings, sendGuardedRequest } from './guarded-request.js';
import { bodyText, mediaType } from './response-text.js';

const maxShownHeaders = 40;
const maxHeaderValueCharacters = 300;
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

const requestInput = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']).default('GET').describe('HTTP method.'),
  url: z.string().min(1).describe('Absolute http:// or https:// URL.'),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe('Request headers, e.g. {"Accept": "application/json", "Content-Type": "application/json"}.'),
  body: z.string().optional().describe('Request body as text (for JSON, a JSON string plus a Content-Type header).'),
  secrets: z
    .array(z.string())
    .optional()
    .describe(
      'Names of configured secrets to send; each goes into its own header (e.g. Authorization). You never see the values.',
    ),
  followRedirects: z.boolean().default(true).describe('Follow redirects (default true); false returns the 3xx answer.'),
});

export interface HttpToolLimits {
  maxOutputCharacters: number;
}

/** `sendApproval` is the tool's own default policy: ask before sending data out. */
export function createHttpRequestTool(
  settings: GuardedRequestSettings,
  limits: HttpToolLimits,
  sendApproval: ToolDefaultPolicy,
) {
  const secretLine =
    settings.secrets.names.length === 0
      ? 'No secrets are configured.'
      : `Secrets you may name in \`secrets\`: ${settings.secrets.names
          .map((name) => `${name} (for ${settings.secrets.hostsOf(name).join(', ')})`)
          .join('; ')}.`;
  return tool({
    name: 'http.request',
    description: [
      'Send an HTTP request and get the status, response headers and body text.',
      'Only public hosts can be reached (local and private network addresses are refused), redirects are followed and checked',
      `(at most ${settings.maxRedirects}), the call stops after ${settings.timeoutMs} ms, and at most ${settings.maxResponseBytes} body bytes are read`,
      `and ${limits.maxOutputCharacters} characters shown, with truncation stated.`,
      'To authenticate, list configured secret names in `secrets`; never put credentials in the URL or headers yourself.',
      secretLine,
      'Requests other than GET, HEAD and OPTIONS carry an Idempotency-Key header, so a retried call is not applied twice by servers that honour it.',
      'To read a web page as text, prefer web.fetch.',
      'Example: {"method": "POST", "url": "https://api.example.com/items", "headers": {"Content-Type": "application/json"}, "body": "{\\"name\\": \\"x\\"}"}.',
    ].join(' '),
    input: requestInput,
    // Only the caller knows what a POST does; the idempotency key lets a server deduplicate a retry.
    effect: 'side-effect',
    defaultPolicies: [sendApproval],
    execute: async (input, context) => {
      const response = await sendGuardedRequest(
        {
          method: input.method,
          url: input.url,
          headers: input.headers ?? {},
          body: input.body,
          secretNames: input.secrets ?? [],
          followRedirects: input.followRedirects,
          idempotencyKey: safeMethods.has(input.method) ? undefined : context.idempotencyKey,
        },
        settings,
        context.abortSignal,
      );
      const lines = [`${response.status} ${response.statusText}`.trim(), `${input.method} ${response.url}`];
      if (response.redirects.length > 0) lines.push(`(redirected from ${response.redirects.join(' -> ')})`);
      for (const [name, value] of response.headers.slice(0, maxShownHeaders)) {
        lines.push(
          `${name}: ${value.length > maxHeaderValueCharacters ? `${value.slice(0, maxHeaderValueCharacters)}…` : value}`,
        );
      }
      if (response.headers.length > maxShownHeaders) {
        lines.push(`[${response.headers.length - maxShownHeaders} more headers not shown]`);
      }
      lines.push('');
      const text = bodyText(response);
      if (text === undefined) {
        lines.push(
          `[binary body: ${response.body.length} bytes of ${mediaType(response) || 'unknown type'}, not shown]`,
        );
      } else {
        const redacted = settings.secrets.redact(text, { cutPartialTail: response.truncated });
        lines.push(
          redacted.length > limits.maxOutputCharacters ? redacted.slice(0, limits.maxOutputCharacters) : redacted,
        );
        if (redacted.length > limits.maxOutputCharacters) {
          lines.push(`[truncated: showing ${limits.maxOutputCharacters} of ${redacted.length} characters of the body]`);
        }
      }
      if (response.truncated) {
        lines.push(`[truncated: the body is longer than ${settings.maxResponseBytes} bytes; only that much was read]`);
      }
      lines.push(...response.notes);
      return settings.secrets.redact(lines.join('\n'));
    },
  });
}
