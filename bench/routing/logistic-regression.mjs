/**
 * Plain logistic regression: standardised features, L2 penalty (not on the intercept), fitted
 * by Newton's method. Deterministic and fast for a few dozen features on ~700 examples, which is
 * all a verifier here needs.
 */

/**
 * Fit P(label = 1 | features). Returns a `predict(features) => probability` function and the
 * fitted weights (on standardised features, intercept first) for reporting.
 *
 * @param {number[][]} rows feature vectors
 * @param {boolean[]} labels
 * @param {{ l2?: number, iterations?: number }} [settings]
 */
export function fitLogisticRegression(rows, labels, settings = {}) {
  const l2 = settings.l2 ?? 1;
  const iterations = settings.iterations ?? 25;
  const count = rows.length;
  if (count === 0 || labels.length !== count)
    throw new RangeError('rows and labels must be non-empty and of equal length');
  const width = rows[0].length;
  const means = Array.from({ length: width }, (_, column) => rows.reduce((sum, row) => sum + row[column], 0) / count);
  const deviations = means.map((mean, column) => {
    const variance = rows.reduce((sum, row) => sum + (row[column] - mean) ** 2, 0) / count;
    return Math.sqrt(variance) || 1;
  });
  // Column 0 is the intercept.
  const standardise = (row) => [1, ...row.map((value, column) => (value - means[column]) / deviations[column])];
  const inputs = rows.map(standardise);
  const targets = labels.map((label) => (label ? 1 : 0));
  const size = width + 1;
  const weights = new Array(size).fill(0);
  for (let iteration = 0; iteration < iterations; iteration += 1) {
    const gradient = weights.map((weight, column) => (column === 0 ? 0 : l2 * weight));
    const hessian = Array.from({ length: size }, (_, row) =>
      Array.from({ length: size }, (_, column) => (row === column && row > 0 ? l2 : 0)),
    );
    for (let index = 0; index < count; index += 1) {
      const input = inputs[index];
      const probability = sigmoid(dot(weights, input));
      const error = probability - targets[index];
      const curvature = probability * (1 - probability);
      for (let row = 0; row < size; row += 1) {
        gradient[row] += error * input[row];
        const scaled = curvature * input[row];
        for (let column = 0; column <= row; column += 1) hessian[row][column] += scaled * input[column];
      }
    }
    for (let row = 0; row < size; row += 1)
      for (let column = row + 1; column < size; column += 1) hessian[row][column] = hessian[column][row];
    const step = solve(hessian, gradient);
    let largest = 0;
    for (let column = 0; column < size; column += 1) {
      weights[column] -= step[column];
      largest = Math.max(largest, Math.abs(step[column]));
    }
    if (largest < 1e-8) break;
  }
  return { weights, predict: (row) => sigmoid(dot(weights, standardise(row))) };
}

/** Solve matrix · x = vector by Gaussian elimination with partial pivoting (copies its inputs). */
function solve(matrix, vector) {
  const size = vector.length;
  const rows = matrix.map((row, index) => [...row, vector[index]]);
  for (let pivot = 0; pivot < size; pivot += 1) {
    let best = pivot;
    for (let row = pivot + 1; row < size; row += 1)
      if (Math.abs(rows[row][pivot]) > Math.abs(rows[best][pivot])) best = row;
    [rows[pivot], rows[best]] = [rows[best], rows[pivot]];
    const lead = rows[pivot][pivot];
    if (Math.abs(lead) < 1e-12) throw new RangeError('logistic regression: singular Hessian');
    for (let row = pivot + 1; row < size; row += 1) {
      const factor = rows[row][pivot] / lead;
      if (factor === 0) continue;
      for (let column = pivot; column <= size; column += 1) rows[row][column] -= factor * rows[pivot][column];
    }
  }
  const solution = new Array(size).fill(0);
  for (let row = size - 1; row >= 0; row -= 1) {
    let sum = rows[row][size];
    for (let column = row + 1; column < size; column += 1) sum -= rows[row][column] * solution[column];
    solution[row] = sum / rows[row][row];
  }
  return solution;
}

function dot(left, right) {
  let sum = 0;
  for (let index = 0; index < left.length; index += 1) sum += left[index] * right[index];
  return sum;
}

function sigmoid(value) {
  return 1 / (1 + Math.exp(-value));
}
