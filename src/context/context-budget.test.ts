import { describe, expect, it } from 'vitest';
import { HatarakuError } from '../errors.js';
import type { ModelRequest } from '../models/spec.js';
import { checkContextBudget, measureContextBudget } from './context-budget.js';
import { countRequestTokens } from './token-counter.js';

const request: ModelRequest = {
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'List the primes below 100. '.repeat(40) },
  ],
};

describe('context budget', () => {
  const tokens = countRequestTokens(request, 'openai:gpt-4o-mini');

  it('passes a request within the budget and reports its size', () => {
    const measure = checkContextBudget(request, { maxInputTokens: tokens, modelName: 'openai:gpt-4o-mini' });
    expect(measure).toEqual({
      inputTokens: tokens,
      maxInputTokens: tokens,
      withinBudget: true,
      overBy: 0,
      exactTokenizer: true,
    });
  });

  it('stops a request over the budget with a clear budget_exceeded error', () => {
    let caught: unknown;
    try {
      checkContextBudget(request, { maxInputTokens: tokens - 10, modelName: 'anthropic:claude-sonnet-4-5' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HatarakuError);
    const error = caught as HatarakuError;
    expect(error.code).toBe('budget_exceeded');
    expect(error.message).toContain(
      `has ${tokens} input tokens (approximate count), over the context budget of ${tokens - 10} by 10`,
    );
    expect(error.details).toMatchObject({ overBy: 10, modelName: 'anthropic:claude-sonnet-4-5' });
  });

  it('measures without throwing, for a loop that compacts instead', () => {
    const measure = measureContextBudget(request, { maxInputTokens: 100, modelName: 'gpt-4.1' });
    expect(measure.withinBudget).toBe(false);
    expect(measure.overBy).toBe(tokens - 100);
    expect(() => measureContextBudget(request, { maxInputTokens: 0, modelName: 'gpt-4.1' })).toThrow(RangeError);
  });
});
