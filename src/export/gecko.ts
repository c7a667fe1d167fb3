// Exports a profile in the Firefox Profiler's processed format (what CPython 3.15's sampling profiler writes):
// one thread per sampled thread with its own stack/frame/func tables, strings shared, a marker per request.
//
// Written as processed version 57 (funcTable.fileName, shared.stringArray); the Firefox Profiler upgrades
// older processed versions itself, so the file keeps loading as the format moves on.

import type { Profile } from '../profile/index.js';
import { JsonChunks } from './json-buffer.js';
import { sampleIntervalMs } from './sample-interval.js';
import { samplesByThread } from './thread-samples.js';

export const GECKO_PROCESSED_VERSION = 57;
/** The Gecko (unprocessed) format version paired with processed 57. */
export const GECKO_FORMAT_VERSION = 32;

const CATEGORY_PYTHON = 1;
const CATEGORY_REQUEST = 2;
/** The first grey category is the profiler's default one. */
const CATEGORIES = [
  { name: 'Other', color: 'grey', subcategories: ['Other'] },
  { name: 'Python', color: 'yellow', subcategories: ['Other'] },
  { name: 'Request', color: 'blue', subcategories: ['Other'] },
];
const RESOURCE_TYPE_LIBRARY = 1;
const MARKER_PHASE_INTERVAL = 1;

const REQUEST_MARKER_SCHEMA = {
  name: 'Request',
  display: ['marker-chart', 'marker-table', 'timeline-overview'],
  chartLabel: '{marker.data.endpoint}',
  tooltipLabel: '{marker.data.endpoint}',
  tableLabel: '{marker.data.endpoint} ({marker.data.samples} samples)',
  description: 'Consecutive samples of this thread serving the same endpoint',
  fields: [
    { key: 'endpoint', label: 'Endpoint', format: 'string' },
    { key: 'samples', label: 'Samples', format: 'integer' },
  ],
};

/** A thread of the file as written (the types describe the JSON; columns are parallel arrays). */
export interface GeckoThread {
  name: string;
  isMainThread: boolean;
  processName: string;
  processType: string;
  processStartupTime: number;
  processShutdownTime: null;
  registerTime: number;
  unregisterTime: null;
  pausedRanges: never[];
  showMarkersInTimeline: boolean;
  pid: string;
  tid: number;
  samples: { stack: (number | null)[]; time: number[]; weight: null; weightType: 'samples'; length: number };
  markers: {
    data: { type: 'Request'; endpoint: string; samples: number }[];
    name: number[];
    startTime: number[];
    endTime: number[];
    phase: number[];
    category: number[];
    length: number;
  };
  stackTable: { frame: number[]; prefix: (number | null)[]; length: number };
  frameTable: {
    address: number[];
    inlineDepth: number[];
    category: number[];
    subcategory: number[];
    func: number[];
    nativeSymbol: null[];
    innerWindowID: null[];
    line: (number | null)[];
    column: null[];
    length: number;
  };
  funcTable: {
    name: number[];
    isJS: boolean[];
    relevantForJS: boolean[];
    resource: number[];
    fileName: number[];
    lineNumber: (number | null)[];
    columnNumber: null[];
    length: number;
  };
  resourceTable: { lib: null[]; name: number[]; host: null[]; type: number[]; length: number };
  nativeSymbols: { libIndex: never[]; address: never[]; name: never[]; functionSize: never[]; length: 0 };
}

export interface GeckoProfile {
  meta: Record<string, unknown>;
  libs: never[];
  pages: never[];
  threads: GeckoThread[];
  shared: { stringArray: string[] };
}

/** The shared string array, interned. */
class GeckoStrings {
  readonly array: string[] = [];
  private ids = new Map<string, number>();

  id(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.array.length;
      this.array.push(text);
      this.ids.set(text, id);
    }
    return id;
  }
}

export function exportGecko(profile: Profile): Buffer {
  const strings = new GeckoStrings();
  const ids = new LocalIds(profile);
  const meta: GeckoProfile['meta'] = {
    interval: sampleIntervalMs(profile),
    startTime: profile.meta.startTime,
    processType: 0,
    product: profile.meta.command || 'hotpath',
    importedFrom: 'hotpath',
    misc: profile.meta.pythonVersion ? `Python ${profile.meta.pythonVersion}` : 'Python',
    platform: 'Linux',
    stackwalk: 0,
    symbolicated: true,
    version: GECKO_FORMAT_VERSION,
    preprocessedProfileVersion: GECKO_PROCESSED_VERSION,
    categories: CATEGORIES,
    markerSchema: [REQUEST_MARKER_SCHEMA],
    extensions: { id: [], name: [], baseURL: [], length: 0 },
  };
  // Written as it is built, a thread at a time, straight from typed columns: no object per sample or frame.
  const out = new JsonChunks();
  out.write(`{"meta":${JSON.stringify(meta)},"libs":[],"pages":[],"threads":[`);
  samplesByThread(profile).forEach((indices, thread) => {
    if (thread > 0) out.write(',');
    writeThread(out, profile, strings, ids.forThread(thread), thread, indices);
  });
  // The string array goes last: every thread has interned its strings by now.
  out.write('],"shared":{"stringArray":');
  out.value(strings.array);
  out.write('}}');
  return out.finish();
}

function writeThread(
  out: JsonChunks,
  profile: Profile,
  strings: GeckoStrings,
  ids: LocalIds,
  thread: number,
  indices: number[],
): void {
  const entry = profile.threads[thread]!;
  const tables = new ThreadTables(profile, strings, ids);
  const { samples } = profile;
  const stacks = new Int32Array(indices.length);
  const times = new Float64Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    stacks[k] = tables.stack(samples.stack[indices[k]!]!);
    times[k] = samples.time[indices[k]!]!;
  }
  const markers = new RequestMarkers(profile, strings, indices);
  const command = profile.processes.find((process) => process.pid === entry.pid)?.command;
  const header: Omit<GeckoThread, TableName> = {
    name: entry.name || `thread ${entry.tid}`,
    isMainThread: entry.tid === entry.pid,
    processName: command ? `${command} (${entry.pid})` : `process ${entry.pid}`,
    processType: 'default',
    processStartupTime: 0,
    processShutdownTime: null,
    registerTime: 0,
    unregisterTime: null,
    pausedRanges: [],
    showMarkersInTimeline: true,
    pid: String(entry.pid),
    tid: entry.tid,
  };
  out.write(JSON.stringify(header).slice(0, -1));
  writeTable(out, 'samples', indices.length, {
    stack: (o) => o.integers(stacks, indices.length, true),
    time: (o) => o.floats(times, indices.length),
    weight: (o) => o.write('null'),
    weightType: (o) => o.write('"samples"'),
  });
  markers.write(out);
  tables.write(out);
  out.write('}');
}

type TableName = 'samples' | 'markers' | 'stackTable' | 'frameTable' | 'funcTable' | 'resourceTable' | 'nativeSymbols';

/** Writes each column (or other value) of one table, then its length, as a key of the object being written. */
function writeTable(
  out: JsonChunks,
  name: TableName,
  length: number,
  columns: Record<string, (out: JsonChunks) => void>,
): void {
  out.write(`,"${name}":{`);
  for (const [key, write] of Object.entries(columns)) {
    out.write(`"${key}":`);
    write(out);
    out.write(',');
  }
  out.write(`"length":${length}}`);
}

/** A growing column of integers; -1 stands for null where the format allows null. */
class IntColumn {
  values = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  write(out: JsonChunks, negativeIsNull = false): void {
    out.integers(this.values, this.length, negativeIsNull);
  }
}

/**
 * Maps from profile ids (stack node, frame, function) to one thread's table indices, as arrays indexed by profile
 * id instead of hash maps. They are allocated once for all threads: an entry counts only if its `owner` is the
 * thread being built, so starting a thread clears nothing and memory does not grow with the thread count.
 */
class LocalIds {
  readonly stack: ThreadIdMap;
  readonly frame: ThreadIdMap;
  readonly func: ThreadIdMap;

  constructor(profile: Profile) {
    this.stack = new ThreadIdMap(profile.stackParent.length);
    this.frame = new ThreadIdMap(profile.frames.length);
    this.func = new ThreadIdMap(profile.functions.length);
  }

  forThread(thread: number): this {
    this.stack.owner = this.frame.owner = this.func.owner = thread;
    return this;
  }
}

class ThreadIdMap {
  owner = -1;
  private ids: Int32Array;
  private owners: Int32Array;

  constructor(size: number) {
    this.ids = new Int32Array(size);
    this.owners = new Int32Array(size).fill(-1);
  }

  /** The local index of profile id `id`, or -1 when the current thread has none yet. */
  get(id: number): number {
    return this.owners[id] === this.owner ? this.ids[id]! : -1;
  }

  set(id: number, local: number): void {
    this.owners[id] = this.owner;
    this.ids[id] = local;
  }
}

/**
 * One thread's stack, frame, func and resource tables, filled on demand from the profile's interned ids. Only
 * the columns that vary are kept; the others hold one value per row (address -1, no column, ...).
 */
class ThreadTables {
  private stackFrame = new IntColumn();
  private stackPrefix = new IntColumn();
  private frameFunc = new IntColumn();
  private frameLine = new IntColumn();
  private funcName = new IntColumn();
  private funcResource = new IntColumn();
  private funcFile = new IntColumn();
  private funcLine = new IntColumn();
  private resourceName = new IntColumn();
  private resourceIds = new Map<string, number>();

  constructor(
    private readonly profile: Profile,
    private readonly strings: GeckoStrings,
    private readonly ids: LocalIds,
  ) {}

  /**
   * The thread-local stack index of a profile stack node; -1 (null) for an empty stack. Profile stack nodes are
   * unique per (caller node, frame), and so are local ones, so nodes map one to one.
   */
  stack(node: number): number {
    if (node < 0) return -1;
    const known = this.ids.stack.get(node);
    if (known >= 0) return known;
    // A node new to the thread: walk up to the nearest caller it has, then add the missing ones outermost first.
    const missing: number[] = [];
    let prefix = -1;
    for (let n = node; n >= 0; n = this.profile.stackParent[n]!) {
      prefix = this.ids.stack.get(n);
      if (prefix >= 0) break;
      missing.push(n);
    }
    for (let k = missing.length - 1; k >= 0; k--) {
      const id = this.stackFrame.length;
      this.stackFrame.push(this.frame(this.profile.stackFrame[missing[k]!]!));
      this.stackPrefix.push(prefix);
      this.ids.stack.set(missing[k]!, id);
      prefix = id;
    }
    return prefix;
  }

  write(out: JsonChunks): void {
    const frames = this.frameFunc.length;
    const funcs = this.funcName.length;
    const resources = this.resourceName.length;
    writeTable(out, 'stackTable', this.stackFrame.length, {
      frame: (o) => this.stackFrame.write(o),
      prefix: (o) => this.stackPrefix.write(o, true),
    });
    writeTable(out, 'frameTable', frames, {
      address: (o) => o.repeated('-1', frames),
      inlineDepth: (o) => o.repeated('0', frames),
      category: (o) => o.repeated(String(CATEGORY_PYTHON), frames),
      subcategory: (o) => o.repeated('0', frames),
      func: (o) => this.frameFunc.write(o),
      nativeSymbol: (o) => o.repeated('null', frames),
      innerWindowID: (o) => o.repeated('null', frames),
      line: (o) => this.frameLine.write(o, true),
      column: (o) => o.repeated('null', frames),
    });
    writeTable(out, 'funcTable', funcs, {
      name: (o) => this.funcName.write(o),
      // isJS marks "script" frames: the profiler's JS-only views then show exactly the Python code.
      isJS: (o) => o.repeated('true', funcs),
      relevantForJS: (o) => o.repeated('false', funcs),
      resource: (o) => this.funcResource.write(o),
      fileName: (o) => this.funcFile.write(o),
      lineNumber: (o) => this.funcLine.write(o, true),
      columnNumber: (o) => o.repeated('null', funcs),
    });
    writeTable(out, 'resourceTable', resources, {
      lib: (o) => o.repeated('null', resources),
      name: (o) => this.resourceName.write(o),
      host: (o) => o.repeated('null', resources),
      type: (o) => o.repeated(String(RESOURCE_TYPE_LIBRARY), resources),
    });
    writeTable(out, 'nativeSymbols', 0, {
      libIndex: (o) => o.write('[]'),
      address: (o) => o.write('[]'),
      name: (o) => o.write('[]'),
      functionSize: (o) => o.write('[]'),
    });
  }

  private frame(frame: number): number {
    let id = this.ids.frame.get(frame);
    if (id < 0) {
      const { func, line } = this.profile.frames[frame]!;
      id = this.frameFunc.length;
      this.frameFunc.push(this.func(func));
      this.frameLine.push(line > 0 ? line : -1);
      this.ids.frame.set(frame, id);
    }
    return id;
  }

  private func(func: number): number {
    let id = this.ids.func.get(func);
    if (id < 0) {
      const entry = this.profile.functions[func]!;
      const file = this.profile.strings[entry.file]!;
      id = this.funcName.length;
      this.funcName.push(this.strings.id(this.profile.strings[entry.name]!));
      this.funcResource.push(this.resource(file));
      this.funcFile.push(this.strings.id(file));
      this.funcLine.push(entry.firstLine > 0 ? entry.firstLine : -1);
      this.ids.func.set(func, id);
    }
    return id;
  }

  private resource(file: string): number {
    let id = this.resourceIds.get(file);
    if (id === undefined) {
      id = this.resourceName.length;
      this.resourceName.push(this.strings.id(file));
      this.resourceIds.set(file, id);
    }
    return id;
  }
}

/** Consecutive samples of the thread with the same endpoint make one interval marker, ending one interval late. */
class RequestMarkers {
  private endpoint = new IntColumn();
  private samples = new IntColumn();
  private name = new IntColumn();
  private startTime: number[] = [];
  private endTime: number[] = [];

  constructor(
    private readonly profile: Profile,
    strings: GeckoStrings,
    indices: number[],
  ) {
    const { samples } = profile;
    const intervalMs = sampleIntervalMs(profile);
    for (let start = 0, end = 0; start < indices.length; start = end) {
      const endpoint = samples.endpoint[indices[start]!]!;
      while (end < indices.length && samples.endpoint[indices[end]!] === endpoint) end++;
      if (endpoint < 0) continue;
      this.endpoint.push(endpoint);
      this.samples.push(end - start);
      this.name.push(strings.id(profile.endpoints[endpoint]!));
      this.startTime.push(samples.time[indices[start]!]!);
      this.endTime.push(samples.time[indices[end - 1]!]! + intervalMs);
    }
  }

  write(out: JsonChunks): void {
    const count = this.endpoint.length;
    // The data object's text up to its sample count, once per endpoint.
    const dataPrefix = this.profile.endpoints.map(
      (label) => `{"type":"Request","endpoint":${JSON.stringify(label)},"samples":`,
    );
    writeTable(out, 'markers', count, {
      data: (o) => o.list(count, (i) => `${dataPrefix[this.endpoint.values[i]!]}${this.samples.values[i]}}`),
      name: (o) => this.name.write(o),
      startTime: (o) => o.floats(Float64Array.from(this.startTime), count),
      endTime: (o) => o.floats(Float64Array.from(this.endTime), count),
      phase: (o) => o.repeated(String(MARKER_PHASE_INTERVAL), count),
      category: (o) => o.repeated(String(CATEGORY_REQUEST), count),
    });
  }
}
