/**
 * Which error a run fails with when the parallel tool steps of one turn fail together. The mixed
 * case is what a PostgreSQL crash gives: one step finds its commits lost, the other finds the
 * run's claim gone with them.
 */
import { describe, expect, it } from 'vitest';
import { HatarakuError, JournalError, LeaseLostError } from '../errors.js';
import { oneErrorForParallelFailures } from './parallel-failures.js';

const lost = new JournalError('journal_error', 'journal: the database restarted and lost steps 1, 2 of run run_a');
const taken = new LeaseLostError('lease_lost', 'run run_a: this process no longer owns the run');

describe('oneErrorForParallelFailures', () => {
  it('gives the lost steps, not an aggregate, when one step lost its commits and another its lease', () => {
    expect(oneErrorForParallelFailures(new AggregateError([taken, lost], '2 of 2 tasks failed'))).toBe(lost);
    expect(oneErrorForParallelFailures(new AggregateError([lost, taken], '2 of 2 tasks failed'))).toBe(lost);
  });

  it('gives the first of several errors that share a code', () => {
    const again = new LeaseLostError('lease_lost', 'run run_a: step 4 was not committed');
    expect(oneErrorForParallelFailures(new AggregateError([taken, again], '2 of 2 tasks failed'))).toBe(taken);
  });

  it('gives the lost lease when it stops the run beside an error that does not', () => {
    const budget = new HatarakuError('budget_exceeded', 'run run_a: budget spent');
    expect(oneErrorForParallelFailures(new AggregateError([budget, taken], '2 of 2 tasks failed'))).toBe(taken);
  });

  it('keeps the aggregate when the causes differ and none stops the run, or one is not a Hataraku error', () => {
    const budget = new HatarakuError('budget_exceeded', 'run run_a: budget spent');
    const cancelled = new HatarakuError('model_aborted', 'run run_a: cancelled');
    const mixed = new AggregateError([budget, cancelled], '2 of 2 tasks failed');
    expect(oneErrorForParallelFailures(mixed)).toBe(mixed);
    const bug = new AggregateError([lost, new TypeError('x is undefined')], '2 of 2 tasks failed');
    expect(oneErrorForParallelFailures(bug)).toBe(bug);
  });

  it('passes a single error through', () => {
    expect(oneErrorForParallelFailures(lost)).toBe(lost);
  });
});
