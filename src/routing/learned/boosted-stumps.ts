/**
 * Gradient-boosted decision stumps for a probability: each round adds one split on one feature
 * (a Newton step on the logistic loss, shrunk by the learning rate), so the model can learn a
 * threshold or an interaction that a logistic regression's straight line misses, such as "a
 * short answer is fine unless the working is long". Candidate splits sit at up to 15 quantiles of
 * each feature. Deterministic, no dependencies, and the fitted model is plain JSON.
 */

/** One split: `feature ≤ cut` adds `below` to the log-odds, otherwise `above`. */
export interface Stump {
  feature: number;
  cut: number;
  below: number;
  above: number;
}

/** A fitted model: the starting log-odds and the stumps (already multiplied by the learning rate). */
export interface BoostedStumps {
  bias: number;
  stumps: Stump[];
}

/** Options of `fitBoostedStumps`. */
export interface BoostedStumpsOptions {
  /** Rounds of boosting (default 100). */
  rounds?: number;
  /** Shrinkage of each round's step (default 0.1). */
  learningRate?: number;
  /** Fewest examples on each side of a split (default 20). */
  minimumLeaf?: number;
  /** L2 penalty on each leaf's value, as in the Newton step (default 1). */
  l2?: number;
}

/** Fit P(label = true | features). Throws a RangeError on empty or ragged input. */
export function fitBoostedStumps(
  rows: readonly (readonly number[])[],
  labels: readonly boolean[],
  options: BoostedStumpsOptions = {},
): BoostedStumps {
  const rounds = options.rounds ?? 100;
  const learningRate = options.learningRate ?? 0.1;
  const minimumLeaf = options.minimumLeaf ?? 20;
  const l2 = options.l2 ?? 1;
  const count = rows.length;
  const first = rows[0];
  if (first === undefined || labels.length !== count) {
    throw new RangeError('fitBoostedStumps: rows and labels must be non-empty and of equal length.');
  }
  const width = first.length;
  if (rows.some((row) => row.length !== width)) {
    throw new RangeError('fitBoostedStumps: every row must have the same number of features.');
  }
  const positives = labels.filter(Boolean).length;
  const bias = Math.log((positives + 1) / (count - positives + 1));
  const cuts = Array.from({ length: width }, (_, feature) => candidateCuts(rows.map((row) => row[feature] ?? 0)));
  // bins[feature][index]: how many of the feature's cuts lie below the example's value, so a
  // round sums gradients per bin once and reads every cut's two sides off running totals.
  const bins = cuts.map((featureCuts, feature) =>
    rows.map((row) => {
      const value = row[feature] ?? 0;
      let bin = 0;
      while (bin < featureCuts.length && value > (featureCuts[bin] ?? 0)) bin += 1;
      return bin;
    }),
  );
  const logOdds = new Array<number>(count).fill(bias);
  const stumps: Stump[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const gradients = new Array<number>(count);
    const curvatures = new Array<number>(count);
    let gradientTotal = 0;
    let curvatureTotal = 0;
    for (let index = 0; index < count; index += 1) {
      const probability = sigmoid(logOdds[index] ?? 0);
      gradients[index] = (labels[index] ? 1 : 0) - probability;
      curvatures[index] = probability * (1 - probability);
      gradientTotal += gradients[index] ?? 0;
      curvatureTotal += curvatures[index] ?? 0;
    }
    let best: (Stump & { gain: number }) | undefined;
    for (let feature = 0; feature < width; feature += 1) {
      const featureCuts = cuts[feature] ?? [];
      const featureBins = bins[feature] ?? [];
      const binGradient = new Array<number>(featureCuts.length + 1).fill(0);
      const binCurvature = new Array<number>(featureCuts.length + 1).fill(0);
      const binCount = new Array<number>(featureCuts.length + 1).fill(0);
      for (let index = 0; index < count; index += 1) {
        const bin = featureBins[index] ?? 0;
        binGradient[bin] = (binGradient[bin] ?? 0) + (gradients[index] ?? 0);
        binCurvature[bin] = (binCurvature[bin] ?? 0) + (curvatures[index] ?? 0);
        binCount[bin] = (binCount[bin] ?? 0) + 1;
      }
      let gradientBelow = 0;
      let curvatureBelow = 0;
      let countBelow = 0;
      featureCuts.forEach((cut, bin) => {
        gradientBelow += binGradient[bin] ?? 0;
        curvatureBelow += binCurvature[bin] ?? 0;
        countBelow += binCount[bin] ?? 0;
        if (countBelow < minimumLeaf || count - countBelow < minimumLeaf) return;
        const gradientAbove = gradientTotal - gradientBelow;
        const curvatureAbove = curvatureTotal - curvatureBelow;
        const gain = gradientBelow ** 2 / (curvatureBelow + l2) + gradientAbove ** 2 / (curvatureAbove + l2);
        if (best === undefined || gain > best.gain) {
          best = {
            gain,
            feature,
            cut,
            below: (learningRate * gradientBelow) / (curvatureBelow + l2),
            above: (learningRate * gradientAbove) / (curvatureAbove + l2),
          };
        }
      });
    }
    if (best === undefined) break;
    const { gain: _, ...stump } = best;
    stumps.push(stump);
    for (let index = 0; index < count; index += 1) {
      logOdds[index] = (logOdds[index] ?? 0) + stumpValue(stump, rows[index] ?? []);
    }
  }
  return { bias, stumps };
}

/** P(label = true) for one feature vector. */
export function predictBoostedStumps(model: BoostedStumps, features: readonly number[]): number {
  let logOdds = model.bias;
  for (const stump of model.stumps) logOdds += stumpValue(stump, features);
  return sigmoid(logOdds);
}

function stumpValue(stump: Stump, features: readonly number[]): number {
  return (features[stump.feature] ?? 0) <= stump.cut ? stump.below : stump.above;
}

/** Midpoints between distinct values when there are few, else 15 quantiles. */
function candidateCuts(values: readonly number[]): number[] {
  const distinct = [...new Set(values)].sort((left, right) => left - right);
  if (distinct.length <= 16) {
    return distinct.slice(0, -1).map((value, index) => (value + (distinct[index + 1] ?? value)) / 2);
  }
  return [
    ...new Set(
      Array.from({ length: 15 }, (_, index) => distinct[Math.floor(((index + 1) * distinct.length) / 16)] ?? 0),
    ),
  ];
}

function sigmoid(value: number): number {
  return 1 / (1 + Math.exp(-value));
}
