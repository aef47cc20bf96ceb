/**
 * Guards every request passes: a body size limit, a cap on requests in flight, and a per-key
 * rate limit (a token bucket refilled continuously at `requestsPerMinute`).
 */
import { ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from './api-error.js';

/**
 * Refuse bodies over `maxBytes` with 413 `body_too_large`. A body with a Content-Length is judged
 * by the header alone, which keeps the Node adapter's fast path for reading it (Hono's
 * `bodyLimit` touches the request's stream, which builds a full Fetch Request for every call);
 * a chunked body is counted as it is read, by `bodyLimit`.
 */
export function limitBodySize(maxBytes: number): MiddlewareHandler {
  const tooLarge = (): never => {
    throw bodyTooLarge(maxBytes);
  };
  const counted = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async function limitBody(context, next) {
    const method = context.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    const length = context.req.header('content-length');
    if (length !== undefined && context.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxBytes) tooLarge();
      return next();
    }
    return counted(context, next);
  };
}

export function bodyTooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    'body_too_large',
    `the request body is over ${maxBytes} bytes; send less (or raise --max-body-bytes).`,
  );
}

/**
 * Refuse with 503 `server_busy` when `limit` requests are already being handled. A request holds
 * its slot until its response has been written or its client went away, so a streamed response
 * (Server-Sent Events) counts until its stream ends, not just until its handler returns.
 *
 * Served by Node (`@hono/node-server`), the slot is released on the Node response's `close`,
 * which comes for every response: no response object is touched, so the adapter keeps its fast
 * path (reading `body` of its light Response builds a full Fetch Response). Called in process
 * (`app.request`, tests), an event stream's body is wrapped to see its end.
 */
export function concurrencyLimit(limit: number | RequestGate): MiddlewareHandler {
  const gate = typeof limit === 'number' ? createRequestGate(limit) : limit;
  return async function limitConcurrency(context, next) {
    const release = gate.enter();
    const outgoing = nodeResponseOf(context.env);
    if (outgoing) {
      outgoing.once('close', release);
      await next();
      return;
    }
    try {
      await next();
    } catch (error) {
      release();
      throw error;
    }
    const response = context.res;
    if (!response.headers.get('content-type')?.startsWith('text/event-stream') || !response.body) {
      release();
      return;
    }
    const reader = response.body.getReader();
    context.res = new Response(
      new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const { done, value } = await reader.read();
            if (done) {
              release();
              controller.close();
            } else controller.enqueue(value);
          } catch (error) {
            release();
            controller.error(error);
          }
        },
        cancel(reason) {
          release();
          return reader.cancel(reason);
        },
      }),
      response,
    );
  };
}

/**
 * The count of requests in flight, shared by the server's routes and its fast lane for chat
 * completions (`fast-lane.ts`).
 */
export interface RequestGate {
  /**
   * Take a slot; returns the function that gives it back (once, however often it is called).
   * Throws `server_busy` (503) when every slot is taken.
   */
  enter(): () => void;
}

export function createRequestGate(limit: number): RequestGate {
  let inFlight = 0;
  return {
    enter() {
      if (inFlight >= limit) {
        throw new ApiError(
          503,
          'server_busy',
          `the server is handling ${limit} requests already; retry shortly (raise --max-concurrent-requests to allow more).`,
          { 'retry-after': '1' },
        );
      }
      inFlight++;
      let released = false;
      return () => {
        if (!released) {
          released = true;
          inFlight--;
        }
      };
    },
  };
}

/** The Node response of a request served by `@hono/node-server` (its `env.outgoing`), if any. */
function nodeResponseOf(env: unknown): ServerResponse | undefined {
  if (typeof env !== 'object' || env === null || !('outgoing' in env)) return undefined;
  return env.outgoing instanceof ServerResponse ? env.outgoing : undefined;
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
