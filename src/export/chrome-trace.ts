// Exports a profile as Trace Event Format JSON (chrome://tracing, Perfetto, speedscope): one timeline per
// thread where runs of samples sharing a stack prefix become nested "X" events, under one event per request.
//
// Each sample is drawn exactly one interval wide, so an event's duration is its sample count × interval.
// A sample that comes about one interval after the previous one (less than 1.5) continues the same run; a
// later one (the thread was not sampled for a while) starts a new run at its own time.

import { stackFrames, threadLabel, type Profile } from '../profile/index.js';
import { HotpathError } from '../errors/index.js';
import { encodeJsonBuffer } from './json-buffer.js';
import { sampleIntervalMs } from './sample-interval.js';
import { samplesByThread } from './thread-samples.js';

export interface TraceEvent {
  name: string;
  cat?: string;
  ph: 'X' | 'M';
  /** Microseconds since the profile started. */
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, string | number>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string | number>;
}

/** An event still growing: its duration is set when a sample no longer shares it. */
interface OpenEvent {
  event: TraceEvent;
  /** Function id, or requestKey(endpoint) for the request level. */
  key: number;
}

/** Where one thread's samples are laid out: a run starts at `startUs`, sample k of it at startUs + k × interval. */
interface Timeline {
  /** Shared by all threads, so the event limit holds for the whole trace. */
  events: TraceEvent[];
  maxEvents: number;
  open: OpenEvent[];
  startUs: number;
  slot: number;
  intervalUs: number;
  lastSampleUs: number;
}

export interface ExportChromeTraceOptions {
  /** Trace viewers cannot load much more (chrome://tracing, Perfetto's UI): past this the export fails early. */
  maxEvents?: number;
}

export const DEFAULT_MAX_TRACE_EVENTS = 5_000_000;

const US_PER_MS = 1000;

export function exportChromeTrace(profile: Profile, options: ExportChromeTraceOptions = {}): Buffer {
  const events = metadataEvents(profile);
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_TRACE_EVENTS;
  samplesByThread(profile).forEach((indices, thread) => addThreadEvents(profile, thread, indices, events, maxEvents));
  const trace: ChromeTrace = {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: {
      producer: 'hotpath',
      startTime: new Date(profile.meta.startTime).toISOString(),
      command: profile.meta.command,
      pythonVersion: profile.meta.pythonVersion,
      rateHz: profile.meta.rateHz,
    },
  };
  return encodeJsonBuffer(trace);
}

function metadataEvents(profile: Profile): TraceEvent[] {
  const commands = new Map(profile.processes.map((process) => [process.pid, process.command]));
  const pids = [...new Set(profile.threads.map((thread) => thread.pid))];
  return [
    ...pids.map((pid): TraceEvent => {
      const command = commands.get(pid);
      const name = command ? `${command} (${pid})` : `process ${pid}`;
      return { name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name } };
    }),
    ...profile.threads.map((thread): TraceEvent => ({
      name: 'thread_name',
      ph: 'M',
      ts: 0,
      pid: thread.pid,
      tid: thread.tid,
      args: { name: threadLabel(thread) },
    })),
  ];
}

function addThreadEvents(
  profile: Profile,
  thread: number,
  indices: number[],
  events: TraceEvent[],
  maxEvents: number,
): void {
  const { samples } = profile;
  indices.sort((a, b) => samples.time[a]! - samples.time[b]!);
  const intervalUs = sampleIntervalMs(profile) * US_PER_MS;
  const timeline: Timeline = { events, maxEvents, open: [], startUs: 0, slot: 0, intervalUs, lastSampleUs: -Infinity };
  for (const i of indices) {
    const timeUs = samples.time[i]! * US_PER_MS;
    if (timeUs - timeline.lastSampleUs >= 1.5 * intervalUs) startRun(timeline, timeUs);
    timeline.lastSampleUs = timeUs;
    placeSample(profile, timeline, profile.threads[thread]!, samples.stack[i]!, samples.endpoint[i]!);
    timeline.slot++;
  }
  closeFrom(timeline, 0);
}

/** A new run never starts before the previous one ended, so events on one thread cannot overlap. */
function startRun(timeline: Timeline, timeUs: number): void {
  closeFrom(timeline, 0);
  timeline.startUs = Math.max(timeUs, positionUs(timeline, timeline.slot));
  timeline.slot = 0;
}

function positionUs(timeline: Timeline, slot: number): number {
  return timeline.startUs + slot * timeline.intervalUs;
}

/** Keeps the open events this sample shares (request, then stack prefix by function), opens the rest. */
function placeSample(
  profile: Profile,
  timeline: Timeline,
  thread: { pid: number; tid: number },
  stack: number,
  endpoint: number,
): void {
  const funcs = stackFrames(profile, stack).map((frame) => profile.frames[frame]!.func);
  const keys = endpoint >= 0 ? [requestKey(endpoint), ...funcs] : funcs;
  let shared = 0;
  while (shared < timeline.open.length && shared < keys.length && timeline.open[shared]!.key === keys[shared]) shared++;
  closeFrom(timeline, shared);
  for (const key of keys.slice(shared)) {
    const event = levelEvent(profile, thread, key);
    event.ts = roundUs(positionUs(timeline, timeline.slot));
    timeline.events.push(event);
    timeline.open.push({ event, key });
    if (timeline.events.length > timeline.maxEvents) throw tooManyEvents(timeline.maxEvents);
  }
}

function tooManyEvents(maxEvents: number): HotpathError {
  return new HotpathError(
    'not-supported',
    `this profile makes more than ${maxEvents} trace events, more than trace viewers load`,
    'export a shorter recording, or use the speedscope or gecko format, which share stacks between samples',
  );
}

/** Request levels get negative keys, so they never equal a function id. */
function requestKey(endpoint: number): number {
  return -2 - endpoint;
}

function levelEvent(profile: Profile, thread: { pid: number; tid: number }, key: number): TraceEvent {
  const where = { ph: 'X' as const, ts: 0, pid: thread.pid, tid: thread.tid };
  if (key < 0) return { name: profile.endpoints[-2 - key]!, cat: 'request', ...where };
  const entry = profile.functions[key]!;
  const args = { file: profile.strings[entry.file]!, line: entry.firstLine };
  return { name: profile.strings[entry.name]!, cat: 'python', ...where, args };
}

/** Ends the open events at `depth` and deeper at the current slot. */
function closeFrom(timeline: Timeline, depth: number): void {
  const end = roundUs(positionUs(timeline, timeline.slot));
  for (const { event } of timeline.open.splice(depth)) event.dur = roundUs(end - event.ts);
}

/** Nanosecond precision keeps the JSON short; rounding is monotonic, so nesting survives it. */
function roundUs(value: number): number {
  return Math.round(value * 1000) / 1000;
}
