// THE profile model: an interned, columnar record of samples that every exporter and renderer reads.
// Strings, functions, frames (function + line) and stacks (a prefix tree, so a sample is one id) are
// interned; samples are parallel typed arrays. A Profile is frozen; ProfileBuilder makes one.

export const PROFILE_SCHEMA_VERSION = 1;

import type { SampleStats } from '../sampler/sample.js';

export { SAMPLE_HAS_GIL, SAMPLE_IDLE, type SampleStats } from '../sampler/sample.js';

export interface FunctionEntry {
  /** String ids. */
  name: number;
  file: number;
  firstLine: number;
}

export interface FrameEntry {
  func: number;
  /** Line being executed; 0 when unknown. */
  line: number;
}

export interface ThreadEntry {
  pid: number;
  /** OS thread id (what `top -H` shows). */
  tid: number;
  /** Python's name for the thread (threading), or '' when unknown. */
  name: string;
}

export interface ProcessEntry {
  pid: number;
  command: string;
}

/** A followed process's resident set size (RSS) over the recording, kept by `record --memory`. */
export interface ProcessMemory {
  pid: number;
  /** Readings, thinned to a bounded number (see memory-series.ts): ms since meta.startTime, and bytes. */
  time: Float64Array;
  residentBytes: Float64Array;
  /** The first, last and highest readings, exact whatever the thinning. */
  firstBytes: number;
  lastBytes: number;
  peakBytes: number;
  /** Sums of the rises and of the falls between consecutive readings. */
  grownBytes: number;
  freedBytes: number;
  /** The part of grownBytes seen at ticks where no thread of the process was running: on no sample. */
  unattributedBytes: number;
}

export interface ProfileMeta {
  /** Unix epoch milliseconds of the first sample. */
  startTime: number;
  durationMs: number;
  rateHz: number;
  pythonVersion: string;
  command: string;
  stats: SampleStats;
}

export interface Profile {
  readonly schemaVersion: number;
  readonly strings: readonly string[];
  readonly functions: readonly FunctionEntry[];
  readonly frames: readonly FrameEntry[];
  /** Stack node i: its caller node (-1 for a root frame) and its own (innermost) frame. */
  readonly stackParent: Int32Array;
  readonly stackFrame: Int32Array;
  readonly threads: readonly ThreadEntry[];
  readonly processes: readonly ProcessEntry[];
  /** Endpoint labels such as "GET /users/{id}"; id -1 in samples means "no request". */
  readonly endpoints: readonly string[];
  readonly samples: {
    readonly count: number;
    readonly stack: Int32Array;
    /** Milliseconds since meta.startTime. */
    readonly time: Float64Array;
    readonly thread: Int32Array;
    readonly endpoint: Int32Array;
    readonly flags: Uint8Array;
    /**
     * Bytes of RSS growth attributed to each sample (see memory-tracker.ts), when recorded with --memory.
     * Whole numbers; most are 0.
     */
    readonly memoryGrowthBytes?: Float64Array;
  };
  /** One entry per process whose RSS was read (record --memory); absent otherwise. */
  readonly memory?: readonly ProcessMemory[];
  /** Source text of files seen, for line-level views: file name → lines. */
  readonly sources: ReadonlyMap<string, readonly string[]>;
  readonly meta: ProfileMeta;
}

/** Frame ids of a stack, outermost (root) first. */
export function stackFrames(profile: Profile, stack: number): number[] {
  const frames: number[] = [];
  for (let node = stack; node >= 0; node = profile.stackParent[node]!) frames.push(profile.stackFrame[node]!);
  return frames.reverse();
}

export function functionName(profile: Profile, func: number): string {
  return profile.strings[profile.functions[func]!.name]!;
}

export function functionFile(profile: Profile, func: number): string {
  return profile.strings[profile.functions[func]!.file]!;
}

/** "function (file:line)", py-spy's frame label. */
export function frameLabel(profile: Profile, frame: number): string {
  const { func, line } = profile.frames[frame]!;
  return `${functionName(profile, func)} (${functionFile(profile, func)}:${line})`;
}

export function threadLabel(thread: ThreadEntry): string {
  return thread.name ? `${thread.name} (${thread.tid})` : `thread ${thread.tid}`;
}

export function endpointLabel(profile: Profile, endpoint: number): string {
  return endpoint < 0 ? '(no request)' : profile.endpoints[endpoint]!;
}
