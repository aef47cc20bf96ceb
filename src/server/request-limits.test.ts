/** The per-key rate limit, on an explicit clock. */
import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { createRateLimiter } from './request-limits.js';

describe('the rate limiter', () => {
  it('allows a minute’s worth at once, then refills continuously', () => {
    let now = 0;
    const limiter = createRateLimiter(() => now);
    for (let request = 0; request < 3; request++) limiter.take('key', 3);
    let refused: unknown;
    try {
      limiter.take('key', 3);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited', headers: { 'retry-after': '20' } });
    now = 20_000;
    expect(() => limiter.take('key', 3)).not.toThrow();
    expect(() => limiter.take('key', 3)).toThrow(/3 requests per minute/);
    expect(() => limiter.take('other key', 3)).not.toThrow();
  });
});
