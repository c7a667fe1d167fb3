// Whether threads are using a CPU, at one or two preads per thread per sample: each thread's
// /proc/PID/task/TID/schedstat (nanoseconds on a CPU) and stat (scheduler state) stay open between
// samples (opening, reading and closing them every time cost more than the rest of a sample).
// Files of threads that were not asked about since the previous sweep are closed by sweep().

import fs from 'node:fs';

/** Enough of the stat line to hold "TID (comm) S": comm is at most 15 bytes (TASK_COMM_LEN). */
const HEAD_BYTES = 128;
const CLOSE_PAREN = 0x29;
/** A runnable thread whose CPU time has not grown for this long is waiting for a CPU, not using one. */
export const STARVED_AFTER_MS = 25;
/** A thread seen gaining CPU time this recently ran lately whatever schedstat says now: its file is not read. */
const RAN_RECHECK_MS = STARVED_AFTER_MS / 2;

interface OpenStat {
  fd: number;
  /** /proc/PID/task/TID/schedstat, or -1 where the kernel has none. */
  schedFd: number;
  /** CPU time the thread had used when last asked, in ns; -1 before the first time. */
  lastRunNs: number;
  /** When (performance.now() ms) its CPU time was last seen to grow. */
  lastRanAt: number;
  generation: number;
}

export class ThreadStatReader {
  private readonly files = new Map<number, Map<number, OpenStat>>();
  private readonly head = Buffer.allocUnsafe(HEAD_BYTES);
  private generation = 0;
  /** Reads of a stat file (the dearer one) so far, for tests. */
  stateReads = 0;
  /** Reads of a schedstat file so far, for tests. */
  runTimeReads = 0;

  /**
   * True when the thread is runnable now and has had CPU time lately. A thread kept waiting for a CPU
   * (an overloaded machine) is not active: its stack has not moved, and counting it would repeat one
   * stack for as long as the scheduler kept it off the CPU. The thread holding the GIL (`holdsGil`) runs
   * Python unless starved, so its state is not read: stat is the dearer file. Undefined when the thread
   * cannot be read (it ended).
   */
  isActive(pid: number, tid: number, now = performance.now(), holdsGil = false): boolean | undefined {
    const ran = this.ranLately(pid, tid, now);
    return ran && (holdsGil || this.isRunnable(pid, tid));
  }

  /**
   * Whether the thread has had CPU time within STARVED_AFTER_MS, from schedstat, and at first sight whether it runs
   * now; undefined when it cannot be read. The kernel updates a running thread's CPU time at scheduler ticks (every
   * 1–10 ms), so only a thread whose time stood still for longer than that counts as starved. A busy thread's
   * schedstat is read every RAN_RECHECK_MS, not every sample; one that stops is found starved that much later.
   */
  ranLately(pid: number, tid: number, now = performance.now()): boolean | undefined {
    const file = this.openFiles(pid, tid);
    if (!file) return undefined;
    if (file.lastRunNs >= 0 && now - file.lastRanAt <= RAN_RECHECK_MS) return true;
    this.runTimeReads++;
    const runNs = this.readRunTime(file);
    const firstSight = file.lastRunNs < 0 && runNs >= 0;
    if (firstSight ? this.isRunnable(pid, tid) !== false : runNs !== file.lastRunNs) file.lastRanAt = now;
    file.lastRunNs = runNs;
    return runNs < 0 || now - file.lastRanAt <= STARVED_AFTER_MS;
  }

  /** Whether stat says the thread is runnable (state R); undefined when it cannot be read. */
  isRunnable(pid: number, tid: number): boolean | undefined {
    const file = this.openFiles(pid, tid);
    const state = file && this.readStateOf(pid, tid, file);
    return state === undefined ? undefined : state === 'R';
  }

  private openFiles(pid: number, tid: number): OpenStat | undefined {
    let threads = this.files.get(pid);
    if (!threads) {
      threads = new Map();
      this.files.set(pid, threads);
    }
    let file = threads.get(tid);
    if (!file) {
      try {
        file = {
          fd: fs.openSync(`/proc/${pid}/task/${tid}/stat`, 'r'),
          schedFd: openOptional(`/proc/${pid}/task/${tid}/schedstat`),
          lastRunNs: -1,
          lastRanAt: -Infinity,
          generation: this.generation,
        };
      } catch {
        return undefined;
      }
      threads.set(tid, file);
    }
    file.generation = this.generation;
    return file;
  }

  /** Scheduler state letter (R running, S sleeping, D disk wait, Z zombie, T stopped, …); undefined if unreadable. */
  private readStateOf(pid: number, tid: number, file: OpenStat): string | undefined {
    const threads = this.files.get(pid)!;
    let length: number;
    this.stateReads++;
    try {
      length = fs.readSync(file.fd, this.head, 0, HEAD_BYTES, 0);
    } catch {
      length = 0;
    }
    // The command name may hold ')', the fields after it never do: the state follows the last one.
    const paren = length > 0 ? this.head.lastIndexOf(CLOSE_PAREN, length - 1) : -1;
    if (paren < 0 || paren + 2 >= length) {
      // The thread ended (its file now fails with ESRCH); a new thread may get its id later.
      this.closeFile(threads, tid, file);
      return undefined;
    }
    return String.fromCharCode(this.head[paren + 2]!);
  }

  /** Closes the files of threads not read since the previous sweep: threads and processes that ended. */
  sweep(): void {
    for (const [pid, threads] of this.files) {
      for (const [tid, file] of threads) if (file.generation !== this.generation) this.closeFile(threads, tid, file);
      if (threads.size === 0) this.files.delete(pid);
    }
    this.generation++;
  }

  close(): void {
    for (const threads of this.files.values()) for (const [tid, file] of threads) this.closeFile(threads, tid, file);
    this.files.clear();
  }

  /** Nanoseconds the thread has spent on a CPU (schedstat's first field); -1 when unknown. */
  private readRunTime(file: OpenStat): number {
    if (file.schedFd < 0) return -1;
    try {
      const length = fs.readSync(file.schedFd, this.head, 0, HEAD_BYTES, 0);
      const end = this.head.indexOf(0x20);
      return end > 0 && end < length ? Number(this.head.toString('latin1', 0, end)) : -1;
    } catch {
      return -1;
    }
  }

  private closeFile(threads: Map<number, OpenStat>, tid: number, file: OpenStat): void {
    threads.delete(tid);
    for (const fd of [file.fd, file.schedFd]) {
      if (fd < 0) continue;
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
  }
}

function openOptional(path: string): number {
  try {
    return fs.openSync(path, 'r');
  } catch {
    return -1;
  }
}
