// The few lines printed after a recording: what was written, how many samples (and how many were
// dropped, and why, so users know how far to trust it), and the hottest functions.

import { functionFile, functionName, type Profile } from '../profile/index.js';

const TOP_FUNCTIONS = 5;

export function formatSummary(profile: Profile, headline: string): string {
  const { stats, durationMs, rateHz } = profile.meta;
  const pids = new Set(profile.threads.map((t) => t.pid));
  const droppedTotal = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  const dropped = droppedTotal
    ? `, ${droppedTotal} dropped (${Object.entries(stats.dropped)
        .map(([why, n]) => `${why}: ${n}`)
        .join(', ')})`
    : ', none dropped';
  const lines = [
    `hotpath: ${headline}`,
    `  ${profile.samples.count} samples from ${pids.size} process(es), ${profile.threads.length} thread(s) ` +
      `over ${(durationMs / 1000).toFixed(1)}s at ${rateHz} Hz; ${stats.taken}/${stats.attempted} reads ok${dropped}`,
  ];
  const top = topSelfFunctions(profile);
  if (top.length > 0) {
    lines.push('  hottest functions (own time):');
    for (const { func, count } of top) {
      const share = ((100 * count) / profile.samples.count).toFixed(1).padStart(5);
      lines.push(`  ${share}%  ${functionName(profile, func)} (${functionFile(profile, func)})`);
    }
  }
  return lines.join('\n');
}

function topSelfFunctions(profile: Profile): { func: number; count: number }[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < profile.samples.count; i++) {
    const stack = profile.samples.stack[i]!;
    if (stack < 0) continue;
    const func = profile.frames[profile.stackFrame[stack]!]!.func;
    counts.set(func, (counts.get(func) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([func, count]) => ({ func, count }))
    .sort((a, b) => b.count - a.count)
    .slice(0, TOP_FUNCTIONS);
}
