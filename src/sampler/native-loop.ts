// The sampling loop of hotpath's native addon (src/sampler/native/stack-sampler.c), seen from JavaScript: it is
// given each process's layout as numbers, samples on a thread of its own at the rate asked, and hands back the
// stacks it walked (addresses only) whenever they are drained, a few times a second. Decoding them into names
// stays here, with the caches the rest of hotpath shares.

import { createRequire } from 'node:module';
import { WALKED_FRAME_WORDS, type PythonProcess, type WalkedStack } from '../cpython/index.js';
import { CapturedMemory } from '../proc/index.js';
import { procThreadFacts } from './forked-thread-ids.js';

interface StackSamplerBinding {
  create(rateHz: number, includeIdle: number, gilMode: number, durationMs: number, onNewCode?: () => void): object;
  addProcess(handle: object, config: Float64Array): void;
  removeProcess(handle: object, pid: number): void;
  start(handle: object): void;
  stop(handle: object): void;
  /** Samples every target once, on this thread (the loop's own must not run); the tick's time. */
  tickNow(handle: object): number;
  /**
   * The records since the last drain; `counters` receives [ticks, attempted, taken, memory reads, stat reads,
   * schedstat reads] so far.
   */
  drain(handle: object, counters: Float64Array): Buffer;
  /** [pid, code, slot, holds, ...]: frames running that code object have those slots copied with each sample. */
  watchCode(handle: object, numbers: Float64Array): void;
}

/** Each field of a process's configuration, in the order stack-sampler.c reads them (its CFG_ enum). */
const CONFIG_FIELDS = [
  'pid',
  'runtime',
  'interpretersHead',
  'interpNext',
  'interpThreadsHead',
  'tstateSize',
  'tstateNext',
  'tstateCurrentFrame',
  'cframeCurrentFrame',
  'tstateThreadId',
  'tstateNativeThreadId',
  'pthreadTidOffset',
  'frameSize',
  'framePrevious',
  'frameExecutable',
  'frameInstr',
  'frameOwner',
  'frameOwnerCStack',
  'executableTagMask',
  'instrIsPointer',
  'gilKind',
  'gilstateTstateCurrent',
  'interpCevalGil',
  'gilLocked',
  'gilLastHolder',
  'codeHeaderSize',
  'parentPid',
  'sharesPidNamespace',
  'codeFilename',
  'codeName',
  'codeQualname',
  'codeLinetable',
  'strLength',
  'strState',
  'strAsciiSize',
  'strCompactSize',
  'strKindShift',
  'strCompactBit',
  'strAsciiBit',
  'bytesSize',
  'bytesData',
  'frameLocalsplus',
  'dictVersionTag',
  'dictKeys',
  'dictValues',
  'keysLog2Size',
  'keysLog2IndexBytes',
  'keysKind',
  'keysNentries',
  'keysIndices',
  'keysSize39',
  'objectType',
  'objectFirstField',
] as const;
type ConfigField = (typeof CONFIG_FIELDS)[number];

/** What the native loop can hold (its stack buffers). */
const MAX_THREAD_STATE_BYTES = 2048;
const MAX_FRAME_BYTES = 1024;
const MAX_CODE_HEADER_BYTES = 512;
/** Local slots the loop copies per code object (SLOTS_PER_CODE in stack-sampler.c). */
const MAX_WATCHED_SLOTS = 4;

const RECORD_SAMPLE = 1;
const RECORD_DROP = 2;
/** Numbers before a sample's frames; its frames follow, as a WalkedStack has them, then their code headers. */
const SAMPLE_WORDS = 10;
const DROP_REASONS: Record<number, string> = { 1: 'torn-read', 2: 'read-error', 3: 'target-exited', 4: 'buffer-full' };

export const NATIVE_FLAG_IDLE = 1;
export const NATIVE_FLAG_GIL = 2;
const FLAG_TRUNCATED = 4;

/** Which threads' GIL state the loop reads: none, every one (to flag the holder), or only the holder is kept. */
export type GilMode = 'ignore' | 'flag' | 'only';
const GIL_MODES: Record<GilMode, number> = { ignore: 0, flag: 1, only: 2 };
/** WatchedSlot.holds as stack-sampler.c numbers it (HOLDS_*). */
const HOLDS: Record<WatchedSlot['holds'], number> = { object: 0, dict: 1, environ: 2 };

export interface NativeLoopOptions {
  rateHz: number;
  /** The loop stops by itself this long after it starts; undefined = when stopped. */
  durationMs?: number;
  /**
   * Called when samples carry a code object the loop had not sent before, at most once per drain: draining soon
   * decodes it while it surely exists (compiled and freed in a loop, or in a child about to exit).
   */
  onNewCode?: () => void;
  includeIdle: boolean;
  gil: GilMode;
}

/** A local slot whose content the loop copies with every sample of a frame running its code object. */
export interface WatchedSlot {
  /** Index in the frame's localsplus. */
  slot: number;
  /**
   * What the slot holds: a dict's identity is dictIdentity, an object's objectIdentity; a WSGI environ is a dict
   * whose request line the loop also copies (SampledSlot.environ).
   */
  holds: 'object' | 'dict' | 'environ';
}

/** What a watched slot of one frame held when the stack was walked. */
export interface SampledSlot {
  frameAddress: number;
  slot: number;
  /** The object in the slot (tag bits cleared), 0 when unset. */
  value: number;
  /** dictIdentity or objectIdentity of that object (see WatchedSlot.holds), 0 when unknown. */
  identity: number;
  /** A WSGI environ's request line as the loop copied it with the stack, when the slot holds one that it could copy. */
  environ?: EnvironSnapshot;
}

/**
 * What a WSGI environ held when its stack was walked, copied by the loop and checked to be of one moment, so that
 * labelling it needs no read of the target: its request line, 'no-request-line' (a dict without REQUEST_METHOD: an
 * environ not filled in yet, or no environ at all), or 'changed' (it changed between the walk and the copy: the
 * thread had moved on).
 */
export type EnvironSnapshot = RequestLine | 'no-request-line' | 'changed';

export interface RequestLine {
  /** REQUEST_METHOD. */
  method: string;
  /** PATH_INFO and QUERY_STRING, undefined when absent. */
  path: string | undefined;
  query: string | undefined;
  /** The environ has an X-Hotpath header (HTTP_X_HOTPATH). */
  markerHeader: boolean;
}

/** The method length stack-sampler.c gives an environ that changed between the walk and the copy. */
const SNAPSHOT_CHANGED = -2;

/** A stack the loop walked, with what it knows of the thread. */
export interface NativeStackRecord {
  /** Milliseconds since the loop started. */
  time: number;
  pid: number;
  /** The OS thread, 0 when unknown. */
  tid: number;
  flags: number;
  walk: WalkedStack;
  /** The watched slots of its frames, as they were at that moment. */
  slots: SampledSlot[];
}

export interface NativeDropRecord {
  time: number;
  pid: number;
  reason: string;
}

export interface NativeDrain {
  stacks: NativeStackRecord[];
  drops: NativeDropRecord[];
  ticks: number;
  attempted: number;
  taken: number;
  /** System calls that read target memory, since the loop was created. */
  memoryReads: number;
  /** Reads of a thread's /proc stat (its scheduler state), since the loop was created. */
  stateReads: number;
  /** Reads of a thread's /proc schedstat (its CPU time), since the loop was created. */
  runTimeReads: number;
}

/** The addon where it was built and is not disabled (HOTPATH_NATIVE=0 turns off every addon); undefined otherwise. */
function loadBinding(): StackSamplerBinding | undefined {
  if (process.env.HOTPATH_NATIVE === '0') return undefined;
  try {
    // dist/src/sampler/native-loop.js → dist/native/stack-sampler.node, built by scripts/build-native.mjs
    return createRequire(import.meta.url)('../../native/stack-sampler.node') as StackSamplerBinding;
  } catch {
    return undefined;
  }
}

export class NativeLoop {
  private readonly counters = new Float64Array(6);

  private constructor(
    private readonly binding: StackSamplerBinding,
    private readonly handle: object,
  ) {}

  /** A loop, or undefined where the addon is not available. */
  static create(options: NativeLoopOptions): NativeLoop | undefined {
    const binding = loadBinding();
    if (!binding) return undefined;
    const { rateHz, includeIdle, gil, durationMs, onNewCode } = options;
    const handle = binding.create(rateHz, includeIdle ? 1 : 0, GIL_MODES[gil], durationMs ?? 0, onNewCode);
    return new NativeLoop(binding, handle);
  }

  /** Whether the loop can sample `python` (its structures fit the loop's buffers). */
  static canSample(python: PythonProcess): boolean {
    const l = python.layout;
    return (
      !l.freeThreaded &&
      l.threadState.size <= MAX_THREAD_STATE_BYTES &&
      l.interpreterFrame.size <= MAX_FRAME_BYTES &&
      python.codeHeaderSize <= MAX_CODE_HEADER_BYTES
    );
  }

  add(python: PythonProcess): void {
    this.binding.addProcess(this.handle, configOf(python));
  }

  remove(pid: number): void {
    this.binding.removeProcess(this.handle, pid);
  }

  /** From the next tick, samples of frames running `codeAddress` in process `pid` carry those slots' contents. */
  watch(pid: number, codeAddress: number, slots: readonly WatchedSlot[]): void {
    const pairs = slots.slice(0, MAX_WATCHED_SLOTS).flatMap(({ slot, holds }) => [slot, HOLDS[holds]]);
    this.binding.watchCode(this.handle, Float64Array.from([pid, codeAddress, ...pairs]));
  }

  start(): void {
    this.binding.start(this.handle);
  }

  /** Ends the loop's thread, if it runs; ticks on this thread, or start() again, may follow. */
  stop(): void {
    this.binding.stop(this.handle);
  }

  /**
   * Samples every process once, now, on this thread, for a caller that keeps time itself (labels must be read as
   * samples are taken); the tick's time in ms since the loop started, or since the first tickNow.
   */
  tickNow(): number {
    return this.binding.tickNow(this.handle);
  }

  /** Everything sampled since the last drain. */
  drain(): NativeDrain {
    let bytes = this.binding.drain(this.handle, this.counters);
    if (bytes.byteOffset % 8 !== 0) bytes = Buffer.from(bytes); // a Float64Array view needs 8-byte alignment
    const words = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
    const drained: NativeDrain = {
      stacks: [],
      drops: [],
      ticks: this.counters[0]!,
      attempted: this.counters[1]!,
      taken: this.counters[2]!,
      memoryReads: this.counters[3]!,
      stateReads: this.counters[4]!,
      runTimeReads: this.counters[5]!,
    };
    for (let at = 0; at < words.length;) {
      if (words[at] === RECORD_DROP) {
        drained.drops.push({ time: words[at + 1]!, pid: words[at + 2]!, reason: DROP_REASONS[words[at + 3]!]! });
        at += 4;
      } else if (words[at] === RECORD_SAMPLE) {
        at = this.decodeStack(bytes, words, at, drained.stacks);
      } else {
        throw new Error(`native sampling loop: unknown record ${words[at]} at word ${at}`);
      }
    }
    return drained;
  }

  /** Decodes the sample record at word `at` into `into`; the word after it. */
  private decodeStack(bytes: Buffer, words: Float64Array, at: number, into: NativeStackRecord[]): number {
    const pid = words[at + 2]!;
    const flags = words[at + 7]!;
    const depth = words[at + 8]!;
    const headerBytes = words[at + 9]!;
    const first = at + SAMPLE_WORDS;
    const headersAt = (first + depth * WALKED_FRAME_WORDS) * 8;
    const { captured, next: slotsAt } = this.decodeCaptures(bytes, words, (headersAt + headerBytes) / 8);
    const { slots, next: snapshotsAt } = decodeSlots(words, slotsAt);
    const next = decodeEnvirons(bytes, words, snapshotsAt, slots);
    const tid = words[at + 3]!;
    into.push({
      time: words[at + 1]!,
      pid,
      tid,
      flags,
      walk: {
        threadId: words[at + 4]!,
        nativeThreadId: tid || undefined,
        threadStateAddress: words[at + 5]!,
        interp: words[at + 6]!,
        truncated: (flags & FLAG_TRUNCATED) !== 0,
        words,
        first,
        depth,
        bytes,
        headersAt,
        captured,
      },
      slots,
    });
    return next;
  }

  /** The copies of memory a sample carries (at word `at`: a count, then address, length and bytes each). */
  private decodeCaptures(
    bytes: Buffer,
    words: Float64Array,
    at: number,
  ): { captured: CapturedMemory | undefined; next: number } {
    const count = words[at]!;
    let next = at + 1;
    if (count === 0) return { captured: undefined, next };
    const captured = new CapturedMemory();
    for (let i = 0; i < count; i++) {
      const length = words[next + 1]!;
      captured.add(words[next]!, bytes.subarray((next + 2) * 8, (next + 2) * 8 + length));
      next += 2 + Math.ceil(length / 8);
    }
    return { captured, next };
  }
}

/** The watched slots a sample carries (at word `at`: a count, then frame, slot, value and identity each). */
function decodeSlots(words: Float64Array, at: number): { slots: SampledSlot[]; next: number } {
  const count = words[at]!;
  const slots: SampledSlot[] = [];
  for (let i = 0, w = at + 1; i < count; i++, w += 4) {
    slots.push({ frameAddress: words[w]!, slot: words[w + 1]!, value: words[w + 2]!, identity: words[w + 3]! });
  }
  return { slots, next: at + 1 + count * 4 };
}

/**
 * The environ snapshots a sample carries (at word `at`: a count, then for each the dict, the lengths of method, path
 * and query, -1 when absent (the method's SNAPSHOT_CHANGED), the marker flag, and the three texts padded to 8),
 * attached to the slots holding them; the word after them.
 */
function decodeEnvirons(bytes: Buffer, words: Float64Array, at: number, slots: readonly SampledSlot[]): number {
  const count = words[at]!;
  let next = at + 1;
  for (let i = 0; i < count; i++) {
    const [dict, methodLength, pathLength, queryLength, marker] = words.subarray(next, next + 5);
    let textAt = (next + 5) * 8;
    const text = (length: number): string | undefined => {
      if (length < 0) return undefined;
      textAt += length;
      return bytes.toString('latin1', textAt - length, textAt);
    };
    const [method, path, query] = [text(methodLength!), text(pathLength!), text(queryLength!)];
    const environ: EnvironSnapshot =
      methodLength === SNAPSHOT_CHANGED
        ? 'changed'
        : method !== undefined
          ? { method, path, query, markerHeader: marker === 1 }
          : 'no-request-line';
    for (const slot of slots) if (slot.value === dict) slot.environ = environ;
    next += 5 + Math.ceil((textAt - (next + 5) * 8) / 8);
  }
  return next;
}

/** The numbers stack-sampler.c walks `python` with; -1 for what the version does not have. */
function configOf(python: PythonProcess): Float64Array {
  const l = python.layout;
  const f = l.interpreterFrame;
  const cframe = l.currentFrameKind === 'cframe';
  const keys311 = l.dictKind !== 'dict-39';
  const gilKind =
    l.gilKind === 'runtime-tstate-current' && l.runtimeState.gilstateTstateCurrent !== undefined
      ? 1
      : l.gilKind === 'interpreter-gil' && l.interpreterState.cevalGil !== undefined && l.gilRuntimeState
        ? 2
        : 0;
  const values: Record<ConfigField, number> = {
    pid: python.pid,
    runtime: python.location.runtimeAddress,
    interpretersHead: l.runtimeState.interpretersHead,
    interpNext: l.interpreterState.next,
    interpThreadsHead: l.interpreterState.threadsHead,
    tstateSize: l.threadState.size,
    tstateNext: l.threadState.next,
    tstateCurrentFrame: l.threadState.currentFrame,
    cframeCurrentFrame: cframe ? (l.threadState.cframeCurrentFrame ?? 0) : -1,
    tstateThreadId: l.threadState.threadId,
    tstateNativeThreadId: l.threadState.nativeThreadId ?? -1,
    pthreadTidOffset: l.threadState.nativeThreadId === undefined ? (python.pthreadTidOffsetOf() ?? -1) : -1,
    frameSize: f.size,
    framePrevious: f.previous,
    frameExecutable: f.executable,
    frameInstr: f.instrPtr,
    frameOwner: f.owner ?? -1,
    frameOwnerCStack: f.ownerCStack ?? -1,
    executableTagMask: f.executableTagMask ?? 0,
    instrIsPointer: l.instructionKind === 'instruction-pointer' ? 1 : 0,
    gilKind,
    gilstateTstateCurrent: l.runtimeState.gilstateTstateCurrent ?? -1,
    interpCevalGil: l.interpreterState.cevalGil ?? -1,
    gilLocked: l.gilRuntimeState?.locked ?? -1,
    gilLastHolder: l.gilRuntimeState?.lastHolder ?? -1,
    codeHeaderSize: python.codeHeaderSize,
    parentPid: procThreadFacts.parentPid(python.pid) ?? -1,
    sharesPidNamespace: procThreadFacts.sharesPidNamespace(python.pid) ? 1 : 0,
    codeFilename: l.codeObject.filename,
    codeName: l.codeObject.name,
    codeQualname: l.codeObject.qualname ?? -1,
    codeLinetable: l.codeObject.linetable,
    strLength: l.unicodeObject.length,
    strState: l.unicodeObject.state,
    strAsciiSize: l.unicodeObject.asciiobjectSize,
    strCompactSize: l.unicodeObject.compactobjectSize,
    strKindShift: l.unicodeObject.kindShift,
    strCompactBit: l.unicodeObject.compactBit,
    strAsciiBit: l.unicodeObject.asciiBit,
    bytesSize: l.bytesObject.obSize,
    bytesData: l.bytesObject.obSval,
    frameLocalsplus: f.localsplus,
    dictVersionTag: l.dictObject.maVersionTag ?? -1,
    dictKeys: l.dictObject.maKeys,
    dictValues: l.dictObject.maValues,
    keysLog2Size: keys311 ? l.dictKeys.size : -1,
    keysLog2IndexBytes: l.dictKeys.log2IndexBytes ?? -1,
    keysKind: keys311 ? (l.dictKeys.kind ?? -1) : -1,
    keysNentries: l.dictKeys.nentries,
    keysIndices: l.dictKeys.indices,
    keysSize39: keys311 ? -1 : l.dictKeys.size,
    objectType: l.pyObject.obType,
    objectFirstField: l.pyObject.obType + 8,
  };
  return Float64Array.from(CONFIG_FIELDS, (field) => values[field]);
}
