// Exports a profile as Trace Event Format JSON (chrome://tracing, Perfetto, speedscope): one timeline per
// thread where runs of samples sharing a stack prefix become nested "X" events, under one event per request;
// a profile too busy for that many events is laid out in windows instead (see exportChromeTrace).

import { threadLabel, type Profile } from '../profile/index.js';
import { HotpathError } from '../errors/index.js';
import { JsonChunks } from './json-buffer.js';
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

export interface ExportChromeTraceOptions {
  /**
   * The most events the file may hold, metadata included: past it the timeline is laid out in windows, and a
   * profile that exceeds it even with one window per thread fails with not-supported.
   */
  maxEvents?: number;
}

/** About 150 MB of JSON: chrome://tracing and Perfetto's UI open it comfortably. */
export const DEFAULT_MAX_TRACE_EVENTS = 1_000_000;

const US_PER_MS = 1000;

/**
 * Each sample is drawn exactly one interval wide, so an event's duration is its sample count × interval. A sample
 * that comes about one interval after the previous one (less than 1.5) continues the same run; a later one (the
 * thread was not sampled for a while) starts a new run at its own time.
 *
 * A timeline whose stacks change on nearly every sample needs an event per frame per sample, more than viewers
 * load (maxEvents). Such a profile is laid out in windows instead (stretches of 2, 4, 8… intervals from each
 * thread's first sample), the shortest that fit. Within a window a thread's samples are grouped by stack, so those
 * sharing a prefix merge, and its requests move to a row of their own ("requests of …"), grouped by endpoint.
 * Every function's self and total time stay exact; only the order of samples within a window is lost.
 * otherData.timelineWindowMs gives the window.
 */
export function exportChromeTrace(profile: Profile, options: ExportChromeTraceOptions = {}): Buffer {
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_TRACE_EVENTS;
  const layout = new TraceLayout(profile);
  const exact = layout.build(0, maxEvents);
  if (exact) return writeTrace(profile, exact, 0);
  const windowMs = layout.shortestWindowMs(maxEvents);
  if (windowMs === undefined) throw tooManyEvents(maxEvents);
  const timeline = layout.build(windowMs, maxEvents);
  // fits() counts at least as many events as build() makes, so this only fails on a bug in one of them.
  if (!timeline) throw new Error(`the trace layout with ${windowMs} ms windows exceeds the events it counted`);
  return writeTrace(profile, timeline, windowMs);
}

function tooManyEvents(maxEvents: number): HotpathError {
  return new HotpathError(
    'not-supported',
    `this profile makes more than ${maxEvents} trace events even as one flame graph per thread, more than trace ` +
      'viewers load',
    'export a shorter recording, or use the speedscope or gecko format, which share stacks between samples',
  );
}

/** A row of the trace: a thread's own, or (in windows) the row of its requests. */
interface Track {
  pid: number;
  tid: number;
  name: string;
}

interface TrackSet {
  tracks: Track[];
  /** A thread's request track, -1 for none. */
  requestTrackOf: number[];
}

interface Timeline {
  tracks: Track[];
  events: EventTable;
}

/**
 * Events as parallel columns, in the order they open (a parent before its children). A key is a function id,
 * or requestKey(endpoint) for a request. Adding fails once `limit` events are held.
 */
class EventTable {
  length = 0;
  ts = new Float64Array(1024);
  dur = new Float64Array(1024);
  key = new Int32Array(1024);
  track = new Int32Array(1024);

  constructor(readonly limit: number) {}

  /** The new event's index, or -1 when the table is full. */
  add(track: number, key: number, ts: number): number {
    if (this.length >= this.limit) return -1;
    if (this.length === this.ts.length) this.grow();
    this.ts[this.length] = ts;
    this.key[this.length] = key;
    this.track[this.length] = track;
    return this.length++;
  }

  private grow(): void {
    const size = Math.min(this.ts.length * 2, Math.max(this.limit, 1));
    const grow = <T extends Float64Array | Int32Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.ts = grow(this.ts, new Float64Array(size));
    this.dur = grow(this.dur, new Float64Array(size));
    this.key = grow(this.key, new Int32Array(size));
    this.track = grow(this.track, new Int32Array(size));
  }
}

/** Request levels get negative keys, so they never equal a function id. */
function requestKey(endpoint: number): number {
  return -2 - endpoint;
}

/**
 * The stacks' prefix tree by function instead of frame: a trace level is a function, so stacks that differ only
 * in a line share their events. Parents come before children (as in the profile's stack table), and preorder
 * numbers nodes depth first, so sorting samples by it puts those sharing a prefix next to each other.
 */
class FunctionTree {
  /** Tree node of each profile stack node. */
  readonly nodeOfStack: Int32Array;
  readonly parent: number[] = [];
  readonly func: number[] = [];
  readonly depth: number[] = [];
  readonly preorder: Int32Array;

  constructor(profile: Profile) {
    const { stackParent, stackFrame } = profile;
    this.nodeOfStack = new Int32Array(stackParent.length);
    const ids = new Map<string, number>();
    for (let stack = 0; stack < stackParent.length; stack++) {
      const parent = stackParent[stack]! >= 0 ? this.nodeOfStack[stackParent[stack]!]! : -1;
      const func = profile.frames[stackFrame[stack]!]!.func;
      const key = `${parent}:${func}`;
      let node = ids.get(key);
      if (node === undefined) {
        node = this.parent.length;
        this.parent.push(parent);
        this.func.push(func);
        this.depth.push(parent >= 0 ? this.depth[parent]! + 1 : 1);
        ids.set(key, node);
      }
      this.nodeOfStack[stack] = node;
    }
    this.preorder = this.numberDepthFirst();
  }

  /** Levels two nodes share from the root (-1, the empty stack, has none). */
  commonDepth(a: number, b: number): number {
    let depthA = a >= 0 ? this.depth[a]! : 0;
    let depthB = b >= 0 ? this.depth[b]! : 0;
    for (; depthA > depthB; depthA--) a = this.parent[a]!;
    for (; depthB > depthA; depthB--) b = this.parent[b]!;
    for (; a !== b; depthA--) {
      a = this.parent[a]!;
      b = this.parent[b]!;
    }
    return depthA;
  }

  private numberDepthFirst(): Int32Array {
    const children: number[][] = this.parent.map(() => []);
    const roots: number[] = [];
    this.parent.forEach((parent, node) => (parent >= 0 ? children[parent]! : roots).push(node));
    const preorder = new Int32Array(this.parent.length);
    const pending = roots.reverse();
    for (let next = 0; pending.length > 0; next++) {
      const node = pending.pop()!;
      preorder[node] = next;
      for (let i = children[node]!.length - 1; i >= 0; i--) pending.push(children[node]![i]!);
    }
    return preorder;
  }
}

/** The events a track has open, outermost first: a request (if any) then functions down to `node`. */
interface OpenLevels {
  events: number[];
  endpoint: number;
  node: number;
}

/** Lays out every thread's samples at one window size, into events of one table. */
class TraceLayout {
  /** The longest time from a thread's first sample to its last. */
  private readonly spanMs: number;
  private readonly processCount: number;
  private readonly exactTracks: TrackSet;
  private readonly windowedTracks: TrackSet;
  private readonly tree: FunctionTree;
  private readonly byThread: number[][];
  private readonly intervalUs: number;

  constructor(private readonly profile: Profile) {
    this.tree = new FunctionTree(profile);
    const { time } = profile.samples;
    this.byThread = samplesByThread(profile).map((indices) =>
      indices.every((i, k) => k === 0 || time[indices[k - 1]!]! <= time[i]!)
        ? indices
        : indices.sort((a, b) => time[a]! - time[b]!),
    );
    this.intervalUs = sampleIntervalMs(profile) * US_PER_MS;
    this.processCount = new Set(profile.threads.map((thread) => thread.pid)).size;
    this.exactTracks = this.tracks(false);
    this.windowedTracks = this.tracks(true);
    this.spanMs = Math.max(0, ...this.byThread.map((s) => (s.length ? time[s.at(-1)!]! - time[s[0]!]! : 0)));
  }

  /**
   * The shortest window (2, 4, 8… intervals) whose layout fits in maxEvents, or undefined if even one window per
   * thread does not. The count never grows as windows double (a window is two of the half size merged), so a
   * binary search over the doublings finds it.
   */
  shortestWindowMs(maxEvents: number): number | undefined {
    const intervalMs = this.intervalUs / US_PER_MS;
    let longest = 1;
    while (intervalMs * 2 ** longest <= this.spanMs) longest++;
    if (!this.fits(intervalMs * 2 ** longest, maxEvents)) return undefined;
    let shortest = 1;
    while (shortest < longest) {
      const middle = Math.floor((shortest + longest) / 2);
      if (this.fits(intervalMs * 2 ** middle, maxEvents)) longest = middle;
      else shortest = middle + 1;
    }
    return intervalMs * 2 ** longest;
  }

  /**
   * The timeline with windows of `windowMs` (0: sample by sample, requests around their stacks), or undefined
   * when it needs more than `maxEvents` events, metadata included.
   */
  build(windowMs: number, maxEvents: number): Timeline | undefined {
    const { tracks, requestTrackOf } = windowMs > 0 ? this.windowedTracks : this.exactTracks;
    const events = new EventTable(Math.max(0, maxEvents - this.processCount - tracks.length));
    for (let thread = 0; thread < this.byThread.length; thread++) {
      if (!this.layOutThread(events, thread, requestTrackOf[thread]!, windowMs)) return undefined;
    }
    return { tracks, events };
  }

  /**
   * Track i is thread i's. In windows, each thread with requests gets one more, with a tid no thread has;
   * requestTrackOf[thread] is its index (-1 for none).
   */
  private tracks(windowed: boolean): TrackSet {
    const { threads, samples } = this.profile;
    const tracks = threads.map((thread) => ({ pid: thread.pid, tid: thread.tid, name: threadLabel(thread) }));
    const requestTrackOf = threads.map(() => -1);
    if (!windowed) return { tracks, requestTrackOf };
    const firstFreeTid = 10 ** String(Math.max(0, ...threads.map((thread) => thread.tid))).length;
    for (let i = 0; i < samples.count; i++) {
      const thread = samples.thread[i]!;
      if (samples.endpoint[i]! < 0 || requestTrackOf[thread]! >= 0) continue;
      const entry = threads[thread]!;
      requestTrackOf[thread] = tracks.length;
      tracks.push({ pid: entry.pid, tid: firstFreeTid + entry.tid, name: `requests of ${threadLabel(entry)}` });
    }
    return { tracks, requestTrackOf };
  }

  /**
   * Whether windows of `windowMs` fit in maxEvents, counting each window's distinct function-tree nodes and
   * endpoints: build() opens each at most once per window (sorted, equal prefixes are adjacent), and may also
   * continue events across windows, so this count is an upper bound of its events. Stops once over.
   */
  private fits(windowMs: number, maxEvents: number): boolean {
    const { samples } = this.profile;
    let count = this.processCount + this.windowedTracks.tracks.length;
    const seenNode = new Int32Array(this.tree.parent.length).fill(-1);
    const seenEndpoint = new Int32Array(this.profile.endpoints.length).fill(-1);
    let window = 0;
    for (const indices of this.byThread) {
      const firstTime = indices.length > 0 ? samples.time[indices[0]!]! : 0;
      for (let start = 0, end = 0; start < indices.length; start = end, window++) {
        end = this.windowEnd(indices, start, firstTime, windowMs);
        for (let k = start; k < end; k++) {
          for (let n = this.nodeOf(indices[k]!); n >= 0 && seenNode[n] !== window; n = this.tree.parent[n]!) {
            seenNode[n] = window;
            count++;
          }
          const endpoint = samples.endpoint[indices[k]!]!;
          if (endpoint >= 0 && seenEndpoint[endpoint] !== window) {
            seenEndpoint[endpoint] = window;
            count++;
          }
        }
        if (count > maxEvents) return false;
      }
    }
    return true;
  }

  /** Places one thread's samples run by run, window by window; false once the table is full. */
  private layOutThread(events: EventTable, thread: number, requestTrack: number, windowMs: number): boolean {
    const { samples } = this.profile;
    const indices = this.byThread[thread]!;
    const stackLevels: OpenLevels = { events: [], endpoint: -1, node: -1 };
    const requestLevels: OpenLevels = { events: [], endpoint: -1, node: -1 };
    let runStartUs = 0;
    let slot = 0;
    let lastSampleUs = -Infinity;
    const positionUs = (at: number) => runStartUs + at * this.intervalUs;
    const firstTime = indices.length > 0 ? samples.time[indices[0]!]! : 0;
    for (let start = 0, end = 0; start < indices.length; start = end) {
      end = windowMs > 0 ? this.windowEnd(indices, start, firstTime, windowMs) : start + 1;
      const timeUs = samples.time[indices[start]!]! * US_PER_MS;
      if (timeUs - lastSampleUs >= 1.5 * this.intervalUs) {
        // A new run never starts before the previous one ended, so events on one thread cannot overlap.
        closeFrom(events, stackLevels, 0, positionUs(slot));
        closeFrom(events, requestLevels, 0, positionUs(slot));
        runStartUs = Math.max(timeUs, positionUs(slot));
        slot = 0;
      }
      lastSampleUs = samples.time[indices[end - 1]!]! * US_PER_MS;
      if (windowMs === 0) {
        const sample = indices[start]!;
        const placed = this.place(
          events,
          thread,
          stackLevels,
          samples.endpoint[sample]!,
          this.nodeOf(sample),
          positionUs(slot),
        );
        if (!placed) return false;
      } else {
        const at = (k: number) => positionUs(slot + k);
        if (!this.placeWindow(events, indices, start, end, thread, stackLevels, at)) return false;
        if (
          requestTrack >= 0 &&
          !this.placeWindowRequests(events, indices, start, end, requestTrack, requestLevels, at)
        ) {
          return false;
        }
      }
      slot += end - start;
    }
    closeFrom(events, stackLevels, 0, positionUs(slot));
    closeFrom(events, requestLevels, 0, positionUs(slot));
    return true;
  }

  /** A window's samples on the thread's track, grouped by stack; `at(k)` is the k-th slot's position. */
  private placeWindow(
    events: EventTable,
    indices: number[],
    start: number,
    end: number,
    track: number,
    open: OpenLevels,
    at: (k: number) => number,
  ): boolean {
    const byStack = sortedBy(indices, start, end, (s) => this.preorderOf(s) + 1, this.tree.parent.length + 1);
    for (let k = 0; k < byStack.length; k++) {
      if (!this.place(events, track, open, -1, this.nodeOf(byStack[k]!), at(k))) return false;
    }
    return true;
  }

  /** The same window's samples on the request track, grouped by endpoint (those without one leave a gap). */
  private placeWindowRequests(
    events: EventTable,
    indices: number[],
    start: number,
    end: number,
    track: number,
    open: OpenLevels,
    at: (k: number) => number,
  ): boolean {
    const { endpoint } = this.profile.samples;
    const byEndpoint = sortedBy(indices, start, end, (s) => endpoint[s]! + 1, this.profile.endpoints.length + 1);
    for (let k = 0; k < byEndpoint.length; k++) {
      if (!this.place(events, track, open, endpoint[byEndpoint[k]!]!, -1, at(k))) return false;
    }
    return true;
  }

  /** The end of the window that starts at `start`: samples in the same windowMs bucket from the thread's start. */
  private windowEnd(indices: number[], start: number, firstTime: number, windowMs: number): number {
    const { time } = this.profile.samples;
    const bucketEnd = firstTime + (Math.floor((time[indices[start]!]! - firstTime) / windowMs) + 1) * windowMs;
    let end = start + 1;
    while (end < indices.length && time[indices[end]!]! < bucketEnd) end++;
    return end;
  }

  private nodeOf(sample: number): number {
    const stack = this.profile.samples.stack[sample]!;
    return stack >= 0 ? this.tree.nodeOfStack[stack]! : -1;
  }

  private preorderOf(sample: number): number {
    const node = this.nodeOf(sample);
    return node >= 0 ? this.tree.preorder[node]! : -1;
  }

  /**
   * Keeps the open events this sample shares (its request, then its stack prefix by function), closes the rest
   * and opens its own below them. `endpoint` -1: no request level; `node` -1: no function levels.
   */
  private place(
    events: EventTable,
    track: number,
    open: OpenLevels,
    endpoint: number,
    node: number,
    atUs: number,
  ): boolean {
    const requestLevels = endpoint >= 0 ? 1 : 0;
    const shared =
      open.events.length > 0 && endpoint === open.endpoint ? requestLevels + this.tree.commonDepth(open.node, node) : 0;
    closeFrom(events, open, shared, atUs);
    const ts = roundUs(atUs);
    if (shared === 0 && endpoint >= 0) {
      const event = events.add(track, requestKey(endpoint), ts);
      if (event < 0) return false;
      open.events.push(event);
    }
    const below: number[] = [];
    for (let n = node; n >= 0 && this.tree.depth[n]! > shared - requestLevels; n = this.tree.parent[n]!) below.push(n);
    for (let k = below.length - 1; k >= 0; k--) {
      const event = events.add(track, this.tree.func[below[k]!]!, ts);
      if (event < 0) return false;
      open.events.push(event);
    }
    open.endpoint = endpoint;
    open.node = node;
    return true;
  }
}

/**
 * Samples indices[start..end) ordered by an integer key in [0, keyCount), ties in their order, without a
 * comparator (too slow over a million samples): a counting sort when keys are few for the samples, else one
 * native numeric sort of key × count + position.
 */
function sortedBy(
  indices: readonly number[],
  start: number,
  end: number,
  keyOf: (sample: number) => number,
  keyCount: number,
): Int32Array {
  const count = end - start;
  const keys = new Int32Array(count);
  for (let k = 0; k < count; k++) keys[k] = keyOf(indices[start + k]!);
  const sorted = new Int32Array(count);
  if (keyCount <= 4 * count) {
    const next = new Int32Array(keyCount + 1);
    for (let k = 0; k < count; k++) next[keys[k]! + 1]!++;
    for (let key = 1; key <= keyCount; key++) next[key]! += next[key - 1]!;
    for (let k = 0; k < count; k++) sorted[next[keys[k]!]!++] = indices[start + k]!;
    return sorted;
  }
  const ordered = Float64Array.from(keys, (key, k) => key * count + k).sort();
  for (let k = 0; k < count; k++) sorted[k] = indices[start + (ordered[k]! % count)]!;
  return sorted;
}

/** Ends the open events at `depth` and deeper at `endUs`. */
function closeFrom(events: EventTable, open: OpenLevels, depth: number, endUs: number): void {
  const end = roundUs(endUs);
  for (const event of open.events.splice(depth)) events.dur[event] = roundUs(end - events.ts[event]!);
}

/** Nanosecond precision keeps the JSON short; rounding is monotonic, so nesting survives it. */
function roundUs(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function writeTrace(profile: Profile, { tracks, events }: Timeline, windowMs: number): Buffer {
  const out = new JsonChunks();
  out.write('{"traceEvents":');
  const metadata = metadataEvents(profile, tracks).map((event) => JSON.stringify(event));
  const texts = new EventTexts(profile, tracks);
  out.list(metadata.length + events.length, (i) =>
    i < metadata.length ? metadata[i]! : texts.event(events, i - metadata.length),
  );
  const otherData: ChromeTrace['otherData'] = {
    producer: 'hotpath',
    startTime: new Date(profile.meta.startTime).toISOString(),
    command: profile.meta.command,
    pythonVersion: profile.meta.pythonVersion,
    rateHz: profile.meta.rateHz,
    ...(windowMs > 0 ? { timelineWindowMs: windowMs } : {}),
  };
  out.write(`,"displayTimeUnit":"ms","otherData":${JSON.stringify(otherData)}}`);
  return out.finish();
}

function metadataEvents(profile: Profile, tracks: Track[]): TraceEvent[] {
  const commands = new Map(profile.processes.map((process) => [process.pid, process.command]));
  const pids = [...new Set(profile.threads.map((thread) => thread.pid))];
  return [
    ...pids.map((pid): TraceEvent => {
      const command = commands.get(pid);
      const name = command ? `${command} (${pid})` : `process ${pid}`;
      return { name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name } };
    }),
    ...tracks.map((track): TraceEvent => ({
      name: 'thread_name',
      ph: 'M',
      ts: 0,
      pid: track.pid,
      tid: track.tid,
      args: { name: track.name },
    })),
  ];
}

/** Each event's JSON, from pieces made once per function, request and track: name and category, ids, args. */
class EventTexts {
  private heads = new Map<number, string>();
  private tails = new Map<number, string>();
  private trackIds: string[];

  constructor(
    private readonly profile: Profile,
    tracks: Track[],
  ) {
    this.trackIds = tracks.map((track) => `,"pid":${track.pid},"tid":${track.tid}`);
  }

  event(events: EventTable, i: number): string {
    const key = events.key[i]!;
    if (!this.heads.has(key)) this.describe(key);
    return `${this.heads.get(key)}${events.ts[i]}${this.trackIds[events.track[i]!]}${this.tails.get(key)}${events.dur[i]}}`;
  }

  private describe(key: number): void {
    const { profile } = this;
    if (key < 0) {
      this.heads.set(key, `{"name":${JSON.stringify(profile.endpoints[-2 - key])},"cat":"request","ph":"X","ts":`);
      this.tails.set(key, ',"dur":');
      return;
    }
    const entry = profile.functions[key]!;
    const args = { file: profile.strings[entry.file]!, line: entry.firstLine };
    this.heads.set(key, `{"name":${JSON.stringify(profile.strings[entry.name])},"cat":"python","ph":"X","ts":`);
    this.tails.set(key, `,"args":${JSON.stringify(args)},"dur":`);
  }
}
