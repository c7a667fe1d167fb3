// Exports a profile in the Firefox Profiler's processed format (what CPython 3.15's sampling profiler writes):
// one thread per sampled thread with its own stack/frame/func tables, strings shared, a marker per request.
//
// Written as processed version 57 (funcTable.fileName, shared.stringArray); the Firefox Profiler upgrades
// older processed versions itself, so the file keeps loading as the format moves on.

import type { Profile } from '../profile/index.js';
import { encodeJsonBuffer } from './json-buffer.js';
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

/** The thread tables of the processed format; columns are parallel arrays. */
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
  const gecko: GeckoProfile = {
    meta: {
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
    },
    libs: [],
    pages: [],
    threads: samplesByThread(profile).map((indices, thread) => buildThread(profile, strings, ids, thread, indices)),
    shared: { stringArray: strings.array },
  };
  return encodeJsonBuffer(gecko);
}

function buildThread(
  profile: Profile,
  strings: GeckoStrings,
  ids: LocalIds,
  thread: number,
  indices: number[],
): GeckoThread {
  const entry = profile.threads[thread]!;
  const tables = new ThreadTables(profile, strings, ids.forThread(thread));
  const { samples } = profile;
  const sampleStacks = new Array<number | null>(indices.length);
  const sampleTimes = new Array<number>(indices.length);
  for (let k = 0; k < indices.length; k++) {
    sampleStacks[k] = tables.stack(samples.stack[indices[k]!]!);
    sampleTimes[k] = samples.time[indices[k]!]!;
  }
  const command = profile.processes.find((process) => process.pid === entry.pid)?.command;
  return {
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
    samples: {
      stack: sampleStacks,
      time: sampleTimes,
      weight: null,
      weightType: 'samples',
      length: sampleStacks.length,
    },
    markers: buildRequestMarkers(profile, strings, indices),
    ...tables.finish(),
  };
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

/** One thread's stack, frame, func and resource tables, filled on demand from the profile's interned ids. */
class ThreadTables {
  private stackTable: GeckoThread['stackTable'] = { frame: [], prefix: [], length: 0 };
  private frameTable: GeckoThread['frameTable'] = {
    address: [],
    inlineDepth: [],
    category: [],
    subcategory: [],
    func: [],
    nativeSymbol: [],
    innerWindowID: [],
    line: [],
    column: [],
    length: 0,
  };
  private funcTable: GeckoThread['funcTable'] = {
    name: [],
    isJS: [],
    relevantForJS: [],
    resource: [],
    fileName: [],
    lineNumber: [],
    columnNumber: [],
    length: 0,
  };
  private resourceTable: GeckoThread['resourceTable'] = { lib: [], name: [], host: [], type: [], length: 0 };
  private resourceIds = new Map<string, number>();

  constructor(
    private readonly profile: Profile,
    private readonly strings: GeckoStrings,
    private readonly ids: LocalIds,
  ) {}

  /**
   * The thread-local stack index of a profile stack node; null for an empty stack. Profile stack nodes are
   * unique per (caller node, frame), and so are local ones, so nodes map one to one.
   */
  stack(node: number): number | null {
    if (node < 0) return null;
    const known = this.ids.stack.get(node);
    if (known >= 0) return known;
    // A node new to the thread: walk up to the nearest caller it has, then add the missing ones outermost first.
    const missing: number[] = [];
    let prefix: number | null = null;
    for (let n = node; n >= 0; n = this.profile.stackParent[n]!) {
      const id = this.ids.stack.get(n);
      if (id >= 0) {
        prefix = id;
        break;
      }
      missing.push(n);
    }
    for (let k = missing.length - 1; k >= 0; k--) {
      const id = this.stackTable.length++;
      this.stackTable.frame.push(this.frame(this.profile.stackFrame[missing[k]!]!));
      this.stackTable.prefix.push(prefix);
      this.ids.stack.set(missing[k]!, id);
      prefix = id;
    }
    return prefix;
  }

  finish(): Pick<GeckoThread, 'stackTable' | 'frameTable' | 'funcTable' | 'resourceTable' | 'nativeSymbols'> {
    return {
      stackTable: this.stackTable,
      frameTable: this.frameTable,
      funcTable: this.funcTable,
      resourceTable: this.resourceTable,
      nativeSymbols: { libIndex: [], address: [], name: [], functionSize: [], length: 0 },
    };
  }

  private frame(frame: number): number {
    let id = this.ids.frame.get(frame);
    if (id < 0) {
      const { func, line } = this.profile.frames[frame]!;
      const table = this.frameTable;
      id = table.length++;
      table.address.push(-1);
      table.inlineDepth.push(0);
      table.category.push(CATEGORY_PYTHON);
      table.subcategory.push(0);
      table.func.push(this.func(func));
      table.nativeSymbol.push(null);
      table.innerWindowID.push(null);
      table.line.push(line > 0 ? line : null);
      table.column.push(null);
      this.ids.frame.set(frame, id);
    }
    return id;
  }

  private func(func: number): number {
    let id = this.ids.func.get(func);
    if (id < 0) {
      const entry = this.profile.functions[func]!;
      const file = this.profile.strings[entry.file]!;
      const table = this.funcTable;
      id = table.length++;
      table.name.push(this.strings.id(this.profile.strings[entry.name]!));
      // isJS marks "script" frames: the profiler's JS-only views then show exactly the Python code.
      table.isJS.push(true);
      table.relevantForJS.push(false);
      table.resource.push(this.resource(file));
      table.fileName.push(this.strings.id(file));
      table.lineNumber.push(entry.firstLine > 0 ? entry.firstLine : null);
      table.columnNumber.push(null);
      this.ids.func.set(func, id);
    }
    return id;
  }

  private resource(file: string): number {
    let id = this.resourceIds.get(file);
    if (id === undefined) {
      const table = this.resourceTable;
      id = table.length++;
      table.lib.push(null);
      table.name.push(this.strings.id(file));
      table.host.push(null);
      table.type.push(RESOURCE_TYPE_LIBRARY);
      this.resourceIds.set(file, id);
    }
    return id;
  }
}

/** Consecutive samples of the thread with the same endpoint make one interval marker, ending one interval late. */
function buildRequestMarkers(profile: Profile, strings: GeckoStrings, indices: number[]): GeckoThread['markers'] {
  const markers: GeckoThread['markers'] = {
    data: [],
    name: [],
    startTime: [],
    endTime: [],
    phase: [],
    category: [],
    length: 0,
  };
  const { samples } = profile;
  const intervalMs = sampleIntervalMs(profile);
  for (let start = 0, end = 0; start < indices.length; start = end) {
    const endpoint = samples.endpoint[indices[start]!]!;
    while (end < indices.length && samples.endpoint[indices[end]!] === endpoint) end++;
    if (endpoint < 0) continue;
    markers.data.push({ type: 'Request', endpoint: profile.endpoints[endpoint]!, samples: end - start });
    markers.name.push(strings.id(profile.endpoints[endpoint]!));
    markers.startTime.push(samples.time[indices[start]!]!);
    markers.endTime.push(samples.time[indices[end - 1]!]! + intervalMs);
    markers.phase.push(MARKER_PHASE_INTERVAL);
    markers.category.push(CATEGORY_REQUEST);
    markers.length++;
  }
  return markers;
}
