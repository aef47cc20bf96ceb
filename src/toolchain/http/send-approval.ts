/**
 * The default approval for sending data out: a request that sends data (a method other than
 * GET or HEAD, or any body) to a host not on `sendAllowHosts` waits for a person, who sees the
 * destination and the body in the approval's reason. Without it, a model that read a secret
 * (or a prompt injection that made it read one) could post it anywhere in the same turn. GET
 * and HEAD without a body stay allowed to public addresses.
 *
 * `http.request` carries it as its own default policy (`Tool.defaultPolicies`), so every agent
 * that uses the tool gets it without wiring; a caller's policy that matches the call wins. It is
 * a plain `ask`, so the approval is durable like any other: the run waits in the journal and is
 * decided from outside it (`hataraku runs approve|deny`, or `hataraku.approve()` / `deny()`),
 * with the decider recorded.
 */
import type { ToolDefaultPolicy, ToolPolicy } from '../../agent/policy.js';

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
 * `http.request`'s own default policy: ask before sending data to a host off `sendAllowHosts`
 * (exact names or `*.example.com` for subdomains).
 */
export function sendApprovalDefaultPolicy(sendAllowHosts: readonly string[] = []): ToolDefaultPolicy {
  const allowed = hostMatcher(sendAllowHosts);
  return {
    action: 'ask',
    when: (input) => {
      if (!sendsData(input)) return false;
      const hostname = hostOf((input as SendInput).url);
      return hostname === undefined || !allowed(hostname);
    },
    reason: (input) => describeSend(input as SendInput),
  };
}

/**
 * The same as an agent policy, for callers that list policies themselves (`builtinToolPolicies`).
 * Since the tool carries it too, this matters only when the tool was created with other
 * `sendAllowHosts`; {@link sendAllowPolicy} then lets the caller's listed hosts through.
 */
export function sendApprovalPolicy(sendAllowHosts: readonly string[] = []): ToolPolicy {
  return { tool: 'http.request', ...sendApprovalDefaultPolicy(sendAllowHosts) };
}

/**
 * Allow `http.request` sends to `sendAllowHosts` explicitly. As a caller policy it wins over the
 * tool's own default, so hosts a caller lists stay allowed even when the tool was created
 * without them.
 */
export function sendAllowPolicy(sendAllowHosts: readonly string[]): ToolPolicy {
  const allowed = hostMatcher(sendAllowHosts);
  return {
    tool: 'http.request',
    action: 'allow',
    when: (input) => {
      if (!sendsData(input)) return false;
      const hostname = hostOf((input as SendInput).url);
      return hostname !== undefined && allowed(hostname);
    },
    reason: 'sends data to a host on tools.http.sendAllowHosts',
  };
}

function hostMatcher(sendAllowHosts: readonly string[]): (hostname: string) => boolean {
  const patterns = sendAllowHosts.map((host) => host.trim().toLowerCase().replace(/\.$/, ''));
  return (hostname) =>
    patterns.some((pattern) =>
      pattern.startsWith('*.')
        ? hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1
        : hostname === pattern,
    );
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
