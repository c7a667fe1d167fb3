// The sample loop: at each tick, reads every thread's stack of every target process and emits it as a
// RawSample with its pid, thread, idle/GIL flags and (when a labeller is given) its request.
// It never stops the target; failures are counted per reason, never reported as stacks.

import { HotpathError } from '../errors/index.js';
import type { PythonProcess, ThreadStack, ThreadStateInfo } from '../cpython/index.js';
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
   * every thread whose stack is read: idle threads only when they are kept.
   */
  labelRequest?: (python: PythonProcess, stack: ThreadStack) => RequestLabel | undefined;
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
  /** skip: a pid asked for that is not profiled while others are (not Python, or gone). */
  kind: 'attach' | 'detach' | 'skip';
  pid: number;
  /** The command line (attach), why it was left (detach) or why it was skipped (skip). */
  detail: string;
  pythonVersion?: string;
}

export type StopReason = 'duration' | 'aborted' | 'targets-exited';

const REFRESH_TARGETS_EVERY_MS = 500;
const REFRESH_NAMES_EVERY_MS = 1000;
/** A thread without a name yet (started since the last refresh) makes its process's names re-read this soon. */
const REFRESH_UNNAMED_AFTER_MS = 200;
const PROGRESS_EVERY_MS = 250;

export class Sampler {
  readonly stats: SampleStats = { attempted: 0, taken: 0, dropped: {} };
  private readonly clock: Clock;
  private readonly targets: TargetSet;
  private readonly threadNames = new Map<number, Map<number, string>>();
  private readonly namesReadAt = new Map<number, number>();
  private readonly sourceFiles = new SourceFileTally();
  private readonly threadStates = new ThreadStatReader();
  private readonly rawFrames = new RawFrameCache();
  private readonly forkedThreadIds = new ForkedThreadIds();
  private readonly memoryUsage: MemoryUsageReader | undefined;
  private ticks = 0;
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
    const schedule = new SampleSchedule(this.options.rateHz, start);
    let lastRefresh = start;
    let lastNames = -Infinity;
    let lastProgress = start;
    let reason: StopReason = 'aborted';
    while (!signal.aborted) {
      const now = this.clock.now();
      this.elapsedMs = now - start;
      if (this.options.durationMs !== undefined && this.elapsedMs >= this.options.durationMs) {
        reason = 'duration';
        break;
      }
      if (now - lastRefresh >= REFRESH_TARGETS_EVERY_MS) {
        this.targets.refresh();
        this.threadStates.sweep();
        this.forkedThreadIds.sweep();
        this.memoryUsage?.sweep();
        this.rawFrames.sweep();
        lastRefresh = now;
      }
      if (this.targets.processes.size === 0 && !(this.options.subprocesses && this.targets.rootsAlive)) {
        reason = 'targets-exited';
        break;
      }
      if (now - lastNames >= REFRESH_NAMES_EVERY_MS) {
        this.refreshThreadNames();
        lastNames = now;
      }
      this.sampleOnce(this.elapsedMs);
      if (now - lastProgress >= PROGRESS_EVERY_MS) {
        this.options.onProgress?.(this.progress());
        lastProgress = now;
      }
      await this.clock.waitUntil(schedule.next(this.clock.now()));
    }
    this.elapsedMs = this.clock.now() - start;
    if (this.options.onSource) this.sourceFiles.capture().forEach((lines, file) => this.options.onSource!(file, lines));
    this.options.onProgress?.(this.progress());
    return reason;
  }

  close(): void {
    this.targets.close();
    this.threadStates.close();
    this.memoryUsage?.close();
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
      const activity = new Map<number, boolean>();
      try {
        if (this.isQuiet(python, activity)) {
          this.stats.taken++;
        } else {
          const threads = python.readThreads();
          this.stats.taken++;
          this.sampleThreads(python, threads, time, activity);
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
   * A process none of whose threads (as last read) is running has nothing to sample when idle threads are not
   * kept: not one byte of its memory is read. Fills `activity` with what it found.
   */
  private isQuiet(python: PythonProcess, activity: Map<number, boolean>): boolean {
    if (this.options.includeIdle) return false;
    const tids = python.threadIdsBetweenWalks();
    if (!tids) return false;
    for (const stateTid of tids) {
      const tid = this.forkedThreadIds.resolve(python.pid, stateTid);
      if (tid === null) continue;
      const running = this.isRunning(python.pid, tid);
      activity.set(tid, running);
      if (running) return false;
    }
    return true;
  }

  /** Reads the stacks of the threads wanted (not those idle, unless asked) and emits a sample for each. */
  private sampleThreads(
    python: PythonProcess,
    threads: ThreadStateInfo[],
    time: number,
    activity: ReadonlyMap<number, boolean>,
  ): void {
    const gilHolders =
      this.options.gilOnly || this.options.markGil
        ? new Set(threads.map((t) => python.readGilHolder(t.interp)))
        : undefined;
    for (const thread of threads) {
      if (thread.frameAddress === 0) continue;
      const holdsGil = gilHolders?.has(thread.address) ?? false;
      if (this.options.gilOnly && !holdsGil) continue;
      const tid = this.threadIdOf(python, thread);
      if (tid === null) continue;
      const idle = tid !== undefined && !(activity.get(tid) ?? this.isRunning(python.pid, tid));
      if (idle && !this.options.includeIdle) continue;
      const stack = python.readStack(thread);
      if (!stack) this.countDropped('torn-read');
      if (!stack || stack.frames.length === 0) continue;
      const request = this.options.labelRequest?.(python, stack);
      this.sourceFiles.note(python.pid, stack.frames[0]!.file);
      const sample: RawSample = {
        frames: this.rawFrames.framesOf(python.pid, stack.threadId, stack.frames),
        time,
        pid: python.pid,
        tid: tid ?? stack.threadId,
        threadName: this.threadNameOf(python, stack.threadId),
        endpoint: request?.endpoint,
        markedRequest: request?.markedRequest,
        flags: (idle ? SAMPLE_IDLE : 0) | (holdsGil ? SAMPLE_HAS_GIL : 0),
      };
      this.options.onSample(sample);
    }
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

  private isRunning(pid: number, tid: number): boolean {
    return this.threadStates.isActive(pid, tid) ?? true;
  }

  private refreshThreadNames(): void {
    for (const python of this.targets.processes.values()) this.refreshNamesOf(python);
  }

  private threadNameOf(python: PythonProcess, threadId: number): string | undefined {
    const name = this.threadNames.get(python.pid)?.get(threadId);
    if (name !== undefined || !this.options.readThreadNames) return name;
    if (this.clock.now() - (this.namesReadAt.get(python.pid) ?? -Infinity) < REFRESH_UNNAMED_AFTER_MS) return undefined;
    this.refreshNamesOf(python);
    return this.threadNames.get(python.pid)?.get(threadId);
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
