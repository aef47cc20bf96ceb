/** Options of the HTTP tools: network policy, limits and secrets. */

/**
 * A secret the model may ask to send, by name, without ever seeing its value. The value is put
 * into one header at request time and is redacted from everything the tool returns.
 */
export interface HttpSecret {
  /** The secret itself, e.g. an API token. */
  value: string;
  /** Header that carries it, e.g. `Authorization` or `X-Api-Key`. */
  header: string;
  /** Header value, with `{value}` where the secret goes; default `{value}`. E.g. `Bearer {value}`. */
  format?: string;
  /**
   * Exact origins the secret may be sent to: `api.github.com` (https, port 443),
   * `api.example.com:8443` (https, that port), or a full origin such as `http://localhost:8080`
   * (the only way to allow plain http). No wildcards. When omitted, the hosts of `allowHosts`
   * (which then must be exact); one of the two is required, so a secret never goes where a
   * model chooses.
   */
  hosts?: string[];
}

/** Options of {@link createHttpTools}. */
export interface HttpToolOptions {
  /**
   * Hosts the tools may reach; when given, every other host is refused. Exact names
   * (`api.example.com`) or wildcards for subdomains (`*.example.com`). Checked on every redirect.
   */
  allowHosts?: string[];
  /** Hosts always refused, in the same forms as `allowHosts`; wins over it. */
  denyHosts?: string[];
  /**
   * Refuse connections to loopback, private, link-local, cloud-metadata and other non-public
   * addresses (default true). The check is made on the resolved address, and the connection
   * goes to exactly the address checked, so DNS rebinding cannot get around it.
   */
  blockPrivateAddresses?: boolean;
  /**
   * Non-public addresses reachable anyway, for services an operator trusts: an address
   * (`10.1.2.3`), a network (`10.0.0.0/8`), or an address and port (`127.0.0.1:8080`,
   * `[::1]:8080`).
   */
  allowedPrivateAddresses?: string[];
  /**
   * Resolve a host name to its addresses (default: the system resolver, `dns.lookup`). An
   * injection point for a corporate DNS, or for tests.
   */
  resolve?: (hostname: string) => Promise<string[]>;
  /** Most response-body bytes read; reading stops there (default 5 MiB). */
  maxResponseBytes?: number;
  /** Most characters of body returned to the model (default 50 000). */
  maxOutputCharacters?: number;
  /** Total time of one call, redirects included, in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Most redirects followed (default 5). */
  maxRedirects?: number;
  /** Secrets by name; the name is what the model writes in a call's `secrets` list. */
  secrets?: Record<string, HttpSecret>;
  /** `User-Agent` sent when the call sets none (default `hataraku`). */
  userAgent?: string;
  /**
   * Hosts `http.request` may send data to (a method other than GET/HEAD, or a body) without a
   * person's approval; exact names or `*.example.com`. Sends anywhere else wait for approval:
   * the tool carries that policy itself (`defaultPolicies`), so any agent using it asks first
   * unless one of the agent's own policies matches the call.
   */
  sendAllowHosts?: string[];
}
