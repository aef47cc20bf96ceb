/**
 * Cost–accuracy curves. A router gives each prompt a score (higher: more in need of the strong
 * model); escalating every prompt whose score reaches a threshold gives one point, and sweeping
 * the threshold gives the curve. Points are scored against the dataset's labels here, after the
 * router has decided, never inside it.
 */

/**
 * The outcome of sending `escalated` prompts to the strong model. For a cascade every prompt
 * first costs a weak call; for a plain router each prompt costs only the model it was sent to.
 *
 * @param {import('./replay-data.mjs').ReplayItem[]} items
 * @param {boolean[]} escalated
 * @param {'cascade' | 'route'} kind
 */
export function outcome(items, escalated, kind) {
  let cost = 0;
  let correct = 0;
  let escalatedCount = 0;
  items.forEach((item, index) => {
    const toStrong = escalated[index] === true;
    if (toStrong) escalatedCount += 1;
    cost +=
      kind === 'cascade'
        ? item.weak.costUsd + (toStrong ? item.strong.costUsd : 0)
        : toStrong
          ? item.strong.costUsd
          : item.weak.costUsd;
    correct += (toStrong ? item.strong.correct : item.weak.correct) ? 1 : 0;
  });
  const count = items.length;
  return {
    escalatedFraction: escalatedCount / count,
    accuracy: correct / count,
    costPerPrompt: cost / count,
    costPerCorrect: correct === 0 ? Number.POSITIVE_INFINITY : cost / correct,
  };
}

/**
 * Every point of a thresholded router's curve on `items`: escalate nothing, then the prompts
 * with the highest score first; prompts with equal scores move together.
 */
export function sweep(items, scores, kind) {
  const order = scores.map((score, index) => ({ score, index })).sort((left, right) => right.score - left.score);
  const count = items.length;
  // Running totals, updated as prompts move to the strong model (the same sums as `outcome`).
  let cost = 0;
  let correct = 0;
  for (const item of items) {
    cost += item.weak.costUsd;
    correct += item.weak.correct ? 1 : 0;
  }
  const point = (threshold, escalatedCount) => ({
    threshold,
    escalatedFraction: escalatedCount / count,
    accuracy: correct / count,
    costPerPrompt: cost / count,
    costPerCorrect: correct === 0 ? Number.POSITIVE_INFINITY : cost / correct,
  });
  const points = [point(Number.POSITIVE_INFINITY, 0)];
  let position = 0;
  while (position < order.length) {
    const threshold = order[position].score;
    while (position < order.length && order[position].score === threshold) {
      const item = items[order[position].index];
      cost += kind === 'cascade' ? item.strong.costUsd : item.strong.costUsd - item.weak.costUsd;
      correct += (item.strong.correct ? 1 : 0) - (item.weak.correct ? 1 : 0);
      position += 1;
    }
    points.push(point(threshold, position));
  }
  return points;
}

/**
 * The cost per prompt at which a curve first reaches `targetAccuracy`, interpolating linearly
 * between the two points around the crossing (a point between two thresholds is reachable by
 * choosing one of them at random per prompt). Undefined when the curve never reaches it.
 */
export function costAtAccuracy(points, targetAccuracy) {
  const ordered = [...points].sort((left, right) => left.escalatedFraction - right.escalatedFraction);
  for (let index = 0; index < ordered.length; index += 1) {
    const point = ordered[index];
    if (point.accuracy < targetAccuracy) continue;
    if (index === 0) return { ...point, accuracy: point.accuracy };
    const previous = ordered[index - 1];
    const share = (targetAccuracy - previous.accuracy) / (point.accuracy - previous.accuracy);
    const between = (field) => previous[field] + share * (point[field] - previous[field]);
    const costPerPrompt = between('costPerPrompt');
    return {
      escalatedFraction: between('escalatedFraction'),
      accuracy: targetAccuracy,
      costPerPrompt,
      costPerCorrect: costPerPrompt / targetAccuracy,
    };
  }
  return undefined;
}

/** The points of a curve closest to each escalation fraction in `fractions`, without repeats. */
export function pointsNear(points, fractions) {
  const chosen = [];
  for (const fraction of fractions) {
    let best = points[0];
    for (const point of points) {
      if (Math.abs(point.escalatedFraction - fraction) < Math.abs(best.escalatedFraction - fraction)) best = point;
    }
    if (!chosen.includes(best)) chosen.push(best);
  }
  return chosen;
}

/**
 * How a deployment picks its operating point from data it holds labels for (the train split),
 * before seeing the test split: the two neighbouring thresholds around the first point whose
 * accuracy reaches `targetAccuracy`, and the probability of using the more lenient one, so that
 * the expected accuracy on that data is exactly the target. Undefined when it is never reached.
 *
 * @returns {{ strict: number, lenient: number, lenientShare: number } | undefined}
 */
export function operatingPointForAccuracy(points, targetAccuracy) {
  const ordered = [...points].sort((left, right) => left.escalatedFraction - right.escalatedFraction);
  const index = ordered.findIndex((point) => point.accuracy >= targetAccuracy);
  if (index === -1) return undefined;
  const point = ordered[index];
  if (index === 0) return { strict: point.threshold, lenient: point.threshold, lenientShare: 1 };
  const previous = ordered[index - 1];
  return {
    strict: previous.threshold,
    lenient: point.threshold,
    lenientShare: (targetAccuracy - previous.accuracy) / (point.accuracy - previous.accuracy),
  };
}

/**
 * The expected outcome on `items` of an operating point: escalate at the strict threshold, and
 * with probability `lenientShare` at the lenient one instead (outcomes are linear in that
 * choice, so the expectation is exact).
 */
export function outcomeAtOperatingPoint(items, scores, kind, operatingPoint) {
  const strict = outcome(
    items,
    scores.map((score) => score >= operatingPoint.strict),
    kind,
  );
  const lenient = outcome(
    items,
    scores.map((score) => score >= operatingPoint.lenient),
    kind,
  );
  const share = operatingPoint.lenientShare;
  const mix = (field) => (1 - share) * strict[field] + share * lenient[field];
  const accuracy = mix('accuracy');
  const costPerPrompt = mix('costPerPrompt');
  return {
    escalatedFraction: mix('escalatedFraction'),
    accuracy,
    costPerPrompt,
    costPerCorrect: costPerPrompt / accuracy,
  };
}
