// Round steps for time axes and buckets, shared by the timeline's server and client sides.

/** The smallest 1-2-5 step (1, 2, 5, 10, 20, 50…) of at least `least`; 1 when `least` is 1 or less. */
export function niceStep(least: number): number {
  for (let scale = 1; ; scale *= 10) {
    for (const step of [1, 2, 5]) if (step * scale >= least) return step * scale;
  }
}
