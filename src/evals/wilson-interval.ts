/**
 * The Wilson score interval for a success rate: unlike the plain ± interval it stays inside
 * [0, 1] and is honest for the small samples an eval has (3 of 3 solved is not "100 % ± 0").
 */
export function wilsonInterval(successes: number, trials: number, z = 1.96): { low: number; high: number } {
  if (trials === 0) return { low: 0, high: 1 };
  const rate = successes / trials;
  const z2 = z * z;
  const centre = (rate + z2 / (2 * trials)) / (1 + z2 / trials);
  const spread = (z * Math.sqrt((rate * (1 - rate)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  return { low: Math.max(0, centre - spread), high: Math.min(1, centre + spread) };
}
