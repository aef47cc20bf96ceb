/**
 * Credentials of an OpenAPI connector, applied to each request: a bearer token, an API key in a
 * header or the query, basic auth, or an OAuth2 client-credentials token that is fetched when
 * first needed, kept until shortly before it expires, and fetched again after a 401. Every
 * value is also known to `redact`, so no response text or error carries it to the model.
 */
import type { OpenApiAuthSettings } from '../../config/connectors-settings.js';
import type { GuardedRequestSettings } from '../../toolchain/http/guarded-request.js';
import { sendGuardedRequest } from '../../toolchain/http/guarded-request.js';
import { ConnectorError } from '../connector-error.js';

export interface AppliedAuth {
  headers: Record<string, string>;
  query: Array<[string, string]>;
}

export interface ConnectorAuth {
  apply(signal: AbortSignal): Promise<AppliedAuth>;
  /** Forget a token the server refused (401); returns whether a new one can be fetched. */
  refresh(): boolean;
  redact(text: string): string;
}

export function createConnectorAuth(
  auth: OpenApiAuthSettings | undefined,
  tokenRequestSettings: () => GuardedRequestSettings,
  label: string,
): ConnectorAuth {
  const secrets = new Set<string>();
  const remember = (...values: string[]) => {
    for (const value of values) {
      if (value.length < 4) continue;
      secrets.add(value);
      secrets.add(encodeURIComponent(value));
      secrets.add(Buffer.from(value).toString('base64'));
    }
  };
  let token: { value: string; expiresAt: number } | undefined;
  if (auth?.type === 'bearer') remember(auth.token);
  if (auth?.type === 'apiKey') remember(auth.value);
  if (auth?.type === 'basic') remember(auth.password, `${auth.username}:${auth.password}`);
  if (auth?.type === 'oauth2') remember(auth.clientSecret, `${auth.clientId}:${auth.clientSecret}`);

  async function oauthToken(settings: Extract<OpenApiAuthSettings, { type: 'oauth2' }>, signal: AbortSignal) {
    if (token !== undefined && token.expiresAt > Date.now()) return token.value;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (settings.scopes.length > 0) form.set('scope', settings.scopes.join(' '));
    const basic = Buffer.from(
      `${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`,
    ).toString('base64');
    remember(basic);
    let response: Awaited<ReturnType<typeof sendGuardedRequest>>;
    try {
      response = await sendGuardedRequest(
        {
          method: 'POST',
          url: settings.tokenUrl,
          headers: {
            authorization: `Basic ${basic}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: form.toString(),
          secretNames: [],
          followRedirects: false,
        },
        tokenRequestSettings(),
        signal,
      );
    } catch (error) {
      throw new ConnectorError(
        'connector_failed',
        redact(`${label}: the OAuth2 token request failed: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
    let parsed: { access_token?: unknown; expires_in?: unknown } = {};
    try {
      parsed = JSON.parse(response.body.toString('utf8')) as typeof parsed;
    } catch {
      // handled below: no token
    }
    if (response.status !== 200 || typeof parsed.access_token !== 'string') {
      throw new ConnectorError(
        'connector_failed',
        `${label}: the OAuth2 token endpoint answered ${response.status} without an access_token; check the client id, secret and scopes.`,
      );
    }
    remember(parsed.access_token);
    const lifetimeSeconds = typeof parsed.expires_in === 'number' ? parsed.expires_in : 3600;
    // Refreshed a little early, so that a token does not expire between here and the server.
    token = { value: parsed.access_token, expiresAt: Date.now() + Math.max(0, lifetimeSeconds - 30) * 1000 };
    return token.value;
  }

  function redact(text: string): string {
    let result = text;
    for (const value of [...secrets].sort((a, b) => b.length - a.length)) result = result.split(value).join('[secret]');
    return result;
  }

  return {
    async apply(signal) {
      switch (auth?.type) {
        case undefined:
          return { headers: {}, query: [] };
        case 'bearer':
          return { headers: { authorization: `Bearer ${auth.token}` }, query: [] };
        case 'apiKey':
          return auth.in === 'header'
            ? { headers: { [auth.name.toLowerCase()]: auth.value }, query: [] }
            : { headers: {}, query: [[auth.name, auth.value]] };
        case 'basic':
          return {
            headers: { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` },
            query: [],
          };
        case 'oauth2':
          return { headers: { authorization: `Bearer ${await oauthToken(auth, signal)}` }, query: [] };
      }
    },
    refresh() {
      if (auth?.type !== 'oauth2' || token === undefined) return false;
      token = undefined;
      return true;
    },
    redact,
  };
}
