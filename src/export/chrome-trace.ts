// Exports a profile as Trace Event Format JSON (chrome://tracing, Perfetto, speedscope): one timeline per
// thread where runs of samples sharing a stack prefix become nested "X" events, under one event per request.
//
// Each sample is drawn exactly one interval wide, so an event's duration is its sample count × interval.
// A sample that comes about one interval after the previous one (less than 1.5) continues the same run; a
// later one (the thread was not sampled for a while) starts a new run at its own time.

import { stackFrames, threadLabel, type Profile } from '../profile/index.js';
import { sampleIntervalMs } from './sample-interval.js';

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
  /** Function id, or the endpoint id for the request level. */
  key: number;
}

/** Where one thread's samples are laid out: a run starts at `startUs`, sample k of it at startUs + k × interval. */
interface Timeline {
  events: TraceEvent[];
  open: OpenEvent[];
  startUs: number;
  slot: number;
  intervalUs: number;
  lastSampleUs: number;
}

const US_PER_MS = 1000;

export function exportChromeTrace(profile: Profile): string {
  const trace: ChromeTrace = {
    traceEvents: [...metadataEvents(profile), ...profile.threads.flatMap((_, thread) => threadEvents(profile, thread))],
    displayTimeUnit: 'ms',
    otherData: {
      producer: 'hotpath',
      startTime: new Date(profile.meta.startTime).toISOString(),
      command: profile.meta.command,
      pythonVersion: profile.meta.pythonVersion,
      rateHz: profile.meta.rateHz,
    },
  };
  return JSON.stringify(trace);
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

function threadEvents(profile: Profile, thread: number): TraceEvent[] {
  const { samples } = profile;
  const indices: number[] = [];
  for (let i = 0; i < samples.count; i++) if (samples.thread[i] === thread) indices.push(i);
  indices.sort((a, b) => samples.time[a]! - samples.time[b]!);
  const intervalUs = sampleIntervalMs(profile) * US_PER_MS;
  const timeline: Timeline = { events: [], open: [], startUs: 0, slot: 0, intervalUs, lastSampleUs: -Infinity };
  for (const i of indices) {
    const timeUs = samples.time[i]! * US_PER_MS;
    if (timeUs - timeline.lastSampleUs >= 1.5 * intervalUs) startRun(timeline, timeUs);
    timeline.lastSampleUs = timeUs;
    placeSample(profile, timeline, profile.threads[thread]!, samples.stack[i]!, samples.endpoint[i]!);
    timeline.slot++;
  }
  closeFrom(timeline, 0);
  return timeline.events;
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
  const wanted: { key: number; make: () => TraceEvent }[] = [];
  const event = (name: string, cat: string, args?: TraceEvent['args']): TraceEvent => ({
    name,
    cat,
    ph: 'X',
    ts: 0,
    pid: thread.pid,
    tid: thread.tid,
    ...(args && { args }),
  });
  if (endpoint >= 0) wanted.push({ key: endpoint, make: () => event(profile.endpoints[endpoint]!, 'request') });
  for (const frame of stackFrames(profile, stack)) {
    const func = profile.frames[frame]!.func;
    const entry = profile.functions[func]!;
    const args = { file: profile.strings[entry.file]!, line: entry.firstLine };
    wanted.push({ key: func, make: () => event(profile.strings[entry.name]!, 'python', args) });
  }
  let shared = 0;
  const sameLevel = (depth: number) =>
    timeline.open[depth]!.key === wanted[depth]!.key &&
    (timeline.open[depth]!.event.cat === 'request') === (depth === 0 && endpoint >= 0);
  while (shared < timeline.open.length && shared < wanted.length && sameLevel(shared)) shared++;
  closeFrom(timeline, shared);
  for (const { key, make } of wanted.slice(shared)) {
    const opened = make();
    opened.ts = roundUs(positionUs(timeline, timeline.slot));
    timeline.events.push(opened);
    timeline.open.push({ event: opened, key });
  }
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
