// Self and total sample counts per function, the numbers of every "top functions" table. Total counts a
// function once per sample even when it recurses, so no function ever exceeds 100%.

import type { Profile } from './model.js';

export interface FunctionCounts {
  /** Samples whose innermost frame is in the function. */
  self: number;
  /** Samples with the function anywhere on the stack, once per sample. */
  total: number;
}

export interface FunctionTotalsOptions {
  /** Keeps only the samples it accepts. */
  filter?: (sampleIndex: number) => boolean;
  /**
   * Which functions count as one: a key per function id (default: the id). The diff passes "same name and
   * file", so a function whose first line moved between two recordings is still one function.
   */
  keyOf?: (func: number) => number;
}

/** Counts per function key; keys without samples are absent. */
export function buildFunctionTotals(
  profile: Profile,
  options: FunctionTotalsOptions = {},
): Map<number, FunctionCounts> {
  const keyOf = options.keyOf ?? ((func: number) => func);
  const totals = new Map<number, FunctionCounts>();
  const countsOf = (key: number): FunctionCounts => {
    let counts = totals.get(key);
    if (!counts) {
      counts = { self: 0, total: 0 };
      totals.set(key, counts);
    }
    return counts;
  };
  for (const [stack, samples] of countSamplesByStack(profile, options.filter)) {
    const seen = new Set<number>();
    for (let node = stack; node >= 0; node = profile.stackParent[node]!) {
      const key = keyOf(profile.frames[profile.stackFrame[node]!]!.func);
      if (node === stack) countsOf(key).self += samples;
      if (seen.has(key)) continue;
      seen.add(key);
      countsOf(key).total += samples;
    }
  }
  return totals;
}

/** Distinct stacks are far fewer than samples, so stacks are walked once each. */
function countSamplesByStack(profile: Profile, filter: FunctionTotalsOptions['filter']): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i < profile.samples.count; i++) {
    if (filter && !filter(i)) continue;
    const stack = profile.samples.stack[i]!;
    counts.set(stack, (counts.get(stack) ?? 0) + 1);
  }
  return counts;
}
