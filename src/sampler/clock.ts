// Time for the sample loop, injectable so tests can drive it, and precise sub-millisecond waiting
// (Atomics.wait) so 1,000 Hz sampling neither burns a core nor drifts.

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Wall-clock epoch milliseconds. */
  wallNow(): number;
  /** Waits until `deadline` (monotonic ms), giving the event loop a turn now and then. */
  waitUntil(deadline: number): Promise<void>;
}

/**
 * How often, roughly, the event loop gets a turn (signals, keys, timers of live views) while sampling: a turn
 * costs about as much CPU as a wake-up (50-70 µs at 100 Hz here), so every 20 ms added a quarter to a 100 Hz
 * sample's cost; 50 ms is still quicker than a person notices.
 */
export const EVENT_LOOP_EVERY_MS = 50;

/**
 * Each wait is one Atomics.wait (a futex) to the deadline: on the machines measured a timer through the
 * event loop cost 2-4 times its CPU per wake-up (setTimeout 73 µs, Atomics.wait 34 µs at 1 ms), and the old
 * setTimeout-then-Atomics.wait pair woke twice per sample. The event loop still gets a turn once
 * EVENT_LOOP_EVERY_MS have passed, taken right after a sample so that it does not delay the next one.
 */
export function systemClock(): Clock {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const now = (): number => performance.now();
  let lastTurn = now();
  return {
    now,
    wallNow: () => Date.now(),
    async waitUntil(deadline: number): Promise<void> {
      for (;;) {
        if (now() - lastTurn >= EVENT_LOOP_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          lastTurn = now();
        }
        const remaining = deadline - now();
        if (remaining <= 0) return;
        Atomics.wait(cell, 0, 0, Math.min(remaining, EVENT_LOOP_EVERY_MS));
      }
    },
  };
}

/**
 * A sampler that was kept off the CPU for up to this long takes the samples it missed at once, so that a busy
 * machine still gets the rate asked for (and samples keep counting time); after a longer stall (a suspended
 * process, a blocked event loop) it skips ahead rather than burst.
 */
export const CATCH_UP_MS = 20;

/**
 * Sample times at `rateHz` from `start`, each anywhere within ±`jitter` of an interval of its place on the grid:
 * by default its whole interval, so that work repeating with a period near the interval (or a multiple of it) is
 * not seen at the same few phases over and over, which skews its shares (±10 % let a 1:3 split of a 4.4 ms loop
 * sampled every 4 ms come out 19-34 %). Deadlines are absolute, so a late sample does not shift the ones after
 * it; missed ones are caught up (CATCH_UP_MS) or, far behind, skipped.
 */
export class SampleSchedule {
  private index = 0;
  readonly intervalMs: number;
  private readonly maxBacklog: number;

  constructor(
    rateHz: number,
    private readonly start: number,
    private readonly jitter = 0.5,
    private readonly random: () => number = Math.random,
  ) {
    this.intervalMs = 1000 / rateHz;
    this.maxBacklog = Math.max(1, Math.floor(CATCH_UP_MS / this.intervalMs));
  }

  next(now: number): number {
    this.index++;
    const due = Math.floor((now - this.start) / this.intervalMs);
    if (due - this.index > this.maxBacklog) this.index = due + 1;
    const offset = (this.random() * 2 - 1) * this.jitter * this.intervalMs;
    return this.start + this.index * this.intervalMs + offset;
  }
}
