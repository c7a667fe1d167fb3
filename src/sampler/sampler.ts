// The sample loop: at each tick, reads every thread's stack of every target process and emits it as a
// RawSample with its pid, thread, idle/GIL flags and (when a labeller is given) its request.
// It never stops the target; failures are counted per reason, never reported as stacks.

import { HotpathError } from '../errors/index.js';
import type { CodeInfo, PyFrame, PythonProcess, ThreadStack, ThreadStateInfo } from '../cpython/index.js';
import {
  NATIVE_FLAG_GIL,
  NATIVE_FLAG_IDLE,
  NativeLoop,
  type NativeDrain,
  type NativeStackRecord,
  type SampledSlot,
  type WatchedSlot,
} from './native-loop.js';
import { SAMPLE_HAS_GIL, SAMPLE_IDLE, type MemoryUsage, type RawSample, type SampleStats } from './sample.js';
import { MemoryUsageReader, ThreadStatReader, readCmdline } from '../proc/index.js';
import { SampleSchedule, systemClock, type Clock } from './clock.js';
import { RawFrameCache } from './raw-frame-cache.js';
import { ForkedThreadIds } from './forked-thread-ids.js';
import { SourceFileTally } from './source-capture.js';
import { TargetSet } from './targets.js';
import type { RequestLabel } from './request-context.js';

export interface SamplerOptions {
  rateHz: number;
  /** Stop after this long; undefined = until aborted or every target has exited. */
  durationMs?: number;
  /** Keep samples of threads that are not running on a CPU. */
  includeIdle: boolean;
  /** Keep only samples of the thread holding the GIL. */
  gilOnly: boolean;
  /** Flag samples of the GIL holder even when keeping all (costs one read per process per tick). */
  markGil?: boolean;
  subprocesses: boolean;
  clock?: Clock;
  /** Called about four times a second while sampling. */
  onProgress?: (progress: SamplerProgress) => void;
  /**
   * Labels a thread's current request (e.g. "GET /users/{id}"), for per-endpoint views. It is asked about
   * every thread whose stack is read (idle threads only when they are kept), after labelFromCopies, where given,
   * found the copies taken with the stack do not suffice.
   */
  labelRequest?: (
    python: PythonProcess,
    stack: ThreadStack,
    sampled?: readonly SampledSlot[],
  ) => RequestLabel | undefined;
  /**
   * The label of a stack from the slots the native loop copied with it alone, when they suffice (null: no request):
   * it holds at any time after the stack was taken; a label with routePending holds too, but a read as requests run
   * (labelRequest) would tell more. Undefined when labelRequest must see the stack as it is taken.
   */
  labelFromCopies?: (
    python: PythonProcess,
    stack: ThreadStack,
    sampled: readonly SampledSlot[],
  ) => RequestLabel | null | undefined;
  /**
   * Whether `stack` may belong to a request, so that it must be labelled from copies (labelFromCopies) or as it is
   * taken (labelRequest). Hotpath's native loop samples on its own thread (stacks decoded a few times a second,
   * cheapest) while every such stack is labelled from copies; once one is not (or lacks its route), tick by tick on
   * the JavaScript clock, each tick's stacks labelled as soon as walked, until copies have sufficed for a while
   * (COPIES_SUFFICED). Without this, JavaScript walks every stack while labelRequest is set.
   */
  mayHoldRequest?: (python: PythonProcess, stack: ThreadStack) => boolean;
  /**
   * The local slots of `code` that may hold a request: the native loop copies them with every stack it walks, and
   * labelRequest gets those copies (`sampled`), so a thread that moved on to another request between the walk and
   * the labelling is not given the other request's label.
   */
  watchedSlots?: (python: PythonProcess, code: CodeInfo) => readonly WatchedSlot[];
  /** Python thread names by threading ident, refreshed now and then. */
  readThreadNames?: (python: PythonProcess) => Map<number, string>;
  /** Receives every sample as it is taken (the profile builder, live views). */
  onSample: (sample: RawSample) => void;
  /** Receives, at the end, the source lines of the files where most samples were (for line-level views). */
  onSource?: (file: string, lines: readonly string[]) => void;
  /** Called when a process is followed or left, e.g. to log worker churn. */
  onProcessEvent?: (event: ProcessEvent) => void;
  /**
   * Receives each process's resident set size at every tick, right after that tick's samples of the process
   * (one pread of /proc/PID/statm per process per tick). Without it, nothing is read.
   */
  onMemoryUsage?: (usage: MemoryUsage) => void;
}

export interface SamplerProgress {
  elapsedMs: number;
  samples: number;
  ticks: number;
  processes: number;
  dropped: number;
}

export interface ProcessEvent {
  /**
   * skip: a pid asked for that is not profiled while others are (not Python, or gone), or a descendant running Python
   * that could not be attached in a few tries.
   */
  kind: 'attach' | 'detach' | 'skip';
  pid: number;
  /** The command line (attach), why it was left (detach) or why it was skipped (skip). */
  detail: string;
  pythonVersion?: string;
}

export type StopReason = 'duration' | 'aborted' | 'targets-exited';

/** What the ways of driving a recording's native loop share. */
interface NativeSession {
  loop: NativeLoop;
  /** The processes the loop samples. */
  followed: Set<number>;
  /** Where the loop's time 0 falls on the recording's clock. */
  offset: number;
  /** The recording's counts before the loop started. */
  counted: { attempted: number; taken: number };
  /** Stacks are decoded right after each tick, so requests can be labelled from them (runNativeTicks). */
  labelNow: boolean;
  /** Stacks that may hold a request labelled from copies alone since the last that was not. */
  labelledFromCopies: number;
  /** How many of those make ticks hand back to the loop's thread (COPIES_SUFFICED); 0 before the first ticks. */
  copiesSuffice: number;
}

/**
 * How a part of a native session ends: a recording's end, a hand-over to ticks on the JavaScript clock or back to the
 * loop's thread, or to JavaScript.
 */
type NativeOutcome = StopReason | 'ticks' | 'thread' | undefined;

const REFRESH_TARGETS_EVERY_MS = 500;
const REFRESH_NAMES_EVERY_MS = 1000;
/** A thread without a name yet (started since the last refresh) makes its process's names re-read this soon. */
const REFRESH_UNNAMED_AFTER_MS = 200;
/** Threads remembered as having no name, per process, at most (forgotten all at once beyond). */
const MAX_UNNAMED_THREADS = 10_000;
const PROGRESS_EVERY_MS = 250;
/**
 * How often the native loop's samples are taken in: about every 50 samples of a thread, within these bounds (each
 * turn has a fixed cost; live views show samples this late). Ctrl-C and the duration's end do not wait for it.
 */
const DRAIN_SAMPLES = 50;
const MIN_DRAIN_MS = 100;
const MAX_DRAIN_MS = 500;
/**
 * Stacks that may hold a request labelled from copies in a row after which ticks hand back to the loop's thread (at
 * 100 Hz, two busy workers take a second), first; each later hand-over to ticks doubles it, up to the maximum, so
 * that an app whose requests keep needing reads (new paths, code objects seen for the first time) settles in ticks.
 */
const COPIES_SUFFICED = 200;
const MAX_COPIES_SUFFICED = 100_000;

/**
 * Stacks that may hold a request labelled from copies in a row after which one that is not is taken for a rare miss
 * (say an environ whose request ended between the walk and its copy, where its dict cannot tell): it is dropped on the
 * loop's thread rather than moving to ticks, which would cost every later tick until copies sufficed again.
 */
const RARE_MISS_AFTER = 1000;

/** A stack that may belong to a request and must be labelled as it is taken (see SamplerOptions.mayHoldRequest). */
const NEEDS_LABEL_NOW = Symbol('needs a label now');
/**
 * One taken on the loop's thread that cannot be labelled but is dropped without moving to ticks: it ran a code object
 * the loop was not yet told the request slots of (watchedSlots; its code's next samples will have copies), or it is
 * a rare miss (RARE_MISS_AFTER).
 */
const DROP_ON_THREAD = Symbol('dropped on the loop thread');

export class Sampler {
  readonly stats: SampleStats = { attempted: 0, taken: 0, dropped: {} };
  private readonly clock: Clock;
  private readonly targets: TargetSet;
  private readonly threadNames = new Map<number, Map<number, string>>();
  private readonly namesReadAt = new Map<number, number>();
  /** By pid: threads that had no name even after a refresh made for them. */
  private readonly unnamedThreads = new Map<number, Set<number>>();
  private readonly sourceFiles = new SourceFileTally();
  private readonly threadStates = new ThreadStatReader();
  private readonly rawFrames = new RawFrameCache();
  private readonly forkedThreadIds = new ForkedThreadIds();
  private readonly memoryUsage: MemoryUsageReader | undefined;
  /**
   * Code objects whose watched slots (SamplerOptions.watchedSlots) the native loop was told about, with the drain
   * (drains) in which it was.
   */
  private readonly watchedCodes = new WeakMap<CodeInfo, number>();
  /** Stacks whose code objects are all in watchedCodes, by ThreadStack.codesKey. */
  private readonly watchedStacks = new WeakSet<readonly PyFrame[]>();
  /** Drains of the native loop so far (one per tick on JavaScript's clock). */
  private drains = 0;
  private ticks = 0;
  /** Whether hotpath's native loop took (some of) the samples: tests and the benchmark tell the paths apart. */
  usedNativeLoop = false;
  /** System calls of the native loop that read target memory. */
  nativeMemoryReads = 0;
  private nativeStateReads = 0;
  private nativeRunTimeReads = 0;
  /** Stacks the loop took on its own thread that were labelled from its copies (see mayHoldRequest). */
  labelledOnLoopThread = 0;
  /** Ends the native loop's wait for its next drain early (a new code object is to be decoded while it exists). */
  private drainNow: (() => void) | undefined;
  startWallTime = 0;
  elapsedMs = 0;

  constructor(
    pids: readonly number[],
    private readonly options: SamplerOptions,
  ) {
    this.clock = options.clock ?? systemClock();
    this.memoryUsage = options.onMemoryUsage ? new MemoryUsageReader() : undefined;
    this.targets = new TargetSet(pids, {
      subprocesses: options.subprocesses,
      waitForLaunchers: true,
      onAttach: (python) =>
        options.onProcessEvent?.({
          kind: 'attach',
          pid: python.pid,
          detail: readCmdline(python.pid).join(' '),
          pythonVersion: python.version.text,
        }),
      onDetach: (pid, reason) => options.onProcessEvent?.({ kind: 'detach', pid, detail: reason }),
      onSkip: (pid, reason) => options.onProcessEvent?.({ kind: 'skip', pid, detail: reason }),
    });
  }

  /** Attaches to the targets; throws the typed error of the first one that cannot be profiled. */
  attach(): PythonProcess[] {
    this.targets.attachRoots();
    return [...this.targets.processes.values()];
  }

  /** Samples until the duration passes, `signal` aborts, or no target is left; says which. */
  async run(signal: AbortSignal): Promise<StopReason> {
    const start = this.clock.now();
    this.startWallTime = this.clock.wallNow();
    const native = this.nativeLoop();
    const reason =
      (native && (await this.runNativeSession(native, signal, start))) || (await this.runInJavaScript(signal, start));
    this.elapsedMs = this.clock.now() - start;
    if (this.options.onSource) this.sourceFiles.capture().forEach((lines, file) => this.options.onSource!(file, lines));
    this.options.onProgress?.(this.progress());
    return reason;
  }

  /**
   * The native loop, where it can take this recording: the addon is built, time is the system's, every process fits,
   * and not every stack must be labelled as it is taken (see mayHoldRequest).
   */
  private nativeLoop(): NativeLoop | undefined {
    const o = this.options;
    if (o.clock || (o.labelRequest && !o.mayHoldRequest)) return undefined;
    if (![...this.targets.processes.values()].every((python) => NativeLoop.canSample(python))) return undefined;
    const gil = o.gilOnly ? 'only' : o.markGil ? 'flag' : 'ignore';
    const onNewCode = (): void => this.drainNow?.();
    return NativeLoop.create({
      rateHz: o.rateHz,
      includeIdle: o.includeIdle,
      gil,
      durationMs: o.durationMs,
      onNewCode,
    });
  }

  /** Samples with the native loop; undefined when JavaScript must go on (see runNativeThread). */
  private async runNativeSession(
    loop: NativeLoop,
    signal: AbortSignal,
    start: number,
  ): Promise<StopReason | undefined> {
    this.usedNativeLoop = true;
    const session: NativeSession = {
      loop,
      followed: new Set(this.targets.processes.keys()),
      offset: this.clock.now() - start,
      counted: { attempted: this.stats.attempted, taken: this.stats.taken },
      labelNow: false,
      labelledFromCopies: 0,
      copiesSuffice: 0,
    };
    for (const python of this.targets.processes.values()) loop.add(python);
    try {
      let outcome = this.options.onMemoryUsage ? 'ticks' : await this.runNativeThread(session, signal, start);
      while (outcome === 'ticks' || outcome === 'thread') {
        session.labelNow = outcome === 'ticks';
        if (session.labelNow) {
          session.labelledFromCopies = 0;
          session.copiesSuffice = Math.min(session.copiesSuffice * 2 || COPIES_SUFFICED, MAX_COPIES_SUFFICED);
        }
        outcome = session.labelNow
          ? await this.runNativeTicks(session, signal, start)
          : await this.runNativeThread(session, signal, start);
      }
      return outcome;
    } finally {
      loop.stop();
    }
  }

  /**
   * The native loop samples on its own thread; its stacks are taken in every few hundred ms (drainEveryMs).
   * 'ticks' once a stack may belong to a request (labels are read as samples are taken); undefined when JavaScript
   * must sample from then on (a process the loop cannot sample was followed).
   */
  private async runNativeThread(session: NativeSession, signal: AbortSignal, start: number): Promise<NativeOutcome> {
    const { loop, followed } = session;
    const durationMs = this.options.durationMs;
    const drainMs = this.drainEveryMs();
    loop.start();
    let lastRefresh = start;
    const chores = this.periodicChores(start);
    while (!signal.aborted) {
      await this.waitForDrain(Math.max(0, Math.min(drainMs, (durationMs ?? Infinity) - this.elapsedMs)), signal);
      const now = this.clock.now();
      this.elapsedMs = now - start;
      const ended = durationMs !== undefined && this.elapsedMs >= durationMs;
      if (ended || signal.aborted) loop.stop();
      chores.names(now);
      const mayHoldRequest = this.takeNativeSamples(loop.drain(), session, durationMs);
      if (ended) return 'duration';
      if (mayHoldRequest) {
        this.stopNativeThread(session);
        return 'ticks';
      }
      const refreshDue = now - lastRefresh >= REFRESH_TARGETS_EVERY_MS;
      if (refreshDue) lastRefresh = now;
      if (refreshDue && !this.followTargets(loop, followed)) {
        this.stopNativeThread(session);
        return undefined;
      }
      if (this.noTargetLeft()) {
        this.stopNativeThread(session);
        return 'targets-exited';
      }
      chores.progress(now);
    }
    this.stopNativeThread(session);
    return 'aborted';
  }

  /** Every target exited, and with --subprocesses no root is left to start new ones. */
  private noTargetLeft(): boolean {
    return this.targets.processes.size === 0 && !(this.options.subprocesses && this.targets.rootsAlive);
  }

  /** Stops the loop's thread and emits what it sampled since the last drain. */
  private stopNativeThread(session: NativeSession): void {
    session.loop.stop();
    this.takeNativeSamples(session.loop.drain(), session, this.options.durationMs);
  }

  /**
   * Tick by tick on the JavaScript clock, each tick's stacks walked by the native loop on this thread and decoded at
   * once: with --memory (its series has a reading per tick), and when requests are labelled (read as samples are
   * taken). 'thread' once copies have sufficed to label requests for a while (see mayHoldRequest); undefined when
   * JavaScript must sample from then on (a process the loop cannot sample was followed).
   */
  private async runNativeTicks(session: NativeSession, signal: AbortSignal, start: number): Promise<NativeOutcome> {
    const { loop, followed, offset } = session;
    const memory = this.memoryUsage;
    const handBack = (): boolean => !memory && session.labelledFromCopies >= session.copiesSuffice;
    const reason = await this.runOnClock(signal, start, {
      refresh: () => {
        memory?.sweep();
        return this.followTargets(loop, followed);
      },
      tick: () => {
        const time = offset + loop.tickNow();
        const afterProcess = memory && ((pid: number): void => this.emitMemoryUsage(memory, pid, time));
        this.takeNativeSamples(loop.drain(), session, undefined, afterProcess);
        return !handBack();
      },
    });
    return reason ?? (handBack() ? 'thread' : undefined);
  }

  /** Resolves after `ms`, at once when `signal` aborts, or when drainNow is called. */
  private waitForDrain(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.drainNow = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.drainNow = done;
    });
  }

  /**
   * About every DRAIN_SAMPLES samples. A child that exits before its stacks are decoded would take with it the names of
   * functions not decoded yet, but a new code object makes the loop ask for a drain at once (onNewCode).
   */
  private drainEveryMs(): number {
    return Math.min(MAX_DRAIN_MS, Math.max(MIN_DRAIN_MS, (DRAIN_SAMPLES * 1000) / this.options.rateHz));
  }

  /**
   * Gives the loop the processes followed since the last call and takes back those that left; false when one cannot
   * be sampled by the loop.
   */
  private followTargets(loop: NativeLoop, followed: Set<number>): boolean {
    // The loop itself reports processes that exit or exec; only new descendants are looked for here.
    this.targets.followDescendants();
    this.forkedThreadIds.sweep();
    this.rawFrames.sweep();
    for (const pid of followed) {
      if (this.targets.processes.has(pid)) continue;
      loop.remove(pid);
      followed.delete(pid);
    }
    for (const [pid, python] of this.targets.processes) {
      if (followed.has(pid)) continue;
      if (!NativeLoop.canSample(python)) return false;
      loop.add(python);
      followed.add(pid);
    }
    return true;
  }

  /**
   * Emits the samples of a drain, in the order taken (none at or past the duration); true when one may belong to a
   * request but was taken too long ago to be labelled: those stacks are dropped, and the caller hands over to ticks.
   * `afterProcess` is called for every process once its samples of the drain are in (a tick's: the native loop
   * samples processes one after another).
   */
  private takeNativeSamples(
    drained: NativeDrain,
    session: NativeSession,
    durationMs: number | undefined,
    afterProcess?: (pid: number) => void,
  ): boolean {
    const { offset, counted } = session;
    this.drains++;
    this.ticks = drained.ticks;
    this.nativeMemoryReads = drained.memoryReads;
    this.nativeStateReads = drained.stateReads;
    this.nativeRunTimeReads = drained.runTimeReads;
    this.stats.attempted = counted.attempted + drained.attempted;
    this.stats.taken = counted.taken + drained.taken;
    for (const python of this.targets.processes.values()) python.beginWalkedStacks();
    let mayHoldRequest = false;
    const stacks = drained.stacks;
    for (let i = 0; i < stacks.length; i++) {
      const record = stacks[i]!;
      if (!this.takeNativeStack(record, offset + record.time, durationMs, session)) mayHoldRequest = true;
      if (record.pid !== stacks[i + 1]?.pid) afterProcess?.(record.pid);
    }
    if (afterProcess) {
      const sampled = new Set(stacks.map((record) => record.pid));
      for (const pid of this.targets.processes.keys()) if (!sampled.has(pid)) afterProcess(pid);
    }
    // After the stacks: a process that exited is left once its last samples are in.
    for (const drop of drained.drops) {
      this.countDropped(drop.reason);
      if (drop.reason === 'target-exited') this.targets.drop(drop.pid, 'exited');
    }
    return mayHoldRequest;
  }

  /**
   * Emits one stack of a drain, labelled (see labelOf); false when it may belong to a request and was dropped for want
   * of a label, or was labelled without its route (RequestLabel.routePending): either way, reads are wanted.
   */
  private takeNativeStack(
    record: NativeStackRecord,
    time: number,
    durationMs: number | undefined,
    session: NativeSession,
  ): boolean {
    const python = this.targets.processes.get(record.pid);
    if (!python || (durationMs !== undefined && time >= durationMs)) return true;
    const stack = python.stackFromWalk(record.walk);
    if (!stack) this.countDropped('torn-read');
    if (!stack || stack.frames.length === 0) return true;
    const request = this.options.labelRequest && this.labelOf(python, stack, record, session);
    this.watchRequestSlots(session.loop, python, stack);
    if (request === NEEDS_LABEL_NOW || request === DROP_ON_THREAD) {
      this.countDropped('before-request-labels');
      return request === DROP_ON_THREAD;
    }
    const flags =
      (record.flags & NATIVE_FLAG_IDLE ? SAMPLE_IDLE : 0) | (record.flags & NATIVE_FLAG_GIL ? SAMPLE_HAS_GIL : 0);
    this.emitStack(python, stack, record.tid || stack.threadId, time, flags, request);
    // Labelled by its path alone on the loop's thread: ticks read requests as they run, and so find its route.
    return !(request?.routePending && !session.labelNow);
  }

  /**
   * The request of a stack the loop took: from the copies taken with it where they suffice, otherwise read now if the
   * session labels as samples are taken (what the copies tell where the read cannot), or the copies' label without
   * its route, or NEEDS_LABEL_NOW (DROP_ON_THREAD for a stack that had no copies to label from, or a rare miss).
   */
  private labelOf(
    python: PythonProcess,
    stack: ThreadStack,
    record: NativeStackRecord,
    session: NativeSession,
  ): RequestLabel | undefined | typeof NEEDS_LABEL_NOW | typeof DROP_ON_THREAD {
    const { labelRequest, labelFromCopies, mayHoldRequest } = this.options;
    const holds = mayHoldRequest!(python, stack);
    const copied = holds ? labelFromCopies?.(python, stack, record.slots) : undefined;
    if (copied !== undefined && !copied?.routePending) {
      session.labelledFromCopies++;
      if (!session.labelNow) this.labelledOnLoopThread++;
      return copied ?? undefined;
    }
    const rareMiss = holds && session.labelledFromCopies >= RARE_MISS_AFTER;
    if (holds) session.labelledFromCopies = 0;
    if (session.labelNow) return labelRequest!(python, stack, record.slots) ?? copied;
    if (!holds || copied) return copied;
    return rareMiss || (this.options.watchedSlots && this.hasNewCode(stack)) ? DROP_ON_THREAD : NEEDS_LABEL_NOW;
  }

  /**
   * Whether a frame of `stack` runs a code object the loop was told about only in this drain or the one before (its
   * thread walks on while a drain is decoded), or not yet.
   */
  private hasNewCode(stack: ThreadStack): boolean {
    return stack.frames.some(({ code }) => (this.watchedCodes.get(code) ?? this.drains) >= this.drains - 1);
  }

  /** Tells the loop which slots of the stack's code objects to copy with the stacks it walks from now on. */
  private watchRequestSlots(loop: NativeLoop, python: PythonProcess, stack: ThreadStack): void {
    const watchedSlots = this.options.watchedSlots;
    if (!watchedSlots || this.watchedStacks.has(stack.codesKey)) return;
    this.watchedStacks.add(stack.codesKey);
    for (const { code } of stack.frames) {
      if (this.watchedCodes.has(code)) continue;
      this.watchedCodes.set(code, this.drains);
      const slots = watchedSlots(python, code);
      if (slots.length > 0) loop.watch(python.pid, code.address, slots);
    }
  }

  /** Samples from JavaScript, one tick at a time. */
  private async runInJavaScript(signal: AbortSignal, start: number): Promise<StopReason> {
    const reason = await this.runOnClock(signal, start, {
      refresh: () => {
        this.targets.refresh();
        this.threadStates.sweep();
        this.forkedThreadIds.sweep();
        this.memoryUsage?.sweep();
        this.rawFrames.sweep();
        return true;
      },
      tick: (elapsedMs) => {
        this.sampleOnce(elapsedMs);
        return true;
      },
    });
    return reason ?? 'aborted';
  }

  /**
   * Calls `ticker.tick` at the rate asked for, on this sampler's clock, until the duration passes, `signal` aborts or
   * no target is left; `ticker.refresh` every REFRESH_TARGETS_EVERY_MS. Undefined as soon as either returns false.
   */
  private async runOnClock(
    signal: AbortSignal,
    start: number,
    ticker: { refresh(): boolean; tick(elapsedMs: number): boolean },
  ): Promise<StopReason | undefined> {
    const schedule = new SampleSchedule(this.options.rateHz, start);
    let lastRefresh = this.clock.now();
    const chores = this.periodicChores(lastRefresh);
    while (!signal.aborted) {
      const now = this.clock.now();
      this.elapsedMs = now - start;
      if (this.options.durationMs !== undefined && this.elapsedMs >= this.options.durationMs) return 'duration';
      if (now - lastRefresh >= REFRESH_TARGETS_EVERY_MS) {
        if (!ticker.refresh()) return undefined;
        lastRefresh = now;
      }
      if (this.noTargetLeft()) {
        return 'targets-exited';
      }
      chores.names(now);
      if (!ticker.tick(this.elapsedMs)) return undefined;
      chores.progress(now);
      await this.clock.waitUntil(schedule.next(this.clock.now()));
    }
    return 'aborted';
  }

  /** What every sampling loop does now and then: thread names at once and every second, progress as it goes. */
  private periodicChores(start: number): { names(now: number): void; progress(now: number): void } {
    return {
      names: every(REFRESH_NAMES_EVERY_MS, -Infinity, () => this.refreshThreadNames()),
      progress: every(PROGRESS_EVERY_MS, start, () => this.options.onProgress?.(this.progress())),
    };
  }

  close(): void {
    this.targets.close();
    this.threadStates.close();
    this.memoryUsage?.close();
  }

  /** Reads of a thread's /proc stat (its scheduler state) so far, by the native loop and by JavaScript. */
  get stateReads(): number {
    return this.nativeStateReads + this.threadStates.stateReads;
  }

  /** Reads of a thread's /proc schedstat (its CPU time) so far, by the native loop and by JavaScript. */
  get runTimeReads(): number {
    return this.nativeRunTimeReads + this.threadStates.runTimeReads;
  }

  progress(): SamplerProgress {
    const stats = this.stats;
    return {
      elapsedMs: this.elapsedMs,
      samples: stats.taken,
      ticks: this.ticks,
      processes: this.targets.processes.size,
      dropped: Object.values(stats.dropped).reduce((a, b) => a + b, 0),
    };
  }

  private sampleOnce(time: number): void {
    this.ticks++;
    for (const python of [...this.targets.processes.values()]) {
      this.stats.attempted++;
      // Activity of this tick by thread id: read once, whether the process turns out quiet or is sampled.
      const ranLately = new Map<number, boolean | undefined>();
      try {
        if (this.isQuiet(python, ranLately)) {
          this.stats.taken++;
        } else {
          const threads = python.readThreads();
          this.stats.taken++;
          this.sampleThreads(python, threads, time, ranLately);
        }
        if (this.memoryUsage) this.emitMemoryUsage(this.memoryUsage, python.pid, time);
      } catch (err) {
        // Memory of a program the process exec'd into may decode into anything before the reader notices.
        const reason = err instanceof HotpathError ? err.kind : python.hasExecd() ? 'target-exited' : 'read-error';
        this.countDropped(reason);
        if (reason === 'target-exited') this.targets.drop(python.pid, 'exited');
      }
    }
  }

  /**
   * A process none of whose threads (as last read) has had CPU time lately has nothing to sample when idle threads
   * are not kept: not one byte of its memory is read. Fills `ranLately` with what it found.
   */
  private isQuiet(python: PythonProcess, ranLately: Map<number, boolean | undefined>): boolean {
    if (this.options.includeIdle) return false;
    const tids = python.threadIdsBetweenWalks();
    if (!tids) return false;
    for (const stateTid of tids) {
      const tid = this.forkedThreadIds.resolve(python.pid, stateTid);
      if (tid === null) continue;
      const ran = this.threadStates.ranLately(python.pid, tid);
      ranLately.set(tid, ran);
      if (ran !== false) return false;
    }
    return true;
  }

  /** Reads the stacks of the threads wanted (not those idle, unless asked) and emits a sample for each. */
  private sampleThreads(
    python: PythonProcess,
    threads: ThreadStateInfo[],
    time: number,
    ranLately: ReadonlyMap<number, boolean | undefined>,
  ): void {
    const interps = new Set(threads.map((t) => t.interp));
    const gilHolders = new Set([...interps].map((interp) => python.readGilHolder(interp)));
    const marksGil = this.options.gilOnly || this.options.markGil === true;
    for (const thread of threads) {
      if (thread.frameAddress === 0) continue;
      const holdsGil = gilHolders.has(thread.address);
      if (this.options.gilOnly && !holdsGil) continue;
      const tid = this.threadIdOf(python, thread);
      if (tid === null) continue;
      const idle = tid !== undefined && !this.isRunning(python.pid, tid, holdsGil, ranLately);
      if (idle && !this.options.includeIdle) continue;
      const stack = python.readStack(thread);
      if (!stack) this.countDropped('torn-read');
      if (!stack || stack.frames.length === 0) continue;
      const request = this.options.labelRequest?.(python, stack);
      const flags = (idle ? SAMPLE_IDLE : 0) | (holdsGil && marksGil ? SAMPLE_HAS_GIL : 0);
      this.emitStack(python, stack, tid ?? stack.threadId, time, flags, request);
    }
  }

  private emitStack(
    python: PythonProcess,
    stack: ThreadStack,
    tid: number,
    time: number,
    flags: number,
    request: RequestLabel | undefined,
  ): void {
    this.sourceFiles.note(python.pid, stack.frames[0]!.file);
    const sample: RawSample = {
      frames: this.rawFrames.framesOf(python.pid, stack.threadId, stack.frames),
      time,
      pid: python.pid,
      tid,
      threadName: this.threadNameOf(python, stack.threadId),
      endpoint: request?.endpoint,
      markedRequest: request?.markedRequest,
      flags,
    };
    this.options.onSample(sample);
  }

  private emitMemoryUsage(reader: MemoryUsageReader, pid: number, time: number): void {
    const residentBytes = reader.readResidentBytes(pid);
    if (residentBytes !== undefined) this.options.onMemoryUsage!({ pid, time, residentBytes });
  }

  /** The OS thread running a thread state; null for a state a fork left behind with no thread (uWSGI workers). */
  private threadIdOf(python: PythonProcess, thread: ThreadStateInfo): number | undefined | null {
    const stateTid = python.nativeThreadId(thread);
    return stateTid === undefined ? undefined : this.forkedThreadIds.resolve(python.pid, stateTid);
  }

  /** ThreadStatReader.isActive, from what isQuiet learnt of the thread this sample where it can; true when unknown. */
  private isRunning(
    pid: number,
    tid: number,
    holdsGil: boolean,
    ranLately: ReadonlyMap<number, boolean | undefined>,
  ): boolean {
    const ran = ranLately.has(tid) ? ranLately.get(tid) : this.threadStates.ranLately(pid, tid);
    if (ran === false) return false;
    return holdsGil || (this.threadStates.isRunnable(pid, tid) ?? true);
  }

  private refreshThreadNames(): void {
    for (const python of this.targets.processes.values()) this.refreshNamesOf(python);
  }

  /**
   * A thread's name; a thread not named yet makes its process's names be read again, once: one that has none even
   * then (a program that never imports threading) waits for the periodic refresh.
   */
  private threadNameOf(python: PythonProcess, threadId: number): string | undefined {
    const name = this.threadNames.get(python.pid)?.get(threadId);
    if (name !== undefined || !this.options.readThreadNames) return name;
    let unnamed = this.unnamedThreads.get(python.pid);
    if (unnamed?.has(threadId)) return undefined;
    if (this.clock.now() - (this.namesReadAt.get(python.pid) ?? -Infinity) < REFRESH_UNNAMED_AFTER_MS) return undefined;
    this.refreshNamesOf(python);
    const named = this.threadNames.get(python.pid)?.get(threadId);
    if (named !== undefined) return named;
    if (!unnamed || unnamed.size >= MAX_UNNAMED_THREADS) this.unnamedThreads.set(python.pid, (unnamed = new Set()));
    unnamed.add(threadId);
    return undefined;
  }

  private refreshNamesOf(python: PythonProcess): void {
    if (!this.options.readThreadNames) return;
    this.namesReadAt.set(python.pid, this.clock.now());
    try {
      this.threadNames.set(python.pid, this.options.readThreadNames(python));
    } catch {
      // names are a nicety: keep the previous ones
    }
  }

  private countDropped(reason: string): void {
    const dropped = this.stats.dropped;
    dropped[reason] = (dropped[reason] ?? 0) + 1;
  }
}

/** Calls `action` whenever at least `periodMs` have passed since it last did (or since `since`). */
function every(periodMs: number, since: number, action: () => void): (now: number) => void {
  let last = since;
  return (now) => {
    if (now - last < periodMs) return;
    last = now;
    action();
  };
}
