/**
 * Secrets in HTTP headers: checked when the tools are created, attached by name at request time
 * only for the exact origins they belong to, and redacted from every text the tools return
 * (`secret-redaction.ts`).
 *
 * A secret's `hosts` entry names an origin: `api.example.com` means `https://api.example.com:443`
 * and nothing else; `api.example.com:8443` another port, still https; a full
 * `http://localhost:8080` is the one way to allow plain http (a local service), and only to
 * that port. Wildcards are refused: a secret goes to the hosts written, not to whatever
 * subdomain a model finds.
 */
import type { HttpSecret } from './http-tool-options.js';
import type { NetworkPolicy } from './network-policy.js';
import { createRedactor } from './secret-redaction.js';

export interface SecretHeaders {
  readonly names: readonly string[];
  /** Origins a secret may go to, for the tool description and errors. */
  hostsOf(name: string): readonly string[];
  /** The header a secret is sent in, or `undefined` when it may not be sent to `url`'s origin. */
  headerFor(name: string, url: URL): { header: string; value: string } | undefined;
  /** `text` with every secret value (in any spelling) replaced by `[secret NAME]`. */
  redact(text: string, options?: { cutPartialTail?: boolean }): string;
  /** The same on raw bytes. */
  redactBytes(bytes: Buffer, options?: { cutPartialTail?: boolean }): Buffer;
}

/** An origin a secret may be sent to. */
interface SecretOrigin {
  protocol: 'https:' | 'http:';
  hostname: string;
  port: number;
  shown: string;
}

function parseOrigin(name: string, entry: string): SecretOrigin {
  const refuse = (why: string) =>
    new TypeError(`createHttpTools(): secret ${name}: host ${JSON.stringify(entry)} ${why}`);
  if (entry.includes('*')) {
    throw refuse('has a wildcard; name each host exactly (e.g. "api.example.com"), so the secret goes nowhere else');
  }
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `https://${entry}`);
  } catch {
    throw refuse('is not a host name, host:port or origin such as "https://api.example.com"');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw refuse('must be https (or an explicit http:// origin)');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw refuse('must be a host or an origin, without a path');
  }
  const protocol = url.protocol;
  const port = url.port === '' ? (protocol === 'https:' ? 443 : 80) : Number(url.port);
  const hostname = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  const defaultPort = protocol === 'https:' ? 443 : 80;
  const shown = protocol === 'https:' && port === 443 ? hostname : `${protocol}//${url.host}`;
  return { protocol, hostname, port: port === defaultPort ? defaultPort : port, shown };
}

export function createSecretHeaders(secrets: Record<string, HttpSecret>, policy: NetworkPolicy): SecretHeaders {
  const entries = Object.entries(secrets).map(([name, secret]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TypeError(`createHttpTools(): secret name ${JSON.stringify(name)} must be letters, digits and _`);
    }
    if (typeof secret.value !== 'string' || secret.value === '' || /[\r\n\0]/.test(secret.value)) {
      throw new TypeError(`createHttpTools(): secret ${name} needs a non-empty \`value\` without line breaks`);
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(secret.header ?? '')) {
      throw new TypeError(`createHttpTools(): secret ${name} needs a valid \`header\` name, e.g. "Authorization"`);
    }
    const format = secret.format ?? '{value}';
    if (!format.includes('{value}') || /[\r\n\0]/.test(format)) {
      throw new TypeError(`createHttpTools(): secret ${name}: \`format\` must contain {value} and no line breaks`);
    }
    const hosts = secret.hosts ?? policy.allowHosts;
    if (hosts === undefined || hosts.length === 0) {
      throw new TypeError(
        `createHttpTools(): secret ${name} needs \`hosts\` (or an \`allowHosts\` list) so that it is only sent where it belongs`,
      );
    }
    const headerValue = format.replaceAll('{value}', secret.value);
    return {
      name,
      header: secret.header,
      headerValue,
      value: secret.value,
      origins: hosts.map((host) => parseOrigin(name, host)),
    };
  });
  const redactor = createRedactor(
    entries.map((entry) => ({ name: entry.name, values: [entry.value, entry.headerValue] })),
  );
  return {
    names: entries.map((entry) => entry.name),
    hostsOf: (name) => entries.find((entry) => entry.name === name)?.origins.map((origin) => origin.shown) ?? [],
    headerFor(name, url) {
      const entry = entries.find((candidate) => candidate.name === name);
      if (entry === undefined) return undefined;
      const hostname = url.hostname
        .replace(/^\[|\]$/g, '')
        .replace(/\.$/, '')
        .toLowerCase();
      const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
      const allowed = entry.origins.some(
        (origin) => origin.protocol === url.protocol && origin.hostname === hostname && origin.port === port,
      );
      return allowed ? { header: entry.header, value: entry.headerValue } : undefined;
    },
    redact: (text, options) => redactor.redact(text, options),
    redactBytes: (bytes, options) => redactor.redactBytes(bytes, options),
  };
}
