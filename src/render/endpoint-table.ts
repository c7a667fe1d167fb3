// The endpoint table `record` prints at the end: each endpoint's samples and share of the CPU, with its
// three hottest functions, busiest endpoint first. Plain text lines; the CLI decides where they go.

import path from 'node:path';
import { buildEndpointTable, functionFile, functionName, type Profile } from '../profile/index.js';

const LABEL_WIDTH = 40;

export function renderEndpointTable(profile: Profile, topFunctionCount = 3): string[] {
  const rows = buildEndpointTable(profile, topFunctionCount);
  const width = Math.min(LABEL_WIDTH, Math.max(8, ...rows.map((row) => row.label.length)));
  const lines = [
    `  ${'samples'.padStart(8)}  ${'cpu %'.padStart(6)}  ${'endpoint'.padEnd(width)}  top functions (own time)`,
  ];
  for (const row of rows) {
    const functions = row.topFunctions
      .map(({ func, samples }) => {
        const file = path.basename(functionFile(profile, func));
        return `${functionName(profile, func)} (${file}) ${((100 * samples) / row.samples).toFixed(0)}%`;
      })
      .join(', ');
    const label = row.label.length > width ? `${row.label.slice(0, width - 3)}...` : row.label.padEnd(width);
    lines.push(
      `  ${String(row.samples).padStart(8)}  ${(100 * row.share).toFixed(1).padStart(5)}%  ${label}  ${functions}`,
    );
  }
  return lines;
}
