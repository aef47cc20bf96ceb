/**
 * Secrets in HTTP headers: checked when the tools are created, attached by name at request time
 * only for the hosts they belong to, and redacted from every text the tools return, in the
 * forms a server is likely to echo them (as sent, URL-encoded, base64, JSON-escaped).
 */
import type { HttpSecret } from './http-tool-options.js';
import type { NetworkPolicy } from './network-policy.js';

export interface SecretHeaders {
  readonly names: readonly string[];
  /** Hosts a secret may go to, for the tool description and errors. */
  hostsOf(name: string): readonly string[];
  /** The header a secret is sent in, or `undefined` when it may not be sent to `hostname`. */
  headerFor(name: string, hostname: string): { header: string; value: string } | undefined;
  /** `text` with every secret value (in any known form) replaced by `[secret NAME]`. */
  redact(text: string, options?: { cutPartialTail?: boolean }): string;
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
    const forms = new Set([
      secret.value,
      headerValue,
      encodeURIComponent(secret.value),
      base64(secret.value),
      base64(headerValue),
    ]);
    forms.add(JSON.stringify(secret.value).slice(1, -1));
    return {
      name,
      header: secret.header,
      headerValue,
      hosts: hosts.map((host) => host.toLowerCase()),
      forms: [...forms],
    };
  });
  // Longest first, so that a value containing another secret's value is replaced whole.
  const redactions = entries
    .flatMap((entry) => entry.forms.map((form) => ({ form, label: `[secret ${entry.name}]` })))
    .sort((a, b) => b.form.length - a.form.length);
  return {
    names: entries.map((entry) => entry.name),
    hostsOf: (name) => entries.find((entry) => entry.name === name)?.hosts ?? [],
    headerFor(name, hostname) {
      const entry = entries.find((candidate) => candidate.name === name);
      if (entry === undefined || !policy.hostMatches(hostname, entry.hosts)) return undefined;
      return { header: entry.header, value: entry.headerValue };
    },
    redact(text, options = {}) {
      let result = text;
      for (const { form, label } of redactions) result = result.split(form).join(label);
      if (options.cutPartialTail) {
        // A body cut at the size cap may end in the first characters of a secret.
        for (const { form } of redactions) {
          for (let length = Math.min(form.length - 1, result.length); length >= 2; length--) {
            if (result.endsWith(form.slice(0, length))) {
              result = `${result.slice(0, -length)}[secret cut]`;
              break;
            }
          }
        }
      }
      return result;
    },
  };
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}
