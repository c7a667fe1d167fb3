// Per-endpoint view of a profile: each endpoint's share of the samples with its hottest functions
// (filter.ts restricts a profile to some endpoints).

import { endpointLabel, type Profile } from './model.js';

export interface EndpointRow {
  /** Endpoint id in profile.endpoints, -1 for samples outside any request. */
  endpoint: number;
  label: string;
  samples: number;
  /** Share of all samples, 0–1. */
  share: number;
  /** Functions where this endpoint's samples were (own time), hottest first. */
  topFunctions: { func: number; samples: number }[];
}

/** Endpoints by sample count, busiest first; "(no request)" is a row like the others. */
export function buildEndpointTable(profile: Profile, topFunctionCount = 3): EndpointRow[] {
  const perEndpoint = new Map<number, Map<number, number>>();
  const totals = new Map<number, number>();
  for (let i = 0; i < profile.samples.count; i++) {
    const endpoint = profile.samples.endpoint[i]!;
    totals.set(endpoint, (totals.get(endpoint) ?? 0) + 1);
    const stack = profile.samples.stack[i]!;
    if (stack < 0) continue;
    const func = profile.frames[profile.stackFrame[stack]!]!.func;
    let funcs = perEndpoint.get(endpoint);
    if (!funcs) perEndpoint.set(endpoint, (funcs = new Map()));
    funcs.set(func, (funcs.get(func) ?? 0) + 1);
  }
  return [...totals.entries()]
    .map(([endpoint, samples]) => ({
      endpoint,
      label: endpointLabel(profile, endpoint),
      samples,
      share: profile.samples.count > 0 ? samples / profile.samples.count : 0,
      topFunctions: [...(perEndpoint.get(endpoint) ?? new Map<number, number>()).entries()]
        .map(([func, count]) => ({ func, samples: count }))
        .sort((a, b) => b.samples - a.samples)
        .slice(0, topFunctionCount),
    }))
    .sort((a, b) => b.samples - a.samples || a.label.localeCompare(b.label));
}

/**
 * Sample counts by endpoint label with each label `aliases` maps summed into its alias: live views merge the labels of
 * requests sampled before their route was known, as a recording does at its end (ProfileBuilder.mergeEndpoints).
 */
export function mergeEndpointCounts(
  counts: ReadonlyMap<string, number>,
  aliases: ReadonlyMap<string, string>,
): Map<string, number> {
  const merged = new Map<string, number>();
  for (const [label, count] of counts) {
    const alias = aliases.get(label) ?? label;
    merged.set(alias, (merged.get(alias) ?? 0) + count);
  }
  return merged;
}
