// Where RSS grew, by source line: the bytes of growth attributed to samples (record --memory) summed per
// innermost frame (function and line), for the summary after a recording and other plain listings.

import type { Profile } from './model.js';

export interface LineGrowth {
  /** Frame id: a function and a line. */
  frame: number;
  bytes: number;
}

/** Lines that grew, most bytes first (then by frame id); empty for a profile without memory data. */
export function buildLineGrowth(profile: Profile): LineGrowth[] {
  const { stack, memoryGrowthBytes } = profile.samples;
  if (!memoryGrowthBytes) return [];
  const byFrame = new Map<number, number>();
  memoryGrowthBytes.forEach((bytes, i) => {
    if (bytes === 0 || stack[i]! < 0) return;
    const frame = profile.stackFrame[stack[i]!]!;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + bytes);
  });
  return [...byFrame]
    .map(([frame, bytes]) => ({ frame, bytes }))
    .sort((a, b) => b.bytes - a.bytes || a.frame - b.frame);
}

/** Bytes of growth put on samples, in all. */
export function attributedGrowthBytes(profile: Profile): number {
  let total = 0;
  for (const bytes of profile.samples.memoryGrowthBytes ?? []) total += bytes;
  return total;
}
