// A live CPython process opened for sampling: finds its runtime, picks the layout for its version,
// and reads every thread's stack on demand. The one entry point the sampler uses.

import { HotpathError, InvalidDataError, MemoryReadError } from '../errors/index.js';
import {
  PageCacheReader,
  ProcMemoryReader,
  processExists,
  readMaps,
  readThreadIds,
  u64,
  type MemoryReader,
} from '../proc/index.js';
import { CodeReader, type CodeReaderOptions } from './code-objects.js';
import { findRuntime, readPyVersion, type PythonVersion, type RuntimeLocation } from './find-runtime.js';
import { readFrameCodeAddress, walkFrames, type PyFrame } from './frames.js';
import type { PythonLayout } from './layout.js';
import type { RuntimeLocationCache } from './runtime-cache.js';
import { selectLayout } from './select-layout.js';
import { readCurrentFrameAddress, readInterpreters, readThreadStates, type ThreadStateInfo } from './threads.js';

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
}

export interface AttachOptions {
  /** Read memory through this reader instead of /proc/PID/mem (tests, recordings). */
  reader?: MemoryReader;
  code?: Partial<CodeReaderOptions>;
  /** Shared by the attaches of one recording, so forked workers are located without parsing libpython again. */
  runtimeCache?: RuntimeLocationCache;
}

/** How many times a stack is re-read when a torn read (the target changed under us) is detected. */
const TORN_READ_RETRIES = 2;
/**
 * A walk normally takes tens of microseconds. One that took longer had hotpath taken off the CPU midway, long
 * enough for the target to leave a function and come back to it: the innermost-frame check cannot see that, so
 * the stack is read again.
 */
const SLOW_WALK_MS = 2;

export class PythonProcess {
  readonly codes: CodeReader;
  /** Every read goes through a per-sample page cache: a sample costs a few page reads, not one per struct. */
  readonly reader: PageCacheReader;
  private pthreadTidOffset: number | undefined | null = null;

  private constructor(
    readonly pid: number,
    private readonly targetReader: MemoryReader,
    readonly location: RuntimeLocation,
    readonly version: PythonVersion,
    readonly layout: PythonLayout,
    codeOptions: Partial<CodeReaderOptions>,
  ) {
    this.reader = new PageCacheReader(targetReader);
    this.codes = new CodeReader(this.reader, layout, codeOptions, location.symbols.get('PyCode_Type'));
  }

  static attach(pid: number, options: AttachOptions = {}): PythonProcess {
    if (!Number.isInteger(pid) || pid <= 0 || !processExists(pid)) {
      throw new HotpathError('no-such-process', `no process with pid ${pid}`);
    }
    const maps = readMaps(pid);
    const location = options.runtimeCache?.find(pid, maps) ?? findRuntime(pid, maps);
    const reader = options.reader ?? new ProcMemoryReader(pid);
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

  /** Every thread's stack, innermost frame first. Threads whose stack could not be read are omitted. */
  readStacks(onDropped?: (reason: string) => void): ThreadStack[] {
    this.reader.clear();
    this.codes.nextTick();
    const stacks: ThreadStack[] = [];
    for (const thread of this.readThreadStatesWithRetry()) {
      const stack = this.readThreadStack(thread);
      if (stack) stacks.push(stack);
      else onDropped?.('torn-read');
    }
    return stacks;
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

  private readThreadStack(thread: ThreadStateInfo): ThreadStack | undefined {
    for (let attempt = 0; attempt <= TORN_READ_RETRIES; attempt++) {
      try {
        const started = performance.now();
        const walk = walkFrames(this.reader, this.layout, this.codes, thread.frameAddress);
        if (
          attempt < TORN_READ_RETRIES &&
          (performance.now() - started > SLOW_WALK_MS || !this.innermostFrameUnchanged(thread, walk.frames))
        ) {
          throw new InvalidDataError('the stack moved on while it was read');
        }
        // The last attempt is kept even if the thread moved on (better sampled than dropped), but never with an
        // innermost function whose code object is no longer there: that could be a wrong name.
        const innermost = walk.frames[0];
        const lastAttempt = attempt === TORN_READ_RETRIES;
        if (lastAttempt && innermost && !this.codes.isCurrent(innermost.code, this.targetReader)) return undefined;
        return {
          interp: thread.interp,
          nativeThreadId: thread.nativeThreadId ?? this.nativeThreadIdOf(thread.threadId),
          threadId: thread.threadId,
          threadStateAddress: thread.address,
          frames: walk.frames,
          truncated: walk.truncated,
        };
      } catch (err) {
        if (!isTornRead(err)) throw err;
        if (!processExists(this.pid) || isAddressSpaceGone(err)) throw this.explainReadFailure(err);
        this.reader.clear();
        // What the torn attempt decoded may have been read mid-change: check every code object afresh.
        this.codes.nextTick();
        thread = this.rereadThreadState(thread) ?? thread;
      }
    }
    return undefined;
  }

  /**
   * The target runs on while its stack is read frame by frame: if the innermost call returned meanwhile, the
   * callers' lines belong to a later moment (a caller on the line of its next call, "calling" the previous
   * callee). Read afresh, past the per-sample page cache, the innermost frame must still run the same code.
   */
  private innermostFrameUnchanged(thread: ThreadStateInfo, frames: readonly PyFrame[]): boolean {
    if (thread.frameAddress === 0) return true;
    const current = readCurrentFrameAddress(this.targetReader, this.layout, thread.address);
    if (current !== thread.frameAddress) return false;
    const innermost = frames[0];
    if (innermost?.frameAddress !== current) return true;
    // Its code object too: a leaf function that returned may have been freed and its memory given to the next
    // one (exec/compile in a loop) between the page the frame came from and the page the code object came from.
    return (
      readFrameCodeAddress(this.targetReader, this.layout, current) === innermost.code.address &&
      this.codes.isCurrent(innermost.code, this.targetReader)
    );
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
    if (isAddressSpaceGone(err)) {
      return new HotpathError(
        'target-exited',
        `process ${this.pid} replaced its program (exec): it is not the Python attached to`,
      );
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  /**
   * Before 3.11 a thread state only has pthread_t, the address of glibc's (or musl's) thread control
   * block; the OS thread id sits at a libc-specific offset inside it. Find that offset once by looking
   * for the main thread's id (equal to the pid) in the main thread's control block.
   */
  private nativeThreadIdOf(pthread: number): number | undefined {
    if (this.pthreadTidOffset === null) this.pthreadTidOffset = this.findPthreadTidOffset();
    if (this.pthreadTidOffset === undefined) return undefined;
    try {
      return this.reader.read(pthread + this.pthreadTidOffset, 4).readInt32LE(0);
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
