import { describe, expect, it } from 'vitest';
import { type CircuitPermit, type CircuitRefusal, createCircuitBreakerRegistry } from './circuit-breaker.js';

function manualClock(start = 1_000_000) {
  let time = start;
  return { now: () => time, advance: (milliseconds: number) => (time += milliseconds) };
}

function permit(result: CircuitPermit | CircuitRefusal): CircuitPermit {
  expect(result.allowed).toBe(true);
  return result as CircuitPermit;
}

describe('circuit breaker', () => {
  it('opens after the configured number of consecutive failures, not before', () => {
    const clock = manualClock();
    const breaker = createCircuitBreakerRegistry({ failureThreshold: 3, now: clock.now }).breaker('openai:gpt-4o-mini');
    permit(breaker.acquire()).failure();
    permit(breaker.acquire()).failure();
    expect(breaker.state()).toBe('closed');
    permit(breaker.acquire()).failure();
    expect(breaker.state()).toBe('open');
    expect(breaker.acquire()).toEqual({
      allowed: false,
      state: 'open',
      retryInMs: 30_000,
      reason: '3 consecutive failures',
    });
  });

  it('resets the consecutive count on a success', () => {
    const breaker = createCircuitBreakerRegistry({ failureThreshold: 2 }).breaker('a:b');
    permit(breaker.acquire()).failure();
    permit(breaker.acquire()).success();
    permit(breaker.acquire()).failure();
    expect(breaker.state()).toBe('closed');
  });

  it('opens on the failure rate over a full window even without a streak', () => {
    const breaker = createCircuitBreakerRegistry({
      failureThreshold: 10,
      failureRateThreshold: 0.5,
      failureRateWindow: 6,
    }).breaker('a:b');
    for (const failed of [true, false, true, false, true]) {
      const call = permit(breaker.acquire());
      if (failed) call.failure();
      else call.success();
    }
    expect(breaker.state()).toBe('closed');
    permit(breaker.acquire()).success();
    expect(breaker.state()).toBe('open');
    const refusal = breaker.acquire();
    expect(refusal).toMatchObject({ allowed: false, reason: '3 of the last 6 calls failed' });
  });

  it('lets one trial call through after the cooldown and closes when it succeeds', () => {
    const clock = manualClock();
    const breaker = createCircuitBreakerRegistry({ failureThreshold: 1, cooldownMs: 10_000, now: clock.now }).breaker(
      'a:b',
    );
    permit(breaker.acquire()).failure();
    clock.advance(9_999);
    expect(breaker.acquire()).toMatchObject({ allowed: false, state: 'open', retryInMs: 1 });
    clock.advance(1);
    expect(breaker.state()).toBe('half-open');
    const trial = permit(breaker.acquire());
    expect(trial.trial).toBe(true);
    expect(breaker.acquire()).toMatchObject({ allowed: false, state: 'half-open', retryInMs: 0 });
    trial.success();
    expect(breaker.state()).toBe('closed');
    expect(permit(breaker.acquire()).trial).toBe(false);
  });

  it('opens again for a full cooldown when the trial call fails', () => {
    const clock = manualClock();
    const breaker = createCircuitBreakerRegistry({ failureThreshold: 1, cooldownMs: 10_000, now: clock.now }).breaker(
      'a:b',
    );
    permit(breaker.acquire()).failure();
    clock.advance(10_000);
    permit(breaker.acquire()).failure();
    expect(breaker.state()).toBe('open');
    clock.advance(9_000);
    expect(breaker.acquire()).toMatchObject({ allowed: false, retryInMs: 1_000 });
    clock.advance(1_000);
    expect(permit(breaker.acquire()).trial).toBe(true);
  });

  it('frees the trial slot when the trial ends without a verdict', () => {
    const clock = manualClock();
    const breaker = createCircuitBreakerRegistry({ failureThreshold: 1, cooldownMs: 5, now: clock.now }).breaker('a:b');
    permit(breaker.acquire()).failure();
    clock.advance(5);
    permit(breaker.acquire()).release();
    expect(breaker.state()).toBe('half-open');
    expect(permit(breaker.acquire()).trial).toBe(true);
  });

  it('counts a permit once, however often it is settled', () => {
    const breaker = createCircuitBreakerRegistry({ failureThreshold: 2 }).breaker('a:b');
    const call = permit(breaker.acquire());
    call.failure();
    call.failure();
    expect(breaker.state()).toBe('closed');
  });

  it('keeps one breaker per upstream, shared by everyone holding the registry', () => {
    const registry = createCircuitBreakerRegistry({ failureThreshold: 1 });
    permit(registry.breaker('openai:gpt-4o-mini').acquire()).failure();
    expect(registry.breaker('openai:gpt-4o-mini').state()).toBe('open');
    expect(registry.breaker('groq:llama-3.1-8b').state()).toBe('closed');
    expect(registry.states()).toEqual([
      { upstream: 'openai:gpt-4o-mini', state: 'open' },
      { upstream: 'groq:llama-3.1-8b', state: 'closed' },
    ]);
  });

  it('names an option that is out of range', () => {
    expect(() => createCircuitBreakerRegistry({ failureThreshold: 0 })).toThrow(/failureThreshold/);
    expect(() => createCircuitBreakerRegistry({ failureRateThreshold: 1.5 })).toThrow(/failureRateThreshold/);
    expect(() => createCircuitBreakerRegistry({ cooldownMs: -1 })).toThrow(/cooldownMs/);
  });
});
