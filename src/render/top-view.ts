// One frame of `hotpath top`, as plain text lines: py-spy's columns (%Own, %Total, OwnTime, TotalTime,
// Function) plus hotpath's endpoint shares. Pure: the CLI decides where and how often to draw it.

import path from 'node:path';
import type { LiveFunctionCounts, LiveSnapshot } from '../profile/live-counts.js';

export type TopSortKey = 'own' | 'total' | 'ownTime' | 'totalTime';

export interface TopViewOptions {
  title: string;
  sampleIntervalMs: number;
  sortBy: TopSortKey;
  width: number;
  height: number;
  /** Whole paths in the Function column, as py-spy's --full-filenames; file names only by default. */
  fullFilenames?: boolean;
}

const SORTERS: Record<TopSortKey, (f: LiveFunctionCounts) => number> = {
  own: (f) => f.ownWindow,
  total: (f) => f.totalWindow,
  ownTime: (f) => f.ownAll,
  totalTime: (f) => f.totalAll,
};

const percent = (part: number, whole: number): string => (whole > 0 ? (100 * part) / whole : 0).toFixed(2) + '%';
const seconds = (count: number, intervalMs: number): string => ((count * intervalMs) / 1000).toFixed(2) + 's';

export function renderTopView(snapshot: LiveSnapshot, options: TopViewOptions): string[] {
  const { windowSamples: window, sampleIntervalMs: interval } = { ...snapshot, ...options };
  const lines = [
    options.title,
    `Total Samples ${snapshot.allSamples}`,
    `GIL: ${percent(snapshot.gilWindow, window)}, Active: ${percent(snapshot.activeWindow, window)}, Threads: ${snapshot.threads}`,
    '',
  ];
  const endpoints = [...snapshot.endpoints.entries()].filter(([label]) => label !== '(no request)');
  if (endpoints.length > 0) {
    lines.push('Endpoints (share of all samples):');
    for (const [label, count] of endpoints.sort((a, b) => b[1] - a[1]).slice(0, 5)) {
      lines.push(`  ${percent(count, snapshot.allSamples).padStart(7)}  ${label}`);
    }
    lines.push('');
  }
  lines.push('  %Own   %Total  OwnTime  TotalTime  Function (filename)');
  const rows = [...snapshot.functions].sort((a, b) => SORTERS[options.sortBy](b) - SORTERS[options.sortBy](a));
  for (const f of rows.slice(0, Math.max(0, options.height - lines.length - 1))) {
    const row =
      `${percent(f.ownWindow, window).padStart(7)} ${percent(f.totalWindow, window).padStart(7)} ` +
      `${seconds(f.ownAll, interval).padStart(8)} ${seconds(f.totalAll, interval).padStart(10)}  ` +
      `${f.name} (${options.fullFilenames ? f.file : path.basename(f.file)})`;
    lines.push(row.slice(0, options.width));
  }
  return lines;
}
