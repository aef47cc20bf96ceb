/**
 * The network policy of the HTTP tools: which URLs (scheme, host allow- and deny-lists) and
 * which resolved addresses (public only, unless exempted) a request may reach. Refusals are
 * `HttpPolicyError`s whose message says what was refused and why.
 */
import { BlockList, isIP } from 'node:net';
import { ToolError } from '../../tools/tool-error.js';
import { nonPublicReason } from './address-policy.js';
import type { HttpToolOptions } from './http-tool-options.js';

/** A request the policy refuses; the message is meant for the model. */
export class HttpPolicyError extends ToolError<'refused-by-policy'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('refused-by-policy', message, options);
  }
}

/** Host names refused while private addresses are blocked, whatever they resolve to. */
const internalNames = [/^localhost$/, /\.localhost$/, /^metadata\.google\.internal$/, /^metadata$/];

export interface NetworkPolicy {
  /** Check a URL's scheme and host; throws `HttpPolicyError`. */
  checkUrl(url: URL): void;
  /** Check a resolved address for a connection to `port`; throws `HttpPolicyError`. */
  checkAddress(address: string, port: number, hostname: string): void;
  /** Whether `hostname` matches one of `patterns`. */
  hostMatches(hostname: string, patterns: readonly string[]): boolean;
  readonly allowHosts: readonly string[] | undefined;
}

export function createNetworkPolicy(options: HttpToolOptions): NetworkPolicy {
  const allowHosts = options.allowHosts?.map(normalizePattern);
  const denyHosts = (options.denyHosts ?? []).map(normalizePattern);
  const blockPrivate = options.blockPrivateAddresses ?? true;
  const exemptions = parseExemptions(options.allowedPrivateAddresses ?? []);
  const hostMatches = (hostname: string, patterns: readonly string[]) =>
    patterns.some((pattern) =>
      pattern.startsWith('*.')
        ? hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1
        : hostname === pattern,
    );
  return {
    allowHosts,
    hostMatches,
    checkUrl(url) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new HttpPolicyError(`${url.protocol} URLs are not supported; use an http:// or https:// URL.`);
      }
      if (url.username !== '' || url.password !== '') {
        throw new HttpPolicyError('URLs with a user name or password are refused; use a configured secret instead.');
      }
      const host = bareHost(url.hostname);
      if (hostMatches(host, denyHosts)) throw new HttpPolicyError(`the host ${host} is on the deny-list.`);
      if (allowHosts !== undefined && !hostMatches(host, allowHosts)) {
        throw new HttpPolicyError(
          `the host ${host} is not on the allow-list; allowed hosts: ${allowHosts.join(', ')}.`,
        );
      }
      if (blockPrivate && isIP(host) === 0 && internalNames.some((name) => name.test(host))) {
        throw new HttpPolicyError(`the host ${host} is an internal name; only public hosts can be reached.`);
      }
    },
    checkAddress(address, port, hostname) {
      if (!blockPrivate) return;
      const reason = nonPublicReason(address);
      if (reason === undefined) return;
      if (exemptions.some((exemption) => exemption(address, port))) return;
      const via = bareHost(hostname) === address ? address : `${bareHost(hostname)} (which resolves to ${address})`;
      throw new HttpPolicyError(`refused to connect to ${via}: it is ${reason}; only public addresses can be reached.`);
    },
  };
}

/** A URL host without IPv6 brackets, lower-cased, without a trailing dot. */
export function bareHost(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

function normalizePattern(pattern: string): string {
  const normalized = bareHost(pattern.trim());
  if (normalized === '' || (/[/:@\s]/.test(normalized.replace(/^\*\./, '')) && isIP(normalized) !== 6)) {
    throw new TypeError(
      `createHttpTools(): host pattern ${JSON.stringify(pattern)} must be a host name like "api.example.com" or "*.example.com"`,
    );
  }
  return normalized;
}

type Exemption = (address: string, port: number) => boolean;

function parseExemptions(entries: readonly string[]): Exemption[] {
  return entries.map((entry) => {
    const slash = entry.indexOf('/');
    if (slash !== -1) {
      const network = entry.slice(0, slash);
      const prefix = Number(entry.slice(slash + 1));
      const family = isIP(network) === 6 ? 'ipv6' : 'ipv4';
      const list = new BlockList();
      try {
        list.addSubnet(network, prefix, family);
      } catch (error) {
        throw new TypeError(
          `createHttpTools(): allowedPrivateAddresses entry ${JSON.stringify(entry)} is not a network`,
          {
            cause: error,
          },
        );
      }
      return (address) => isIP(address) !== 0 && list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
    }
    const withPort = /^\[([^\]]+)\]:(\d+)$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
    const address = bareHost(withPort?.[1] ?? entry);
    const port = withPort === null ? undefined : Number(withPort[2]);
    if (isIP(address) === 0) {
      throw new TypeError(
        `createHttpTools(): allowedPrivateAddresses entry ${JSON.stringify(entry)} must be an address, a network or address:port`,
      );
    }
    return (candidate, candidatePort) => candidate === address && (port === undefined || port === candidatePort);
  });
}
