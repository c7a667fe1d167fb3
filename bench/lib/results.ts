// The shape of bench/results/latest.json: everything measured, raw runs included, so tables can be
// re-derived and runs compared later.

import type { AccuracyRow } from '../scenarios/accuracy.js';
import type { OutputResult } from '../scenarios/output-formats.js';
import type { SamplerCostRow } from '../scenarios/sampler-cost.js';
import type { SlowdownResult } from '../scenarios/slowdown.js';
import type { WebResult } from '../scenarios/web-throughput.js';
import type { WakeFloor } from './wake-floor.js';

export interface ProfilerInfo {
  name: string;
  version: string;
  /** Target worlds (Python versions) it ran against. */
  worlds: string[];
  /** Why it did not run somewhere. */
  notRun: { world: string; reason: string }[];
}

export interface WorldInfo {
  label: string;
  description?: string;
  notRun?: string;
}

export interface BenchResults {
  startedAt: string;
  durationSec: number;
  commit: string;
  quick: boolean;
  machine: {
    cpus: number;
    model: string;
    node: string;
    kernel: string;
    loadAverageBefore: number[];
    loadAverageAfter: number[];
  };
  worlds: WorldInfo[];
  profilers: ProfilerInfo[];
  samplerCost: SamplerCostRow[];
  wakeFloor: WakeFloor[];
  slowdown: SlowdownResult[];
  web: WebResult[];
  accuracy: AccuracyRow[];
  output?: OutputResult;
  /** Scenarios left out of this run (--only), so their tables say so. */
  skipped: string[];
}
