/**
 * Who is calling: every request carries an API key (`Authorization: Bearer hk_…`), checked
 * against the key store, then against the key's rate limit. In development mode, turned on
 * explicitly and only on a loopback address, a request without a key acts as the `dev` key
 * (tenant `dev`, everything allowed).
 */
import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import type { Engine } from '../engine/engine.js';
import { ApiError } from './api-error.js';
import type { ApiKey, KeyStore } from './keys/key-store.js';
import { keyAllows } from './keys/key-store.js';
import type { RateLimiter } from './request-limits.js';

export interface AuthVariables {
  key: ApiKey;
}

export const developmentKey: ApiKey = {
  id: 'dev',
  name: 'dev',
  tenant: 'dev',
  budgetDayUsd: undefined,
  budgetMonthUsd: undefined,
  requestsPerMinute: undefined,
  agents: undefined,
  models: undefined,
  createdAt: 0,
  revokedAt: undefined,
};

/**
 * A console session: the browser holds only an opaque session token in an http-only cookie; the
 * journal keeps the key's id, checked again on each request. Requests that change something
 * must carry the session's CSRF token.
 */
export interface SessionLookup {
  /** The live session a cookie names: its key (undefined: the key was revoked), and its CSRF check. */
  find(
    cookieHeader: string | undefined,
  ): Promise<{ key: ApiKey | undefined; csrfMatches(token: string | undefined): boolean } | undefined>;
}

export function authenticate(init: {
  keys: KeyStore;
  rateLimiter: RateLimiter;
  development: boolean;
  /** Accept console sessions (cookie) as well as `Authorization: Bearer`. */
  sessions?: SessionLookup;
}): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function checkApiKey(context, next) {
    const header = context.req.header('authorization');
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const session = token ? undefined : await init.sessions?.find(context.req.header('cookie'));
    if (session) {
      const method = context.req.method;
      if (method !== 'GET' && method !== 'HEAD' && !session.csrfMatches(context.req.header('x-csrf-token'))) {
        throw new ApiError(
          403,
          'forbidden',
          'this request comes with a console session but without its CSRF token (header x-csrf-token); reload the console page.',
        );
      }
    }
    let key: ApiKey | undefined;
    if (session) {
      key = session.key;
      if (!key) {
        throw new ApiError(401, 'unauthorized', 'this console session ended: its API key was revoked; sign in again.');
      }
    } else if (token) {
      key = init.keys.verify(token);
      if (!key) {
        throw new ApiError(
          401,
          'unauthorized',
          'this API key is not valid or was revoked; create one with `hataraku keys create NAME --tenant TENANT`.',
        );
      }
    } else if (init.development) {
      refuseUnlessLocal(context.req.url, context.req.header('origin'), context.req.header('sec-fetch-site'));
      key = developmentKey;
    } else {
      throw new ApiError(
        401,
        'unauthorized',
        'an API key is required: send `Authorization: Bearer hk_…` (create one with `hataraku keys create NAME --tenant TENANT`).',
      );
    }
    if (key.requestsPerMinute !== undefined) init.rateLimiter.take(key.id, key.requestsPerMinute);
    context.set('key', key);
    await next();
  };
}

/**
 * Development mode answers without a key, so it must answer only this machine: a request whose
 * Host is not a loopback name (a DNS-rebinding page) or that a browser sent from another site (a
 * cross-site form post or fetch) is refused, before anything runs.
 */
function refuseUnlessLocal(url: string, origin: string | undefined, fetchSite: string | undefined): void {
  const requestUrl = new URL(url);
  const local = isLoopbackName(requestUrl.hostname);
  const sameSite = fetchSite === undefined || fetchSite === 'same-origin' || fetchSite === 'none';
  const sameOrigin = origin === undefined || origin === requestUrl.origin;
  if (!local || !sameSite || !sameOrigin) {
    throw new ApiError(
      403,
      'forbidden',
      'development mode answers without a key only to requests for a loopback address from this origin; send `Authorization: Bearer hk_…`.',
    );
  }
}

/** `localhost`, an IPv4 address in 127.0.0.0/8, or `::1` (bracketed or not). */
export function isLoopbackName(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

export function requireAgent(key: ApiKey, agentName: string): void {
  if (!keyAllows(key.agents, agentName)) {
    throw new ApiError(403, 'forbidden', `the key "${key.name}" may not run the agent "${agentName}".`);
  }
}

export function requireModel(key: ApiKey, modelName: string): void {
  if (!keyAllows(key.models, modelName)) {
    throw new ApiError(403, 'forbidden', `the key "${key.name}" may not use the model "${modelName}".`);
  }
}

/** Refuse (402 `budget_exceeded`) when the key's tenant has spent its day or month budget. */
export async function requireBudget(engine: Engine, key: ApiKey, now: number = Date.now()): Promise<void> {
  const date = new Date(now);
  const checks: Array<{ label: string; since: number; limitUsd: number | undefined }> = [
    {
      label: 'daily',
      since: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()),
      limitUsd: key.budgetDayUsd,
    },
    { label: 'monthly', since: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), limitUsd: key.budgetMonthUsd },
  ];
  for (const check of checks) {
    if (check.limitUsd === undefined) continue;
    const spent = await engine.spentUsd({
      scope: 'tenant',
      key: key.tenant,
      since: check.since,
      limitUsd: check.limitUsd,
    });
    if (spent >= check.limitUsd) {
      throw new ApiError(
        402,
        'budget_exceeded',
        `the ${check.label} budget of $${check.limitUsd} for tenant "${key.tenant}" is spent ($${spent.toFixed(4)}); raise it with a new key or wait for the next period.`,
      );
    }
  }
}

/** Whether a run is visible to a key: its own tenant's runs (the dev key sees all). */
export function canSeeRun(key: ApiKey, tenant: string | undefined): boolean {
  return key === developmentKey || tenant === key.tenant;
}
