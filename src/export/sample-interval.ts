// The time one sample stands for, shared by exporters that turn sample counts into durations.

import type { Profile } from '../profile/index.js';

/**
 * Milliseconds between samples. A profile whose rate is unknown (rateHz 0, e.g. imported collapsed stacks)
 * is treated as sampled at 1 kHz, so every sample still gets a visible, countable width.
 */
export function sampleIntervalMs(profile: Profile): number {
  return profile.meta.rateHz > 0 ? 1000 / profile.meta.rateHz : 1;
}
