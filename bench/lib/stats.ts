// The benchmark's arithmetic: medians, spreads and ratios. Absolute times are noisy on shared machines,
// so every comparison is a ratio, and every repeated measurement is reported with its spread.

export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN };
  return { n: finite.length, median: median(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

/** Element-wise ratios of paired runs (run i of `measured` against run i of `baseline`). */
export function pairedRatios(measured: readonly number[], baseline: readonly number[]): number[] {
  if (measured.length !== baseline.length) throw new Error('paired runs must have the same length');
  return measured.map((value, i) => value / baseline[i]!);
}

/**
 * The cost per unit over a window of a long run, start-up excluded: the window's cost over the units done in it at
 * the marginal rate between a short and a long run of the same job ((units long − units short) / (seconds long −
 * seconds short)), in which start-up, the same in both, cancels out. NaN when the long run did not do more units.
 */
export function windowCostPerUnit(
  window: { cost: number; seconds: number },
  short: { units: number; seconds: number },
  long: { units: number; seconds: number },
): number {
  const unitsPerSecond = (long.units - short.units) / (long.seconds - short.seconds);
  return unitsPerSecond > 0 ? window.cost / (unitsPerSecond * window.seconds) : NaN;
}

export interface Candidate {
  name: string;
  value: number;
}

/** The best of the candidates with a finite value (lowest, unless higher is better). */
export function findBest(candidates: readonly Candidate[], higherIsBetter = false): Candidate | undefined {
  let best: Candidate | undefined;
  for (const candidate of candidates) {
    if (!Number.isFinite(candidate.value)) continue;
    if (!best || (higherIsBetter ? candidate.value > best.value : candidate.value < best.value)) best = candidate;
  }
  return best;
}

/** hotpath's value over the best reference's: < 1 means hotpath spends less (for costs). */
export function ratioToBest(
  value: number,
  references: readonly Candidate[],
  higherIsBetter = false,
): { ratio: number; best: Candidate } | undefined {
  const best = findBest(references, higherIsBetter);
  if (!best || !Number.isFinite(value) || best.value === 0) return undefined;
  return { ratio: value / best.value, best };
}
