/**
 * Plain logistic regression: standardised features, an L2 penalty (not on the intercept),
 * fitted by Newton's method. Deterministic and fast for a few dozen features on a few thousand
 * examples, which is all a routing verifier needs. The fitted model is plain JSON, so a trained
 * router can be written to a file and loaded again.
 */

/** A fitted model: weights on standardised features, intercept first. */
export interface LogisticModel {
  weights: number[];
  means: number[];
  deviations: number[];
}

/** Options of `fitLogisticRegression`. */
export interface LogisticFitOptions {
  /** L2 penalty on the standardised weights (default 1). */
  l2?: number;
  /** Most Newton steps (default 25). */
  iterations?: number;
  /**
   * Weights to start from (intercept first), e.g. a fit of the same rows with another penalty:
   * fewer Newton steps. Ignored when its length does not match.
   */
  initialWeights?: readonly number[] | undefined;
}

/**
 * Fit P(label = true | features). Throws a RangeError on empty or ragged input. With one class
 * only, the model is that class's smoothed share, whatever the features.
 */
export function fitLogisticRegression(
  rows: readonly (readonly number[])[],
  labels: readonly boolean[],
  options: LogisticFitOptions = {},
): LogisticModel {
  const l2 = options.l2 ?? 1;
  const iterations = options.iterations ?? 25;
  const count = rows.length;
  const first = rows[0];
  if (first === undefined || labels.length !== count) {
    throw new RangeError('fitLogisticRegression: rows and labels must be non-empty and of equal length.');
  }
  const width = first.length;
  if (rows.some((row) => row.length !== width)) {
    throw new RangeError('fitLogisticRegression: every row must have the same number of features.');
  }
  const means = Array.from({ length: width }, (_, column) => sum(rows, (row) => row[column] ?? 0) / count);
  const deviations = means.map((mean, column) => {
    const variance = sum(rows, (row) => ((row[column] ?? 0) - mean) ** 2) / count;
    return Math.sqrt(variance) || 1;
  });
  const positives = labels.filter((label) => label).length;
  if (positives === 0 || positives === count) {
    // One class only (e.g. a strong model judged right on every labelled run): the unpenalised
    // intercept would run off to infinity. The answer is a constant: the smoothed share.
    const share = (positives + 0.5) / (count + 1);
    return { weights: [Math.log(share / (1 - share)), ...new Array<number>(width).fill(0)], means, deviations };
  }
  const start =
    options.initialWeights?.length === width + 1 ? [...options.initialWeights] : new Array<number>(width + 1).fill(0);
  const model: LogisticModel = { weights: start, means, deviations };
  const inputs = rows.map((row) => standardise(model, row));
  const targets = labels.map((label) => (label ? 1 : 0));
  const size = width + 1;
  for (let iteration = 0; iteration < iterations; iteration += 1) {
    const gradient = model.weights.map((weight, column) => (column === 0 ? 0 : l2 * weight));
    const hessian = Array.from({ length: size }, (_, row) =>
      Array.from({ length: size }, (_, column) => (row === column && row > 0 ? l2 : 0)),
    );
    for (let index = 0; index < count; index += 1) {
      const input = inputs[index] ?? [];
      const probability = sigmoid(dot(model.weights, input));
      const error = probability - (targets[index] ?? 0);
      const curvature = probability * (1 - probability);
      for (let row = 0; row < size; row += 1) {
        const value = input[row] ?? 0;
        gradient[row] = (gradient[row] ?? 0) + error * value;
        const scaled = curvature * value;
        const hessianRow = hessian[row] ?? [];
        for (let column = 0; column <= row; column += 1) {
          hessianRow[column] = (hessianRow[column] ?? 0) + scaled * (input[column] ?? 0);
        }
      }
    }
    for (let row = 0; row < size; row += 1) {
      for (let column = row + 1; column < size; column += 1) {
        (hessian[row] ?? [])[column] = hessian[column]?.[row] ?? 0;
      }
    }
    const step = solve(hessian, gradient);
    let largest = 0;
    for (let column = 0; column < size; column += 1) {
      const change = step[column] ?? 0;
      model.weights[column] = (model.weights[column] ?? 0) - change;
      largest = Math.max(largest, Math.abs(change));
    }
    if (largest < 1e-8) break;
  }
  return model;
}

/** P(label = true) for one feature vector. */
export function predictProbability(model: LogisticModel, features: readonly number[]): number {
  return sigmoid(dot(model.weights, standardise(model, features)));
}

function standardise(model: LogisticModel, row: readonly number[]): number[] {
  return [1, ...row.map((value, column) => (value - (model.means[column] ?? 0)) / (model.deviations[column] ?? 1))];
}

/** Solve matrix · x = vector by Gaussian elimination with partial pivoting (copies its inputs). */
function solve(matrix: number[][], vector: number[]): number[] {
  const size = vector.length;
  const rows = matrix.map((row, index) => [...row, vector[index] ?? 0]);
  const at = (row: number, column: number): number => rows[row]?.[column] ?? 0;
  for (let pivot = 0; pivot < size; pivot += 1) {
    let best = pivot;
    for (let row = pivot + 1; row < size; row += 1)
      if (Math.abs(at(row, pivot)) > Math.abs(at(best, pivot))) best = row;
    const swap = rows[pivot] ?? [];
    rows[pivot] = rows[best] ?? [];
    rows[best] = swap;
    const lead = at(pivot, pivot);
    if (Math.abs(lead) < 1e-12) throw new RangeError('fitLogisticRegression: singular Hessian; raise the L2 penalty.');
    for (let row = pivot + 1; row < size; row += 1) {
      const factor = at(row, pivot) / lead;
      if (factor === 0) continue;
      const target = rows[row] ?? [];
      for (let column = pivot; column <= size; column += 1)
        target[column] = at(row, column) - factor * at(pivot, column);
    }
  }
  const solution = new Array<number>(size).fill(0);
  for (let row = size - 1; row >= 0; row -= 1) {
    let total = at(row, size);
    for (let column = row + 1; column < size; column += 1) total -= at(row, column) * (solution[column] ?? 0);
    solution[row] = total / at(row, row);
  }
  return solution;
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}

function dot(left: readonly number[], right: readonly number[]): number {
  let total = 0;
  for (let index = 0; index < left.length; index += 1) total += (left[index] ?? 0) * (right[index] ?? 0);
  return total;
}

function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-value));
}
