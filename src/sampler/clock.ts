// Time for the sample loop, injectable so tests can drive it, and precise sub-millisecond waiting
// (Atomics.wait) so 1,000 Hz sampling neither burns a core nor drifts.

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock epoch milliseconds. */
  wallNow(): number;
  /** Waits until `deadline` (monotonic ms), letting the event loop run when the wait is long. */
  waitUntil(deadline: number): Promise<void>;
}

const EVENT_LOOP_SLICE_MS = 2;

export function systemClock(): Clock {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const now = (): number => performance.now();
  return {
    now,
    wallNow: () => Date.now(),
    async waitUntil(deadline: number): Promise<void> {
      let remaining = deadline - now();
      if (remaining > EVENT_LOOP_SLICE_MS) {
        await new Promise((resolve) => setTimeout(resolve, remaining - EVENT_LOOP_SLICE_MS));
      } else {
        await new Promise((resolve) => setImmediate(resolve));
      }
      remaining = deadline - now();
      if (remaining > 0) Atomics.wait(cell, 0, 0, remaining);
    },
  };
}

/**
 * Sample times at `rateHz` from `start`, each jittered by up to ±`jitter` of an interval so the
 * sampler does not alias with periodic work in the target. Deadlines are absolute, so a late sample
 * does not shift the ones after it; if we fall more than one interval behind, we skip ahead.
 */
export class SampleSchedule {
  private index = 0;
  readonly intervalMs: number;

  constructor(
    rateHz: number,
    private readonly start: number,
    private readonly jitter = 0.1,
    private readonly random: () => number = Math.random,
  ) {
    this.intervalMs = 1000 / rateHz;
  }

  next(now: number): number {
    this.index++;
    const due = Math.floor((now - this.start) / this.intervalMs);
    if (due - this.index > 1) this.index = due + 1;
    const offset = (this.random() * 2 - 1) * this.jitter * this.intervalMs;
    return this.start + this.index * this.intervalMs + offset;
  }
}
