// Sample indices grouped by thread, for exporters that write one timeline or table per thread: one pass
// over the samples instead of one per thread.

import type { Profile } from '../profile/index.js';

/** Index i holds thread i's sample indices, in recording order. */
export function samplesByThread(profile: Profile): number[][] {
  const byThread: number[][] = profile.threads.map(() => []);
  for (let i = 0; i < profile.samples.count; i++) byThread[profile.samples.thread[i]!]!.push(i);
  return byThread;
}
