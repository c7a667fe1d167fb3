// Exports a profile in speedscope's file format: shared frames (function, file, line) and one "sampled"
// profile per thread, one entry per sample as py-spy writes it (scripts that count entries count samples).

import { stackFrames, type Profile, type ThreadEntry } from '../profile/index.js';
import { encodeJsonBuffer } from './json-buffer.js';
import { samplesByThread } from './thread-samples.js';

export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

/** As py-spy writes frames: every key present, null where unknown (its integration tests rely on that). */
export interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number | null;
  col?: number | null;
}

export interface SpeedscopeSampledProfile {
  type: 'sampled';
  name: string;
  unit: SpeedscopeUnit;
  startValue: number;
  endValue: number;
  /** Frame indices, outermost first. */
  samples: number[][];
  weights: number[];
}

export interface SpeedscopeEvent {
  type: 'O' | 'C';
  at: number;
  frame: number;
}

export interface SpeedscopeEventedProfile {
  type: 'evented';
  name: string;
  unit: SpeedscopeUnit;
  startValue: number;
  endValue: number;
  events: SpeedscopeEvent[];
}

export type SpeedscopeUnit = 'none' | 'nanoseconds' | 'microseconds' | 'milliseconds' | 'seconds' | 'bytes';

/**
 * What speedscope has no field for, so `importSpeedscope` can give back the same sample counts and metadata.
 * speedscope ignores top-level keys it does not know.
 */
export interface SpeedscopeHotpathMeta {
  rateHz: number;
  startTime: number;
  durationMs: number;
  pythonVersion: string;
  command: string;
}

export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA;
  exporter?: string;
  name?: string;
  activeProfileIndex?: number;
  shared: { frames: SpeedscopeFrame[] };
  profiles: (SpeedscopeSampledProfile | SpeedscopeEventedProfile)[];
  hotpath?: SpeedscopeHotpathMeta;
}

export function exportSpeedscope(profile: Profile): Buffer {
  const byThread = samplesByThread(profile);
  const profiles = profile.threads.map((thread, index) => buildThreadProfile(profile, thread, byThread[index]!));
  const file: SpeedscopeFile = {
    $schema: SPEEDSCOPE_SCHEMA,
    exporter: 'hotpath',
    name: profile.meta.command || 'hotpath profile',
    activeProfileIndex: busiestIndex(profiles),
    shared: { frames: profile.frames.map((_, frame) => buildFrame(profile, frame)) },
    profiles,
    hotpath: {
      rateHz: profile.meta.rateHz,
      startTime: profile.meta.startTime,
      durationMs: profile.meta.durationMs,
      pythonVersion: profile.meta.pythonVersion,
      command: profile.meta.command,
    },
  };
  return encodeJsonBuffer(file);
}

/**
 * py-spy's profile names with --subprocesses, which tools and tests parse: 'Process 4242 Thread 4243 "MainThread"';
 * the name is left out when Python did not name the thread.
 */
export function speedscopeProfileName(thread: ThreadEntry): string {
  const name = `Process ${thread.pid} Thread ${thread.tid}`;
  return thread.name ? `${name} "${thread.name}"` : name;
}

function buildFrame(profile: Profile, frame: number): SpeedscopeFrame {
  const { func, line } = profile.frames[frame]!;
  const entry = profile.functions[func]!;
  return {
    name: profile.strings[entry.name]!,
    file: profile.strings[entry.file]!,
    line: line > 0 ? line : null,
    col: null,
  };
}

/**
 * Weights are milliseconds (the sampling interval), so speedscope shows time; with an unknown rate (e.g. a
 * profile imported from collapsed stacks) each weighs 1. A stack's frame list is built once and shared.
 */
function buildThreadProfile(profile: Profile, entry: ThreadEntry, indices: number[]): SpeedscopeSampledProfile {
  const { samples } = profile;
  const intervalMs = profile.meta.rateHz > 0 ? 1000 / profile.meta.rateHz : 0;
  const framesOfStack = new Map<number, number[]>();
  const stackOf = (stack: number): number[] => {
    let frames = framesOfStack.get(stack);
    if (!frames) framesOfStack.set(stack, (frames = stackFrames(profile, stack)));
    return frames;
  };
  const start = intervalMs > 0 && indices.length > 0 ? samples.time[indices[0]!]! : 0;
  return {
    type: 'sampled',
    name: speedscopeProfileName(entry),
    unit: intervalMs > 0 ? 'milliseconds' : 'none',
    startValue: start,
    endValue: start + indices.length * (intervalMs > 0 ? intervalMs : 1),
    samples: indices.map((i) => stackOf(samples.stack[i]!)),
    weights: indices.map(() => (intervalMs > 0 ? intervalMs : 1)),
  };
}

function busiestIndex(profiles: SpeedscopeSampledProfile[]): number {
  let best = 0;
  profiles.forEach((candidate, index) => {
    if (candidate.endValue - candidate.startValue > profiles[best]!.endValue - profiles[best]!.startValue) best = index;
  });
  return best;
}
