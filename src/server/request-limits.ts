/**
 * Guards every request passes: a body size limit, a cap on requests in flight, and a per-key
 * rate limit (a token bucket refilled continuously at `requestsPerMinute`).
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './api-error.js';

/** Refuse with 503 `server_busy` when `limit` requests are already being handled. */
export function concurrencyLimit(limit: number): MiddlewareHandler {
  let inFlight = 0;
  return async function limitConcurrency(_context, next) {
    if (inFlight >= limit) {
      throw new ApiError(
        503,
        'server_busy',
        `the server is handling ${limit} requests already; retry shortly (raise --max-concurrent-requests to allow more).`,
        { 'retry-after': '1' },
      );
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  };
}

export interface RateLimiter {
  /** Take one request from the bucket of `key`; throws `rate_limited` (429) when empty. */
  take(key: string, requestsPerMinute: number): void;
}

export function createRateLimiter(now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key, requestsPerMinute) {
      const time = now();
      const bucket = buckets.get(key) ?? { tokens: requestsPerMinute, at: time };
      bucket.tokens = Math.min(requestsPerMinute, bucket.tokens + ((time - bucket.at) / 60_000) * requestsPerMinute);
      bucket.at = time;
      if (bucket.tokens < 1) {
        buckets.set(key, bucket);
        const waitSeconds = Math.ceil(((1 - bucket.tokens) / requestsPerMinute) * 60);
        throw new ApiError(
          429,
          'rate_limited',
          `this key may make ${requestsPerMinute} requests per minute; retry in ${waitSeconds} s.`,
          { 'retry-after': String(waitSeconds) },
        );
      }
      bucket.tokens -= 1;
      buckets.set(key, bucket);
    },
  };
}
