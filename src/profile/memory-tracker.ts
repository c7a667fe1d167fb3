// RSS bookkeeping for `record --memory`: per process, the change since its previous reading, the series kept for
// charts and the totals; and how a rise is shared among the samples of the tick that saw it. A sampling estimate:
// a rise is put on what was running when it was seen, not on what allocated (see docs/memory.md).

import type { MemoryUsage } from '../sampler/sample.js';
import { SAMPLE_HAS_GIL, SAMPLE_IDLE, type ProcessMemory } from './model.js';
import { ResidentSeries } from './memory-series.js';

interface ProcessState {
  series: ResidentSeries;
  first: number;
  last: number;
  peak: number;
  grown: number;
  freed: number;
  unattributed: number;
}

export class MemoryTracker {
  private readonly processes = new Map<number, ProcessState>();

  /** Records a reading; returns the rise since the process's previous reading (0 after a fall, or at its first). */
  add(usage: MemoryUsage): number {
    const { pid, time, residentBytes } = usage;
    const state = this.processes.get(pid);
    if (!state) {
      const series = new ResidentSeries();
      series.add(time, residentBytes);
      const bytes = residentBytes;
      this.processes.set(pid, { series, first: bytes, last: bytes, peak: bytes, grown: 0, freed: 0, unattributed: 0 });
      return 0;
    }
    state.series.add(time, residentBytes);
    const change = residentBytes - state.last;
    state.last = residentBytes;
    state.peak = Math.max(state.peak, residentBytes);
    if (change < 0) state.freed -= change;
    else state.grown += change;
    return Math.max(change, 0);
  }

  /** A rise that no sample took (no thread of the process was running at that tick). */
  noteUnattributed(pid: number, bytes: number): void {
    const state = this.processes.get(pid);
    if (state) state.unattributed += bytes;
  }

  build(): ProcessMemory[] {
    return [...this.processes].map(([pid, state]) => ({
      pid,
      ...state.series.points(),
      firstBytes: state.first,
      lastBytes: state.last,
      peakBytes: state.peak,
      grownBytes: state.grown,
      freedBytes: state.freed,
      unattributedBytes: state.unattributed,
    }));
  }
}

/**
 * Shares a process's rise in RSS among its samples of the tick that saw it, given their flags: all of it to the
 * running thread that holds the GIL when one is known, else evenly among the running threads (whole bytes, the
 * remainder one byte each to the first ones). Idle samples get nothing; with no running thread, nobody does.
 */
export function shareGrowth(bytes: number, flags: ArrayLike<number>): number[] {
  const shares = new Array<number>(flags.length).fill(0);
  const running: number[] = [];
  const holders: number[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (flags[i]! & SAMPLE_IDLE) continue;
    running.push(i);
    if (flags[i]! & SAMPLE_HAS_GIL) holders.push(i);
  }
  const takers = holders.length > 0 ? holders : running;
  if (takers.length === 0) return shares;
  const each = Math.floor(bytes / takers.length);
  const remainder = bytes - each * takers.length;
  takers.forEach((sample, k) => (shares[sample] = each + (k < remainder ? 1 : 0)));
  return shares;
}
