// A live CPython process opened for sampling: finds its runtime, picks the layout for its version,
// and reads every thread's stack on demand. The one entry point the sampler uses.

import { HotpathError, InvalidDataError, MemoryReadError } from '../errors/index.js';
import {
  PageCacheReader,
  type CapturedMemory,
  openMemoryReader,
  processExists,
  readMaps,
  readThreadIds,
  u64,
  type MemoryReader,
} from '../proc/index.js';
import { CodeReader, type CodeInfo, type CodeReaderOptions } from './code-objects.js';
import { findRuntime, readPyVersion, type PythonVersion, type RuntimeLocation } from './find-runtime.js';
import { decodeCodeAddress, decodeWalkedFrame, readFrameCodeAddress, walkFrames, type PyFrame } from './frames.js';
import type { PythonLayout } from './layout.js';
import type { RuntimeLocationCache } from './runtime-cache.js';
import { selectLayout } from './select-layout.js';
import {
  readCurrentFrameAddress,
  readInterpreters,
  readThreadStates,
  rereadThreadStates,
  type ThreadStateInfo,
} from './threads.js';

export interface ThreadStack {
  /** The interpreter this thread belongs to. */
  interp: number;
  /** OS thread id, or undefined when it could not be determined. */
  nativeThreadId: number | undefined;
  /** threading.get_ident() */
  threadId: number;
  threadStateAddress: number;
  frames: PyFrame[];
  truncated: boolean;
  /**
   * An earlier frame list of this thread's with the same code objects in the same order (or `frames` itself): a
   * cache of what depends on the functions alone, not on lines, keeps one entry while a busy thread's lines move.
   * Only stackFromWalk remembers earlier lists; readStack gives `frames`.
   */
  codesKey: readonly PyFrame[];
}

/** Numbers per frame of a WalkedStack: frame address, code object address (untagged), instruction, owner. */
export const WALKED_FRAME_WORDS = 4;
/** Added to a walked frame's owner when its code object's header, as walked, is in the stack's headers. */
export const WALKED_HEADER_FOLLOWS = 0x100;

/**
 * A stack walked elsewhere (hotpath's native sampling loop), as addresses, for PythonProcess.stackFromWalk: views of
 * the buffer the walker filled, so that a stack allocates no object per frame.
 */
export interface WalkedStack extends Omit<ThreadStack, 'frames' | 'codesKey'> {
  /** Innermost frame first, WALKED_FRAME_WORDS numbers each, from index `first`. */
  words: Float64Array;
  first: number;
  depth: number;
  /** The code object headers of the frames new on the stack (codeHeaderSize bytes each, in frame order), from `headersAt`. */
  bytes: Buffer;
  headersAt: number;
  /**
   * For code objects the walker had not sent before: their headers, names and line tables as copied with the
   * sample, decoded from here rather than from the target, which may have freed them since.
   */
  captured?: CapturedMemory;
}

export interface AttachOptions {
  /** Read memory through this reader instead of /proc/PID/mem (tests, recordings). */
  reader?: MemoryReader;
  code?: Partial<CodeReaderOptions>;
  /** Shared by the attaches of one recording, so forked workers are located without parsing libpython again. */
  runtimeCache?: RuntimeLocationCache;
}

interface RememberedWalk {
  words: Float64Array;
  depth: number;
  decoded: (PyFrame | undefined)[];
  /** The frames stackFromWalk returned for it: the same array again while the stack stays the same. */
  frames: PyFrame[];
  /** Their ThreadStack.codesKey. */
  codesKey: readonly PyFrame[];
}

/**
 * Whether a walk repeats the thread's last one frame for frame (frame, code object and instruction) with no code
 * object new on it: its frames are then the ones decoded last time, as reusedFrame would find them one by one.
 */
function isSameWalk(previous: RememberedWalk, walk: WalkedStack): boolean {
  if (previous.depth !== walk.depth) return false;
  const { words, first } = walk;
  for (let i = 0; i < walk.depth; i++) {
    const at = first + i * WALKED_FRAME_WORDS;
    if (words[at + 3]! >= WALKED_HEADER_FOLLOWS || !isSameFrame(previous.words, i * WALKED_FRAME_WORDS, words, at)) {
      return false;
    }
  }
  return true;
}

/** Whether two walked frames have the same frame, code object and instruction (the owner word aside). */
function isSameFrame(before: Float64Array, beforeAt: number, words: Float64Array, at: number): boolean {
  return (
    before[beforeAt] === words[at] && before[beforeAt + 1] === words[at + 1] && before[beforeAt + 2] === words[at + 2]
  );
}

/** Whether two frame lists run the same code objects in the same order. */
function sameCodes(a: readonly PyFrame[], b: readonly PyFrame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.code !== b[i]!.code) return false;
  return true;
}

/** How many times a stack is re-read when a torn read (the target changed under us) is detected. */
const TORN_READ_RETRIES = 2;
/**
 * A walk normally takes tens of microseconds. One that took longer had hotpath taken off the CPU midway, long
 * enough for the target to leave a function and come back to it: the innermost-frame check cannot see that, so
 * the stack is read again.
 */
const SLOW_WALK_MS = 2;
/**
 * Between samples only the known thread states are read back (a changed list shows in their links); the lists are
 * walked in full this often anyway, for interpreters created since.
 */
const REWALK_THREADS_EVERY_MS = 200;
/** Threads whose last walked stack is kept, at most: beyond, they are forgotten all at once (thread churn). */
const MAX_REMEMBERED_WALKS = 4096;

export class PythonProcess {
  readonly codes: CodeReader;
  /** Every read goes through a per-sample page cache: a sample costs a few page reads, not one per struct. */
  readonly reader: PageCacheReader;
  /**
   * A second page cache, for a graph of objects read after the stack from a root (a request's dict, its keys,
   * their strings) and checked against the root's version tag afterwards: `beginFrom(root)` copies the root's page
   * before any other, so no part of the graph is older than the root. The sample's own prefetch copies pages in
   * the previous sample's order, where a dict's keys could come before the dict that points to them.
   */
  readonly onDemandReader: PageCacheReader;
  private pthreadTidOffset: number | undefined | null = null;
  /** OS thread ids found through pthread_t (before 3.11), until the thread lists change. */
  private readonly pthreadTids = new Map<number, number | undefined>();
  /** The thread lists as last walked in full, and when. */
  private knownThreads: ThreadStateInfo[] = [];
  private threadsWalkedAt = -Infinity;
  /** Each thread's stack as last read (by thread state address): its frames that went on running are not re-checked. */
  private readonly lastStacks = new Map<number, readonly PyFrame[]>();
  /** Each thread's stack as last walked elsewhere and decoded (by thread state), for stackFromWalk. */
  private readonly lastWalks = new Map<number, RememberedWalk>();
  /** Where each thread's frame pointer is (by thread state), copied again at the end of the next sample's prefetch. */
  private readonly closingPlan = new Map<number, number>();
  /** Whether this sample's thread states all came from its prefetch (no read reached the target for them). */
  private threadsFromSnapshot = false;
  /** (address, length, offset) of what readFreshInnermost reads, and where it lands. */
  private readonly freshSpans: Float64Array;
  private readonly freshBytes: Buffer;

  private constructor(
    readonly pid: number,
    private readonly targetReader: MemoryReader,
    readonly location: RuntimeLocation,
    readonly version: PythonVersion,
    readonly layout: PythonLayout,
    codeOptions: Partial<CodeReaderOptions>,
  ) {
    this.reader = new PageCacheReader(targetReader);
    this.onDemandReader = new PageCacheReader(targetReader);
    const codeHeaderSize = layout.codeObject.size + 8;
    this.freshSpans = new Float64Array([0, 8, 0, 0, 8, 8, 0, codeHeaderSize, 16]);
    this.freshBytes = Buffer.alloc(16 + codeHeaderSize);
    this.codes = new CodeReader(this.reader, layout, codeOptions, location.symbols.get('PyCode_Type'));
  }

  static attach(pid: number, options: AttachOptions = {}): PythonProcess {
    if (!Number.isInteger(pid) || pid <= 0 || !processExists(pid)) {
      throw new HotpathError('no-such-process', `no process with pid ${pid}`);
    }
    const maps = readMaps(pid);
    const location = options.runtimeCache?.find(pid, maps) ?? findRuntime(pid, maps);
    const reader = options.reader ?? openMemoryReader(pid);
    try {
      return PythonProcess.open(pid, reader, location, options.code);
    } catch (err) {
      if (!options.reader) reader.close();
      throw err;
    }
  }

  /**
   * Opens a process whose runtime is already located, reading only through `reader`: how recorded memory
   * is replayed in tests. Checks that the layout decodes, as attach does.
   */
  static open(
    pid: number,
    reader: MemoryReader,
    location: RuntimeLocation,
    codeOptions: Partial<CodeReaderOptions> = {},
  ): PythonProcess {
    const { layout, version } = selectLayout(reader, location, readPyVersion);
    const python = new PythonProcess(pid, reader, location, version, layout, codeOptions);
    python.checkRuntime();
    return python;
  }

  close(): void {
    this.reader.close();
  }

  /** Bytes read from the target now, past the per-sample page cache: to tell whether something changed meanwhile. */
  readFresh(address: number, length: number): Buffer {
    return this.targetReader.read(address, length);
  }

  /** Every thread's stack, innermost frame first. Threads whose stack could not be read are omitted. */
  readStacks(onDropped?: (reason: string) => void): ThreadStack[] {
    const stacks: ThreadStack[] = [];
    for (const thread of this.readThreads()) {
      const stack = this.readStack(thread);
      if (stack) stacks.push(stack);
      else onDropped?.('torn-read');
    }
    return stacks;
  }

  /**
   * Starts a sample: every thread with its innermost frame as of now. Read the stacks wanted with readStack
   * before the next call (a sampler skips idle threads' stacks altogether).
   */
  readThreads(): ThreadStateInfo[] {
    this.reader.beginSample(this.closingRanges());
    this.onDemandReader.clear();
    this.codes.nextTick();
    this.threadsFromSnapshot = false;
    const now = performance.now();
    if (this.knownThreads.length > 0 && now - this.threadsWalkedAt < REWALK_THREADS_EVERY_MS) {
      const readsBefore = this.reader.targetReads;
      try {
        const threads = rereadThreadStates(this.reader, this.layout, this.knownThreads);
        this.threadsFromSnapshot = this.reader.targetReads === readsBefore;
        if (threads) return threads;
      } catch (err) {
        if (!isTornRead(err)) throw err;
      }
      this.threadsFromSnapshot = false;
    }
    const threads = this.readThreadStatesWithRetry();
    this.knownThreads = threads;
    this.threadsWalkedAt = now;
    this.forgetThreadsOtherThan(threads);
    return threads;
  }

  /**
   * The OS thread ids of the threads as last read, so that a sampler can see they all sit idle before reading any
   * memory; undefined when the thread lists are due to be walked again (a thread may have started since) or an id
   * is not known yet.
   */
  threadIdsBetweenWalks(now = performance.now()): number[] | undefined {
    if (this.knownThreads.length === 0 || now - this.threadsWalkedAt >= REWALK_THREADS_EVERY_MS) return undefined;
    const tids: number[] = [];
    for (const thread of this.knownThreads) {
      const tid = thread.nativeThreadId ?? this.pthreadTids.get(thread.threadId);
      if (tid === undefined) return undefined;
      tids.push(tid);
    }
    return tids;
  }

  /** The OS thread id of a thread from readThreads, or undefined when it could not be determined. */
  nativeThreadId(thread: ThreadStateInfo): number | undefined {
    if (thread.nativeThreadId !== undefined) return thread.nativeThreadId;
    if (!this.pthreadTids.has(thread.threadId))
      this.pthreadTids.set(thread.threadId, this.readPthreadTid(thread.threadId));
    return this.pthreadTids.get(thread.threadId);
  }

  /** Thread ids and earlier stacks belong to threads that may have ended: keep only those still listed. */
  private forgetThreadsOtherThan(threads: readonly ThreadStateInfo[]): void {
    this.pthreadTids.clear();
    const listed = new Set(threads.map((t) => t.address));
    for (const address of this.lastStacks.keys()) if (!listed.has(address)) this.lastStacks.delete(address);
    for (const address of this.closingPlan.keys()) if (!listed.has(address)) this.closingPlan.delete(address);
  }

  /** (address, length) pairs for the prefetch to copy last: what tells, after the walk, that nothing moved. */
  private closingRanges(): number[] {
    const ranges: number[] = [];
    for (const framePointerAt of this.closingPlan.values()) ranges.push(framePointerAt, 8);
    return ranges;
  }

  private readThreadStatesWithRetry(): ThreadStateInfo[] {
    for (let attempt = 0; ; attempt++) {
      try {
        return readInterpreters(this.reader, this.layout, this.location.runtimeAddress).flatMap((interp) =>
          readThreadStates(this.reader, this.layout, interp),
        );
      } catch (err) {
        if (!isTornRead(err) || attempt >= TORN_READ_RETRIES) throw this.explainReadFailure(err);
        this.reader.clear();
      }
    }
  }

  /** The stack of a thread from this sample's readThreads, innermost frame first; undefined if it kept moving. */
  readStack(thread: ThreadStateInfo): ThreadStack | undefined {
    for (let attempt = 0; attempt <= TORN_READ_RETRIES; attempt++) {
      try {
        const started = performance.now();
        const readsBefore = this.reader.targetReads;
        const walk = walkFrames(this.reader, this.layout, this.codes, thread.frameAddress);
        const fromSnapshot = attempt === 0 && this.threadsFromSnapshot && this.reader.targetReads === readsBefore;
        const lastAttempt = attempt === TORN_READ_RETRIES;
        // A retry trusts nothing from before: the torn attempt may have been read mid-change.
        this.checkCodeObjects(walk.frames, attempt === 0 ? this.lastStacks.get(thread.address) : undefined);
        if (!lastAttempt && !this.isOneMoment(thread, walk.frames, fromSnapshot, started)) {
          throw new InvalidDataError('the stack moved on while it was read');
        }
        // The last attempt is kept even if the thread moved on (better sampled than dropped), but never with an
        // innermost function whose code object is no longer there: that could be a wrong name.
        const innermost = walk.frames[0];
        if (lastAttempt && innermost && !this.codes.isCurrent(innermost.code, this.targetReader)) return undefined;
        this.lastStacks.set(thread.address, walk.frames);
        this.closingPlan.set(thread.address, thread.framePointerAt);
        return {
          interp: thread.interp,
          nativeThreadId: this.nativeThreadId(thread),
          threadId: thread.threadId,
          threadStateAddress: thread.address,
          frames: walk.frames,
          truncated: walk.truncated,
          codesKey: walk.frames,
        };
      } catch (err) {
        if (!isTornRead(err)) throw err;
        if (!processExists(this.pid) || isAddressSpaceGone(err) || this.hasExecd()) throw this.explainReadFailure(err);
        this.reader.clear();
        this.codes.nextTick();
        thread = this.rereadThreadState(thread) ?? thread;
      }
    }
    return undefined;
  }

  /**
   * Starts decoding a batch of stacks walked elsewhere: code objects they name that are not cached yet, and what
   * labels read from them, are read now, through page caches emptied here.
   */
  beginWalkedStacks(): void {
    this.reader.clear();
    this.onDemandReader.clear();
    this.codes.nextTick();
    if (this.lastWalks.size > MAX_REMEMBERED_WALKS) this.lastWalks.clear();
  }

  /**
   * A stack walked elsewhere, decoded: undefined when it cannot be trusted. Every frame new on the stack came with
   * its code object's header as walked: the cached object must be that one (a freed code object's address may have
   * been given to another), and one not cached yet must still be there now.
   */
  stackFromWalk(walk: WalkedStack): ThreadStack | undefined {
    const { words, first, depth } = walk;
    const previous = this.lastWalks.get(walk.threadStateAddress);
    const { interp, nativeThreadId, threadId, threadStateAddress, truncated } = walk;
    if (previous && isSameWalk(previous, walk)) {
      const { frames, codesKey } = previous;
      return { interp, nativeThreadId, threadId, threadStateAddress, frames, truncated, codesKey };
    }
    const decoded = new Array<PyFrame | undefined>(depth);
    const frames: PyFrame[] = [];
    try {
      if (!this.checkWalkedCodes(walk)) return undefined;
      for (let i = 0; i < depth; i++) {
        const at = first + i * WALKED_FRAME_WORDS;
        const checked = words[at + 3]! >= WALKED_HEADER_FOLLOWS;
        const frame = (!checked && this.reusedFrame(previous, depth - i, words, at)) || this.decodeWalked(words, at);
        decoded[i] = frame;
        if (frame) frames.push(frame);
      }
    } catch (err) {
      if (isTornRead(err)) return undefined;
      throw err;
    }
    const codesKey = previous && sameCodes(previous.frames, frames) ? previous.codesKey : frames;
    this.rememberWalk(walk, decoded, frames, codesKey);
    return { interp, nativeThreadId, threadId, threadStateAddress, frames, truncated, codesKey };
  }

  /**
   * Checks every code header the walk sent (all of them, even past a mismatch: the walker will not send them again
   * while their frames run), dropping cache entries they disprove; false when one does not match.
   */
  private checkWalkedCodes(walk: WalkedStack): boolean {
    let headerAt = walk.headersAt;
    let all = true;
    for (let i = 0; i < walk.depth; i++) {
      const at = walk.first + i * WALKED_FRAME_WORDS;
      if (walk.words[at + 3]! < WALKED_HEADER_FOLLOWS) continue;
      all = this.isWalkedCode(walk.words[at + 1]!, walk.bytes, headerAt, walk.captured) && all;
      headerAt += this.codeHeaderSize;
    }
    return all;
  }

  /** Bytes of a code object's header that stackFromWalk expects for a frame new on a stack. */
  get codeHeaderSize(): number {
    return Math.ceil((this.layout.codeObject.size + 8) / 8) * 8;
  }

  private decodeWalked(words: Float64Array, at: number): PyFrame | undefined {
    return decodeWalkedFrame(this.layout, this.codes, {
      frameAddress: words[at]!,
      codeAddress: words[at + 1]!,
      instruction: words[at + 2]!,
      owner: words[at + 3]! % WALKED_HEADER_FOLLOWS,
    });
  }

  /**
   * The frame decoded last time for the same frame, code object and instruction, `fromOutermost` frames from the
   * outermost (a caller waiting on its callee has not moved): a steady stack decodes only its innermost frames.
   */
  private reusedFrame(
    previous: RememberedWalk | undefined,
    fromOutermost: number,
    words: Float64Array,
    at: number,
  ): PyFrame | undefined {
    if (!previous) return undefined;
    const j = previous.depth - fromOutermost;
    if (j < 0) return undefined;
    return isSameFrame(previous.words, j * WALKED_FRAME_WORDS, words, at) ? previous.decoded[j] : undefined;
  }

  private rememberWalk(
    walk: WalkedStack,
    decoded: (PyFrame | undefined)[],
    frames: PyFrame[],
    codesKey: readonly PyFrame[],
  ): void {
    const length = walk.depth * WALKED_FRAME_WORDS;
    let remembered = this.lastWalks.get(walk.threadStateAddress);
    if (!remembered || remembered.words.length < length) {
      remembered = { words: new Float64Array(Math.max(length, 64)), depth: 0, decoded, frames, codesKey };
      this.lastWalks.set(walk.threadStateAddress, remembered);
    }
    remembered.words.set(walk.words.subarray(walk.first, walk.first + length));
    remembered.depth = walk.depth;
    remembered.decoded = decoded;
    remembered.frames = frames;
    remembered.codesKey = codesKey;
  }

  /**
   * The code object at `address` decoded from its header as walked (at `at` in `bytes`) and the names and line table
   * the walk copied with it; undefined when the walk did not copy them (the object was sent before).
   */
  private decodeCaptured(address: number, captured: CapturedMemory, bytes: Buffer, at: number): CodeInfo | undefined {
    if (!captured.holds(address, this.codeHeaderSize))
      captured.add(address, bytes.subarray(at, at + this.codeHeaderSize));
    try {
      return this.codes.decodeFrom(address, captured);
    } catch (err) {
      if (err instanceof MemoryReadError) return undefined;
      throw err;
    }
  }

  /**
   * Whether the code object at `address` is the one whose header (at `at`) a walk saw: the cached one, else the one
   * decoded from what the walk copied, else the one read now.
   */
  private isWalkedCode(address: number, bytes: Buffer, at: number, captured: CapturedMemory | undefined): boolean {
    if (address === 0) return true;
    try {
      const cached = this.codes.cached(address);
      if (cached && this.codes.matchesHeader(cached, bytes, at)) return true;
      this.codes.invalidate(address);
      const info = (captured && this.decodeCaptured(address, captured, bytes, at)) ?? this.codes.read(address);
      return this.codes.matchesHeader(info, bytes, at);
    } catch (err) {
      if (!isTornRead(err)) throw err;
      this.codes.invalidate(address);
      return false;
    }
  }

  /**
   * Checks, against the target, the code objects of the frames that are new since `previous` (the thread's last
   * stack): from the outermost frame in, a frame at the same address running the same code object went on
   * running and so kept that object alive. The innermost frame is always checked: it is where a function
   * compiled, run and freed in a loop shows. A replaced code object makes the walk start again.
   */
  private checkCodeObjects(frames: readonly PyFrame[], previous: readonly PyFrame[] | undefined): void {
    let continuing = previous?.length ?? 0;
    for (let depth = 0; depth < frames.length; depth++) {
      const frame = frames[frames.length - 1 - depth]!;
      const before = depth < continuing ? previous![previous!.length - 1 - depth] : undefined;
      const kept =
        before?.frameAddress === frame.frameAddress && before.code === frame.code && depth < frames.length - 1;
      if (kept) continue;
      continuing = 0;
      if (!this.codes.check(frame.code)) throw new InvalidDataError('a code object was replaced');
    }
  }

  /**
   * The target runs on while its stack is read: if the innermost call returned meanwhile, the callers' lines
   * belong to a later moment (a caller on the line of its next call, "calling" the previous callee). Read
   * afresh, past the per-sample page cache, the innermost frame must still run the same code object, still the
   * one decoded: a leaf function that returned may have been freed and its memory given to the next one
   * (exec/compile in a loop) between the copy of its frame and the copy of its code object.
   */
  private innermostFrameUnchanged(thread: ThreadStateInfo, frames: readonly PyFrame[]): boolean {
    if (thread.frameAddress === 0) return true;
    const innermost = frames[0];
    if (innermost?.frameAddress !== thread.frameAddress) {
      return readCurrentFrameAddress(this.targetReader, this.layout, thread.address) === thread.frameAddress;
    }
    const fresh = this.readFreshInnermost(thread, innermost);
    if (!fresh) {
      const current = readCurrentFrameAddress(this.targetReader, this.layout, thread.address);
      if (
        current !== thread.frameAddress ||
        readFrameCodeAddress(this.targetReader, this.layout, current) !== innermost.code.address
      ) {
        return false;
      }
      if (this.codes.isCurrent(innermost.code, this.targetReader)) return true;
      this.codes.invalidate(innermost.code.address);
      return false;
    }
    const { framePointer, executable, codeHeader } = fresh;
    return (
      framePointer === thread.frameAddress &&
      decodeCodeAddress(this.layout, executable) === innermost.code.address &&
      this.isStillDecoded(innermost.code, codeHeader)
    );
  }

  /** Whether `header` is still the code object `code` was decoded from; if not, the next read decodes it anew. */
  private isStillDecoded(code: CodeInfo, header: Buffer): boolean {
    if (this.codes.matchesHeader(code, header)) return true;
    this.codes.invalidate(code.address);
    return false;
  }

  /**
   * Whether the stack read belongs to one moment. Read wholly from this sample's prefetch (one system call, in
   * dependency order), it does when the frame pointer copied again at the end of that call is unchanged; the
   * check is then the same for every function, whatever ran in the previous sample. Otherwise the walk must not
   * have been interrupted and the innermost frame must still be in place, read afresh.
   */
  private isOneMoment(
    thread: ThreadStateInfo,
    frames: readonly PyFrame[],
    fromSnapshot: boolean,
    started: number,
  ): boolean {
    const closing = fromSnapshot ? this.reader.closingCopy(thread.framePointerAt, 8) : undefined;
    if (closing) return u64(closing, 0) === thread.frameAddress;
    return performance.now() - started <= SLOW_WALK_MS && this.innermostFrameUnchanged(thread, frames);
  }

  /**
   * The thread's frame pointer, its innermost frame's code pointer and that code object's header, in one read;
   * undefined where the reader cannot (no scattered reads, or a frame pointer behind a _PyCFrame).
   */
  private readFreshInnermost(thread: ThreadStateInfo, innermost: PyFrame) {
    if (!this.targetReader.readSpans || this.layout.currentFrameKind === 'cframe') return undefined;
    const spans = this.freshSpans;
    spans[0] = thread.address + this.layout.threadState.currentFrame;
    spans[3] = thread.frameAddress + this.layout.interpreterFrame.executable;
    spans[6] = innermost.code.address;
    if (this.targetReader.readSpans(spans, 3, this.freshBytes) !== 3) return undefined;
    return {
      framePointer: u64(this.freshBytes, 0),
      executable: u64(this.freshBytes, 8),
      codeHeader: this.freshBytes.subarray(16),
    };
  }

  private rereadThreadState(thread: ThreadStateInfo): ThreadStateInfo | undefined {
    try {
      return readThreadStates(this.reader, this.layout, thread.interp).find((t) => t.address === thread.address);
    } catch {
      return undefined;
    }
  }

  /**
   * The thread state currently holding the GIL, 0 when none does (or when the build has no GIL).
   * ≤3.11 keep it in _PyRuntime.gilstate; 3.12+ in the interpreter's _gil_runtime_state.
   */
  readGilHolder(interp: number): number {
    const l = this.layout;
    try {
      if (l.gilKind === 'runtime-tstate-current' && l.runtimeState.gilstateTstateCurrent !== undefined) {
        return u64(this.reader.read(this.location.runtimeAddress + l.runtimeState.gilstateTstateCurrent, 8), 0);
      }
      if (l.gilKind === 'interpreter-gil' && l.interpreterState.cevalGil !== undefined && l.gilRuntimeState) {
        const gil = u64(this.reader.read(interp + l.interpreterState.cevalGil, 8), 0);
        if (gil === 0) return 0;
        const state = this.reader.read(gil, Math.max(l.gilRuntimeState.locked, l.gilRuntimeState.lastHolder) + 8);
        return state.readInt32LE(l.gilRuntimeState.locked) !== 0 ? u64(state, l.gilRuntimeState.lastHolder) : 0;
      }
    } catch {
      // an unreadable GIL state means "unknown": no thread is reported as holding it
    }
    return 0;
  }

  /** Fails early, with a clear message, when the layout does not match the process. */
  private checkRuntime(): void {
    try {
      this.readStacks();
    } catch (err) {
      if (err instanceof HotpathError) throw err;
      throw new HotpathError(
        'unsupported-version',
        `found Python ${this.version.text} in pid ${this.pid}, but its interpreter state does not decode ` +
          `(${(err as Error).message}); this build may not be supported`,
      );
    }
  }

  private explainReadFailure(err: unknown): Error {
    if (!processExists(this.pid)) return new HotpathError('target-exited', `process ${this.pid} exited`);
    if (isAddressSpaceGone(err) || this.hasExecd()) {
      return new HotpathError(
        'target-exited',
        `process ${this.pid} replaced its program (exec): it is not the Python attached to`,
      );
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  /** Whether the process replaced its program: a reader that reads by pid would read the new one's memory. */
  hasExecd(): boolean {
    try {
      this.targetReader.checkAddressSpace?.();
      return false;
    } catch (err) {
      return isAddressSpaceGone(err);
    }
  }

  /** Where, before 3.11, the OS thread id sits in a pthread_t's thread control block; undefined when not found. */
  pthreadTidOffsetOf(): number | undefined {
    if (this.pthreadTidOffset === null) this.pthreadTidOffset = this.findPthreadTidOffset();
    return this.pthreadTidOffset;
  }

  /**
   * Before 3.11 a thread state only has pthread_t, the address of glibc's (or musl's) thread control
   * block; the OS thread id sits at a libc-specific offset inside it. Find that offset once by looking
   * for the main thread's id (equal to the pid) in the main thread's control block.
   */
  private readPthreadTid(pthread: number): number | undefined {
    const offset = this.pthreadTidOffsetOf();
    if (offset === undefined) return undefined;
    try {
      return this.reader.read(pthread + offset, 4).readInt32LE(0);
    } catch {
      return undefined;
    }
  }

  private findPthreadTidOffset(): number | undefined {
    const tids = new Set(readThreadIds(this.pid));
    const pthreads = this.readThreadStatesWithRetry().map((t) => t.threadId);
    for (const pthread of pthreads) {
      let block: Buffer;
      try {
        block = this.reader.read(pthread, 1024);
      } catch {
        continue;
      }
      for (let offset = 0; offset + 4 <= block.length; offset += 4) {
        if (block.readInt32LE(offset) !== this.pid) continue;
        const consistent = pthreads.every((other) => {
          try {
            return tids.has(this.reader.read(other + offset, 4).readInt32LE(0));
          } catch {
            return false;
          }
        });
        if (consistent) return offset;
      }
    }
    return undefined;
  }
}

/**
 * /proc/PID/mem stays bound to the address space it was opened on: once the process execs (or is gone) every read
 * returns nothing, which the reader reports as ESRCH. A live pid then runs another program; re-attaching (as
 * --subprocesses does) finds out whether that is Python again.
 */
function isAddressSpaceGone(err: unknown): boolean {
  return err instanceof MemoryReadError && err.code === 'ESRCH';
}

/** A read that failed because the target changed while we read it: worth one more try. */
export function isTornRead(err: unknown): boolean {
  return err instanceof InvalidDataError || err instanceof MemoryReadError;
}
