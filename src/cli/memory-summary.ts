// The lines `record --memory` prints after its summary: each process's RSS at the start, at the end and at its
// peak, and the lines that were running when it grew most (a sampling estimate: see docs/memory.md).

import { attributedGrowthBytes, buildLineGrowth, frameLabel, type Profile } from '../profile/index.js';
import { formatBytes, formatPercent } from '../render/index.js';

const TOP_LINES = 3;
const MAX_PROCESSES = 5;

export function formatMemorySummary(profile: Profile): string {
  const memory = profile.memory ?? [];
  if (memory.length === 0) return 'hotpath: memory: no RSS reading was taken';
  const lines = ['hotpath: memory (resident set size):'];
  const shown = [...memory].sort((a, b) => b.grownBytes - a.grownBytes || a.pid - b.pid).slice(0, MAX_PROCESSES);
  for (const process of shown) {
    lines.push(
      `  pid ${process.pid}: ${formatBytes(process.firstBytes)} at the start, ${formatBytes(process.lastBytes)} ` +
        `at the end, peak ${formatBytes(process.peakBytes)} (grew ${formatBytes(process.grownBytes)}, ` +
        `freed ${formatBytes(process.freedBytes)})`,
    );
  }
  if (memory.length > shown.length) lines.push(`  and ${memory.length - shown.length} more process(es)`);
  const attributed = attributedGrowthBytes(profile);
  const top = buildLineGrowth(profile).slice(0, TOP_LINES);
  if (top.length === 0) {
    lines.push('  no growth was seen while Python code was running');
    return lines.join('\n');
  }
  lines.push(`  lines running when RSS grew (${formatBytes(attributed)} put on samples):`);
  for (const { frame, bytes } of top) {
    const share = formatPercent(bytes / attributed, 1).padStart(6);
    lines.push(`  ${share} ${formatBytes(bytes).padStart(10)}  ${frameLabel(profile, frame)}`);
  }
  return lines.join('\n');
}
