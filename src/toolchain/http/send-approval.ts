/**
 * The default approval for sending data out: a request that sends data (a method other than
 * GET or HEAD, or any body) to a host not on `sendAllowHosts` waits for a person, who sees the
 * destination and the body in the approval's reason. Without it, a model that read a secret
 * (or a prompt injection that made it read one) could post it anywhere in the same turn. GET
 * and HEAD without a body stay allowed to public addresses.
 *
 * It is a plain tool policy (`ask`), so the approval is durable like any other: the run waits
 * in the journal and is decided from outside it (`hataraku runs approve|deny`, or
 * `hataraku.approve()` / `deny()`), with the decider recorded.
 */
import type { ToolPolicy } from '../../agent/policy.js';

/** Characters of the body shown in the approval's reason. */
const shownBodyCharacters = 2_000;

interface SendInput {
  method?: unknown;
  url?: unknown;
  body?: unknown;
}

/** Whether a `http.request` input sends data: a method other than GET/HEAD, or a body. */
export function sendsData(input: unknown): boolean {
  const { method, body } = (input ?? {}) as SendInput;
  const verb = typeof method === 'string' ? method.toUpperCase() : 'GET';
  return (verb !== 'GET' && verb !== 'HEAD') || (typeof body === 'string' && body !== '');
}

/**
 * The policy: ask before `http.request` sends data to a host off `sendAllowHosts` (exact names
 * or `*.example.com` for subdomains).
 */
export function sendApprovalPolicy(sendAllowHosts: readonly string[] = []): ToolPolicy {
  const patterns = sendAllowHosts.map((host) => host.trim().toLowerCase().replace(/\.$/, ''));
  const allowed = (hostname: string) =>
    patterns.some((pattern) =>
      pattern.startsWith('*.')
        ? hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1
        : hostname === pattern,
    );
  return {
    tool: 'http.request',
    action: 'ask',
    when: (input) => {
      if (!sendsData(input)) return false;
      const hostname = hostOf((input as SendInput).url);
      return hostname === undefined || !allowed(hostname);
    },
    reason: (input) => describeSend(input as SendInput),
  };
}

function hostOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).hostname
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '')
      .toLowerCase();
  } catch {
    return undefined;
  }
}

function describeSend(input: SendInput): string {
  const method = typeof input.method === 'string' ? input.method.toUpperCase() : 'GET';
  const url = typeof input.url === 'string' ? input.url : String(input.url);
  const body = typeof input.body === 'string' ? input.body : '';
  const shown =
    body === ''
      ? 'no body'
      : `body (${body.length} characters): ${body.length > shownBodyCharacters ? `${body.slice(0, shownBodyCharacters)}…` : body}`;
  return `sends data to a host not on tools.http.sendAllowHosts: ${method} ${url}, ${shown}`;
}
