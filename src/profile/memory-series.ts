// An RSS series thinned while it is recorded, so hours of readings stay small: at most one point per
// MEMORY_POINT_MS at first; whenever more than MAX_MEMORY_POINTS are kept, the interval doubles and the points
// that now share one merge. A point is the highest reading of its interval, at that reading's time, so peaks survive.

export const MEMORY_POINT_MS = 100;
export const MAX_MEMORY_POINTS = 1000;

export class ResidentSeries {
  private readonly times: number[] = [];
  private readonly bytes: number[] = [];
  private intervalMs: number;

  constructor(
    private readonly maxPoints = MAX_MEMORY_POINTS,
    firstIntervalMs = MEMORY_POINT_MS,
  ) {
    this.intervalMs = firstIntervalMs;
  }

  /** Readings come in time order (ms since the recording started). */
  add(time: number, bytes: number): void {
    const last = this.times.length - 1;
    if (last >= 0 && this.intervalOf(this.times[last]!) === this.intervalOf(time)) {
      if (bytes > this.bytes[last]!) {
        this.times[last] = time;
        this.bytes[last] = bytes;
      }
      return;
    }
    this.times.push(time);
    this.bytes.push(bytes);
    while (this.times.length > this.maxPoints) this.coarsen();
  }

  /** Milliseconds each point stands for now. */
  get pointMs(): number {
    return this.intervalMs;
  }

  points(): { time: Float64Array; residentBytes: Float64Array } {
    return { time: Float64Array.from(this.times), residentBytes: Float64Array.from(this.bytes) };
  }

  private intervalOf(time: number): number {
    return Math.floor(time / this.intervalMs);
  }

  /** Doubles the interval and keeps, of the points now in one interval, the highest. */
  private coarsen(): void {
    this.intervalMs *= 2;
    let kept = 0;
    for (let i = 0; i < this.times.length; i++) {
      const merges = kept > 0 && this.intervalOf(this.times[kept - 1]!) === this.intervalOf(this.times[i]!);
      if (merges && this.bytes[i]! <= this.bytes[kept - 1]!) continue;
      const to = merges ? kept - 1 : kept++;
      this.times[to] = this.times[i]!;
      this.bytes[to] = this.bytes[i]!;
    }
    this.times.length = kept;
    this.bytes.length = kept;
  }
}
