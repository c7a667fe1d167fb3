// A view of a profile with only some of its samples (one endpoint, one thread, a time range), as a
// Profile in its own right, so every exporter and renderer can be limited without knowing why. RSS series are
// per process and kept whole.

import type { Profile } from './model.js';

export function filterProfile(profile: Profile, keep: (sampleIndex: number) => boolean): Profile {
  const s = profile.samples;
  const kept: number[] = [];
  for (let i = 0; i < s.count; i++) if (keep(i)) kept.push(i);
  const pick = <T extends Int32Array | Float64Array | Uint8Array>(column: T): T => {
    const out = new (column.constructor as new (length: number) => T)(kept.length);
    kept.forEach((from, to) => (out[to] = column[from]!));
    return out;
  };
  return {
    ...profile,
    samples: {
      count: kept.length,
      stack: pick(s.stack),
      time: pick(s.time),
      thread: pick(s.thread),
      endpoint: pick(s.endpoint),
      flags: pick(s.flags),
      ...(s.memoryGrowthBytes && { memoryGrowthBytes: pick(s.memoryGrowthBytes) }),
    },
  };
}

/** Only the samples whose endpoint label matches `pattern` (a regular expression). */
export function filterByEndpoint(profile: Profile, pattern: RegExp): Profile {
  const matches = profile.endpoints.map((label) => pattern.test(label));
  return filterProfile(profile, (i) => {
    const endpoint = profile.samples.endpoint[i]!;
    return endpoint >= 0 && matches[endpoint]!;
  });
}
