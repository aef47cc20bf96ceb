/**
 * Circuit breakers for upstream models: stop calling an upstream that keeps failing, and try it
 * again after a cooldown.
 *
 * One breaker per upstream (`provider:modelId`), kept in a `CircuitBreakerRegistry` that the
 * caller creates and shares between the routes that should see the same health (there is no
 * process-wide registry). States:
 * - `closed`: calls go through. It opens after `failureThreshold` consecutive failures, or when
 *   the last `failureRateWindow` calls failed at `failureRateThreshold` or more (a flapping
 *   upstream that never fails five times in a row).
 * - `open`: calls are refused until `cooldownMs` has passed since it opened.
 * - `half-open`: one trial call goes through; the others are refused while it runs. Its
 *   success closes the circuit (counts reset), its failure opens it for another cooldown.
 */

/** Options of `createCircuitBreakerRegistry`. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** Share of failed calls, over the last `failureRateWindow` calls, that opens it (default 0.5). */
  failureRateThreshold?: number;
  /** Calls the failure rate is measured over; the rate counts once this many are known (default 20). */
  failureRateWindow?: number;
  /** Milliseconds an open circuit refuses calls before letting a trial through (default 30000). */
  cooldownMs?: number;
  /** Clock in milliseconds, default `Date.now`; injectable for tests. */
  now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/** Leave to make one call. Settle it exactly once; later settlements are ignored. */
export interface CircuitPermit {
  allowed: true;
  /** True for the single trial call of a half-open circuit. */
  trial: boolean;
  /** The call succeeded. */
  success(): void;
  /** The call failed in a way that says the upstream is unhealthy. */
  failure(): void;
  /** The call ended without saying anything about the upstream (aborted, a bad request). */
  release(): void;
}

/** A refused call. */
export interface CircuitRefusal {
  allowed: false;
  state: 'open' | 'half-open';
  /** Milliseconds until a trial call may go through; 0 while a trial is in flight. */
  retryInMs: number;
  /** Why the circuit is open, e.g. `5 consecutive failures`. */
  reason: string;
}

/** The breaker of one upstream. */
export interface CircuitBreaker {
  readonly upstream: string;
  state(): CircuitState;
  /** Ask to make a call. */
  acquire(): CircuitPermit | CircuitRefusal;
}

/** Breakers by upstream, created on first use with the registry's options. */
export interface CircuitBreakerRegistry {
  breaker(upstream: string): CircuitBreaker;
  /** The state of every upstream seen so far. */
  states(): Array<{ upstream: string; state: CircuitState }>;
}

interface ResolvedOptions {
  failureThreshold: number;
  failureRateThreshold: number;
  failureRateWindow: number;
  cooldownMs: number;
  now: () => number;
}

/** Create a registry of circuit breakers. Throws a RangeError naming an option that is out of range. */
export function createCircuitBreakerRegistry(options: CircuitBreakerOptions = {}): CircuitBreakerRegistry {
  const resolved: ResolvedOptions = {
    failureThreshold: wholeNumber('failureThreshold', options.failureThreshold ?? 5),
    failureRateThreshold: fraction('failureRateThreshold', options.failureRateThreshold ?? 0.5),
    failureRateWindow: wholeNumber('failureRateWindow', options.failureRateWindow ?? 20),
    cooldownMs: nonNegative('cooldownMs', options.cooldownMs ?? 30_000),
    now: options.now ?? Date.now,
  };
  const breakers = new Map<string, CircuitBreaker>();
  return {
    breaker(upstream) {
      let breaker = breakers.get(upstream);
      if (breaker === undefined) {
        breaker = createCircuitBreaker(upstream, resolved);
        breakers.set(upstream, breaker);
      }
      return breaker;
    },
    states() {
      return [...breakers.values()].map((breaker) => ({ upstream: breaker.upstream, state: breaker.state() }));
    },
  };
}

function createCircuitBreaker(upstream: string, options: ResolvedOptions): CircuitBreaker {
  let state: CircuitState = 'closed';
  let consecutiveFailures = 0;
  /** Outcomes of the latest calls while closed, oldest first; true for a failure. */
  let outcomes: boolean[] = [];
  let openedAt = 0;
  let openReason = '';
  let trialInFlight = false;

  const open = (reason: string) => {
    state = 'open';
    openedAt = options.now();
    openReason = reason;
    trialInFlight = false;
  };
  const close = () => {
    state = 'closed';
    consecutiveFailures = 0;
    outcomes = [];
    trialInFlight = false;
  };
  const record = (failed: boolean) => {
    outcomes.push(failed);
    if (outcomes.length > options.failureRateWindow) outcomes.shift();
    consecutiveFailures = failed ? consecutiveFailures + 1 : 0;
    if (consecutiveFailures >= options.failureThreshold) {
      open(`${consecutiveFailures} consecutive failures`);
      return;
    }
    const failures = outcomes.filter(Boolean).length;
    if (outcomes.length >= options.failureRateWindow && failures / outcomes.length >= options.failureRateThreshold) {
      open(`${failures} of the last ${outcomes.length} calls failed`);
    }
  };

  const permit = (trial: boolean): CircuitPermit => {
    let settled = false;
    const settle = (outcome: 'success' | 'failure' | 'release') => {
      if (settled) return;
      settled = true;
      if (trial) {
        if (outcome === 'success') close();
        else if (outcome === 'failure') open(`the trial call after the cooldown failed (${openReason})`);
        else trialInFlight = false;
        return;
      }
      // A call let through while closed says nothing once the circuit has opened meanwhile.
      if (state === 'closed' && outcome !== 'release') record(outcome === 'failure');
    };
    return {
      allowed: true,
      trial,
      success: () => settle('success'),
      failure: () => settle('failure'),
      release: () => settle('release'),
    };
  };

  return {
    upstream,
    state() {
      if (state === 'open' && options.now() - openedAt >= options.cooldownMs) return 'half-open';
      return state;
    },
    acquire() {
      if (state === 'closed') return permit(false);
      if (state === 'open') {
        const waited = options.now() - openedAt;
        if (waited < options.cooldownMs) {
          return { allowed: false, state: 'open', retryInMs: options.cooldownMs - waited, reason: openReason };
        }
        state = 'half-open';
      }
      if (trialInFlight) {
        return {
          allowed: false,
          state: 'half-open',
          retryInMs: 0,
          reason: `a trial call is in flight (${openReason})`,
        };
      }
      trialInFlight = true;
      return permit(true);
    },
  };
}

function wholeNumber(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `createCircuitBreakerRegistry: the ${name} option must be a whole number of at least 1, got ${value}.`,
    );
  }
  return value;
}

function fraction(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new RangeError(
      `createCircuitBreakerRegistry: the ${name} option must be a number above 0 and at most 1, got ${value}.`,
    );
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `createCircuitBreakerRegistry: the ${name} option must be a non-negative number of milliseconds, got ${value}.`,
    );
  }
  return value;
}
