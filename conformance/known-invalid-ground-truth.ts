/**
 * BFCL ground-truth calls that do not validate against their own function's schema.
 *
 * The suite expects every other ground-truth call to be `ready`, and expects exactly these to
 * be `invalid`: an entry here that starts passing fails the suite too, so the list cannot go
 * stale. Each entry says why the corpus, not Hataraku, is at fault.
 */

/** One ground-truth call BFCL's own schema rejects. */
export interface KnownInvalidGroundTruth {
  /** The BFCL entry id, e.g. `simple_python_17`. */
  id: string;
  /** Index of the call within the entry's ground truth (parallel entries have several). */
  call: number;
  /** What is wrong, in terms of the corpus. */
  reason: string;
}

export const knownInvalidGroundTruth: readonly KnownInvalidGroundTruth[] = [
  {
    // linear_regression_fit({x, y}): x and y are arrays of floats, but the answer passes the
    // Python expressions "data['sales']" and "data['future_sales']" as strings.
    id: 'parallel_multiple_21',
    call: 1,
    reason: 'x and y are arrays of float; the answer gives Python expressions as strings',
  },
  {
    // sort_list({elements}): elements is an array of integers, but the answer sorts fruit names.
    id: 'parallel_multiple_94',
    call: 0,
    reason: 'elements is an array of integer; the answer gives an array of strings',
  },
];

/** The key the suite uses for a call: `id#call`. */
export function callKey(id: string, call: number): string {
  return `${id}#${call}`;
}
