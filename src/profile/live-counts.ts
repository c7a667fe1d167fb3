// Running per-function counts for live views (`top`, the dashboard): own and total samples in the
// current window and since the start, plus per-endpoint counts. Fed one raw sample at a time.

import type { RawSample } from '../sampler/sample.js';
import { SAMPLE_HAS_GIL, SAMPLE_IDLE } from '../sampler/sample.js';

export interface LiveFunctionCounts {
  name: string;
  file: string;
  firstLine: number;
  ownWindow: number;
  totalWindow: number;
  ownAll: number;
  totalAll: number;
}

export interface LiveSnapshot {
  functions: LiveFunctionCounts[];
  /** Samples in the current window and since the start. */
  windowSamples: number;
  allSamples: number;
  gilWindow: number;
  activeWindow: number;
  threads: number;
  /** Endpoint label → samples since the start ("(no request)" for the rest). */
  endpoints: Map<string, number>;
}

export class LiveCounts {
  private functions = new Map<string, LiveFunctionCounts>();
  private windowSamples = 0;
  private allSamples = 0;
  private gilWindow = 0;
  private activeWindow = 0;
  private threadsSeen = new Set<string>();
  private endpoints = new Map<string, number>();

  add(sample: RawSample): void {
    this.windowSamples++;
    this.allSamples++;
    if ((sample.flags ?? 0) & SAMPLE_HAS_GIL) this.gilWindow++;
    if (!((sample.flags ?? 0) & SAMPLE_IDLE)) this.activeWindow++;
    this.threadsSeen.add(`${sample.pid}:${sample.tid}`);
    const endpoint = sample.endpoint ?? '(no request)';
    this.endpoints.set(endpoint, (this.endpoints.get(endpoint) ?? 0) + 1);
    const seen = new Set<LiveFunctionCounts>();
    sample.frames.forEach((frame, index) => {
      const key = `${frame.name}\0${frame.file}`;
      let counts = this.functions.get(key);
      if (!counts) {
        counts = {
          name: frame.name,
          file: frame.file,
          firstLine: frame.firstLine ?? 0,
          ownWindow: 0,
          totalWindow: 0,
          ownAll: 0,
          totalAll: 0,
        };
        this.functions.set(key, counts);
      }
      if (index === sample.frames.length - 1) {
        counts.ownWindow++;
        counts.ownAll++;
      }
      if (!seen.has(counts)) {
        seen.add(counts);
        counts.totalWindow++;
        counts.totalAll++;
      }
    });
  }

  /** The counts so far; `resetWindow` starts a new window for the percentages. */
  snapshot(resetWindow: boolean): LiveSnapshot {
    const snapshot: LiveSnapshot = {
      functions: [...this.functions.values()].map((f) => ({ ...f })),
      windowSamples: this.windowSamples,
      allSamples: this.allSamples,
      gilWindow: this.gilWindow,
      activeWindow: this.activeWindow,
      threads: this.threadsSeen.size,
      endpoints: new Map(this.endpoints),
    };
    if (resetWindow) {
      this.windowSamples = this.gilWindow = this.activeWindow = 0;
      this.threadsSeen.clear();
      for (const counts of this.functions.values()) counts.ownWindow = counts.totalWindow = 0;
    }
    return snapshot;
  }
}
