// What the sampler emits: one raw sample per thread per tick, before any interning. The profile
// layer (above this one) turns these into its columnar model.

/** Sample flag bits. */
export const SAMPLE_IDLE = 1;
export const SAMPLE_HAS_GIL = 2;

/** Never changed once made: the sampler hands out the same object for every sample of a code object and line. */
export interface RawFrame {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly firstLine?: number;
}

export interface RawSample {
  /** Outermost frame first. The sampler passes the same array again while a thread's stack is unchanged. */
  frames: readonly RawFrame[];
  /** Milliseconds since the recording started. */
  time: number;
  pid: number;
  tid: number;
  threadName?: string;
  endpoint?: string;
  /** Set on samples of a request that carried the hotpath marker: one key per such request. */
  markedRequest?: string;
  flags?: number;
}

/** A process's resident set size at a tick, read only when asked for (`record --memory`). */
export interface MemoryUsage {
  pid: number;
  /** The tick's time, the same number as in the RawSamples of that tick. */
  time: number;
  residentBytes: number;
}

/** Why samples were not taken, counted so users can judge how far to trust a profile. */
export interface SampleStats {
  attempted: number;
  taken: number;
  dropped: Record<string, number>;
}
