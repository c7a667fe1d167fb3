// Builds a Profile sample by sample: interns strings, functions, frames and stack prefixes,
// and grows the columnar sample arrays geometrically so adding a sample is amortised O(stack depth).
// RawFrames and frame lists are also interned by identity (the sampler reuses both), so an unchanged
// stack costs one lookup and a changed one only its frames below the callers it shares with the last.
// With RSS readings (record --memory), each rise is shared among the samples of the tick that saw it.

import {
  PROFILE_SCHEMA_VERSION,
  type FrameEntry,
  type FunctionEntry,
  type Profile,
  type ProfileMeta,
  type ProcessEntry,
  type SampleStats,
  type ThreadEntry,
} from './model.js';
import type { MemoryUsage, RawFrame, RawSample } from '../sampler/sample.js';
import { MemoryTracker, shareGrowth } from './memory-tracker.js';

export type { RawFrame, RawSample } from '../sampler/sample.js';
/**
 * Rows the sample and stack columns start with. Small: they grow several times within a recording's first second,
 * so V8 has run the growth path before it optimises addSample; a first growth after that (it was at 4,096 samples)
 * deoptimised addSample and the sampler's loop around it, which were then compiled again.
 */
const INITIAL_ROWS = 64;

export class ProfileBuilder {
  private strings: string[] = [];
  private stringIds = new Map<string, number>();
  private functions: FunctionEntry[] = [];
  private functionIds = new Map<string, number>();
  private frames: FrameEntry[] = [];
  private frameIds = new Map<number, Map<number, number>>();
  private stackParent = new Int32Array(INITIAL_ROWS);
  private stackFrame = new Int32Array(INITIAL_ROWS);
  private stackCount = 0;
  private stackIds = new Map<number, Map<number, number>>();
  private threads: ThreadEntry[] = [];
  private threadIds = new Map<string, number>();
  private processes = new Map<number, ProcessEntry>();
  private endpoints: string[] = [];
  private endpointIds = new Map<string, number>();
  private sampleStack = new Int32Array(INITIAL_ROWS);
  private sampleTime = new Float64Array(INITIAL_ROWS);
  private sampleThread = new Int32Array(INITIAL_ROWS);
  private sampleEndpoint = new Int32Array(INITIAL_ROWS);
  private sampleFlags = new Uint8Array(INITIAL_ROWS);
  /** Made by the first RSS reading: without --memory a profile has no such column. */
  private sampleGrowth: Float64Array | undefined;
  private sampleCount = 0;
  private memory: MemoryTracker | undefined;
  private sources = new Map<string, readonly string[]>();
  private frameIdsByObject = new WeakMap<RawFrame, number>();
  private stackIdsByList = new WeakMap<readonly RawFrame[], number>();
  /** The last frame list interned frame by frame, and its stack node at each depth. */
  private lastFrames: readonly RawFrame[] = [];
  private lastNodes: number[] = [];
  readonly stats: SampleStats = { attempted: 0, taken: 0, dropped: {} };

  internString(text: string): number {
    let id = this.stringIds.get(text);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(text);
      this.stringIds.set(text, id);
    }
    return id;
  }

  internFunction(name: string, file: string, firstLine = 0): number {
    const key = `${name}\0${file}\0${firstLine}`;
    let id = this.functionIds.get(key);
    if (id === undefined) {
      id = this.functions.length;
      this.functions.push({ name: this.internString(name), file: this.internString(file), firstLine });
      this.functionIds.set(key, id);
    }
    return id;
  }

  internFrame(func: number, line: number): number {
    let id = findPair(this.frameIds, func, line);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push({ func, line });
      setPair(this.frameIds, func, line, id);
    }
    return id;
  }

  /** The stack node for `frame` called from node `parent` (-1 for a root frame). */
  internStack(parent: number, frame: number): number {
    let id = findPair(this.stackIds, parent, frame);
    if (id === undefined) {
      if (this.stackCount === this.stackParent.length) {
        this.stackParent = grow(this.stackParent);
        this.stackFrame = grow(this.stackFrame);
      }
      id = this.stackCount++;
      this.stackParent[id] = parent;
      this.stackFrame[id] = frame;
      setPair(this.stackIds, parent, frame, id);
    }
    return id;
  }

  /** Interns a whole stack given outermost first; returns -1 for an empty one. */
  internFrames(frames: readonly RawFrame[]): number {
    const known = this.stackIdsByList.get(frames);
    if (known !== undefined) return known;
    const nodes = this.lastNodes;
    let depth = 0;
    let node = -1;
    // Callers this stack shares with the last one (the same RawFrame objects) keep their nodes.
    while (depth < frames.length && depth < this.lastFrames.length && frames[depth] === this.lastFrames[depth]) {
      node = nodes[depth++]!;
    }
    for (; depth < frames.length; depth++) {
      node = this.internStack(node, this.internRawFrame(frames[depth]!));
      nodes[depth] = node;
    }
    nodes.length = frames.length;
    this.lastFrames = frames;
    this.stackIdsByList.set(frames, node);
    return node;
  }

  private internRawFrame(frame: RawFrame): number {
    let id = this.frameIdsByObject.get(frame);
    if (id === undefined) {
      id = this.internFrame(this.internFunction(frame.name, frame.file, frame.firstLine), frame.line);
      this.frameIdsByObject.set(frame, id);
    }
    return id;
  }

  internThread(pid: number, tid: number, name = ''): number {
    const key = `${pid}:${tid}`;
    let id = this.threadIds.get(key);
    if (id === undefined) {
      id = this.threads.length;
      this.threads.push({ pid, tid, name });
      this.threadIds.set(key, id);
    } else if (name && !this.threads[id]!.name) {
      this.threads[id] = { pid, tid, name };
    }
    return id;
  }

  internEndpoint(label: string | undefined): number {
    if (label === undefined) return -1;
    let id = this.endpointIds.get(label);
    if (id === undefined) {
      id = this.endpoints.length;
      this.endpoints.push(label);
      this.endpointIds.set(label, id);
    }
    return id;
  }

  /** Relabels the samples of each endpoint `from` as `to` (aliases: from → to), leaving no empty endpoint. */
  mergeEndpoints(aliases: ReadonlyMap<string, string>): void {
    const labels = this.endpoints.map((label) => aliases.get(label) ?? label);
    if (labels.every((label, i) => label === this.endpoints[i])) return;
    const ids = new Map<string, number>();
    for (const label of labels) if (!ids.has(label)) ids.set(label, ids.size);
    const newId = labels.map((label) => ids.get(label)!);
    for (let i = 0; i < this.sampleCount; i++) {
      const endpoint = this.sampleEndpoint[i]!;
      if (endpoint >= 0) this.sampleEndpoint[i] = newId[endpoint]!;
    }
    this.endpoints = [...ids.keys()];
    this.endpointIds = ids;
  }

  addProcess(pid: number, command: string): void {
    if (!this.processes.has(pid)) this.processes.set(pid, { pid, command });
  }

  addSource(file: string, lines: readonly string[]): void {
    this.sources.set(file, lines);
  }

  hasSource(file: string): boolean {
    return this.sources.has(file);
  }

  /** Adds an already-interned sample. */
  addInterned(stack: number, time: number, thread: number, endpoint: number, flags: number): void {
    if (this.sampleCount === this.sampleStack.length) {
      this.sampleStack = grow(this.sampleStack);
      this.sampleTime = grow(this.sampleTime);
      this.sampleThread = grow(this.sampleThread);
      this.sampleEndpoint = grow(this.sampleEndpoint);
      this.sampleFlags = grow(this.sampleFlags);
      if (this.sampleGrowth) this.sampleGrowth = grow(this.sampleGrowth);
    }
    const i = this.sampleCount++;
    this.sampleStack[i] = stack;
    this.sampleTime[i] = time;
    this.sampleThread[i] = thread;
    this.sampleEndpoint[i] = endpoint;
    this.sampleFlags[i] = flags;
  }

  addSample(sample: RawSample): void {
    this.addInterned(
      this.internFrames(sample.frames),
      sample.time,
      this.internThread(sample.pid, sample.tid, sample.threadName),
      this.internEndpoint(sample.endpoint),
      sample.flags ?? 0,
    );
  }

  /**
   * A process's RSS at a tick, given right after its samples of that tick (as the sampler's onMemoryUsage is):
   * a rise since its previous reading is shared among those samples (see shareGrowth).
   */
  addMemoryUsage(usage: MemoryUsage): void {
    this.memory ??= new MemoryTracker();
    this.sampleGrowth ??= new Float64Array(this.sampleStack.length);
    const growth = this.memory.add(usage);
    if (growth === 0) return;
    const first = this.firstSampleOfTick(usage.pid, usage.time);
    const shares = shareGrowth(growth, this.sampleFlags.subarray(first, this.sampleCount));
    let shared = 0;
    shares.forEach((bytes, k) => {
      this.sampleGrowth![first + k] += bytes;
      shared += bytes;
    });
    if (shared < growth) this.memory.noteUnattributed(usage.pid, growth - shared);
  }

  /** The samples of one process at one tick were added together, last: where that run starts. */
  private firstSampleOfTick(pid: number, time: number): number {
    let i = this.sampleCount;
    while (i > 0 && this.sampleTime[i - 1] === time && this.threads[this.sampleThread[i - 1]!]!.pid === pid) i--;
    return i;
  }

  get size(): number {
    return this.sampleCount;
  }

  build(meta: Omit<ProfileMeta, 'stats'> & { stats?: SampleStats }): Profile {
    const n = this.sampleCount;
    return {
      schemaVersion: PROFILE_SCHEMA_VERSION,
      strings: [...this.strings],
      functions: [...this.functions],
      frames: [...this.frames],
      stackParent: this.stackParent.slice(0, this.stackCount),
      stackFrame: this.stackFrame.slice(0, this.stackCount),
      threads: [...this.threads],
      processes: [...this.processes.values()],
      endpoints: [...this.endpoints],
      samples: {
        count: n,
        stack: this.sampleStack.slice(0, n),
        time: this.sampleTime.slice(0, n),
        thread: this.sampleThread.slice(0, n),
        endpoint: this.sampleEndpoint.slice(0, n),
        flags: this.sampleFlags.slice(0, n),
        ...(this.sampleGrowth && { memoryGrowthBytes: this.sampleGrowth.slice(0, n) }),
      },
      ...(this.memory && { memory: this.memory.build() }),
      sources: new Map(this.sources),
      meta: { ...meta, stats: meta.stats ?? structuredClone(this.stats) },
    };
  }
}

function findPair(table: Map<number, Map<number, number>>, a: number, b: number): number | undefined {
  return table.get(a)?.get(b);
}

function setPair(table: Map<number, Map<number, number>>, a: number, b: number, id: number): void {
  let inner = table.get(a);
  if (!inner) {
    inner = new Map();
    table.set(a, inner);
  }
  inner.set(b, id);
}

type TypedArray = Int32Array | Float64Array | Uint8Array;

function grow<T extends TypedArray>(array: T): T {
  const bigger = new (array.constructor as new (length: number) => T)(array.length * 2);
  bigger.set(array);
  return bigger;
}
