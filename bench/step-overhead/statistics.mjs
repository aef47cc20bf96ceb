/** Summary statistics of a list of samples (nearest-rank percentiles). */

function percentile(sorted, fraction) {
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1];
}

/**
 * @param {number[]} samples
 * @returns {{ count: number, median: number, p90: number, mean: number, min: number, max: number }}
 */
export function summarize(samples) {
  if (samples.length === 0) throw new RangeError('summarize(): no samples');
  const sorted = [...samples].sort((left, right) => left - right);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    median: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    mean: total / sorted.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
  };
}
