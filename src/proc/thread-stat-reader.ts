// Threads' scheduler states at one pread per thread per sample: each thread's /proc/PID/task/TID/stat
// stays open between samples (opening, reading and closing it every time cost more than the rest of a
// sample). Files of threads that were not asked about since the previous sweep are closed by sweep().

import fs from 'node:fs';

/** Enough of the stat line to hold "TID (comm) S": comm is at most 15 bytes (TASK_COMM_LEN). */
const HEAD_BYTES = 128;
const CLOSE_PAREN = 0x29;

interface OpenStat {
  fd: number;
  generation: number;
}

export class ThreadStatReader {
  private readonly files = new Map<number, Map<number, OpenStat>>();
  private readonly head = Buffer.allocUnsafe(HEAD_BYTES);
  private generation = 0;

  /** Scheduler state letter (R running, S sleeping, D disk wait, Z zombie, T stopped, …); undefined if unreadable. */
  readState(pid: number, tid: number): string | undefined {
    let threads = this.files.get(pid);
    if (!threads) {
      threads = new Map();
      this.files.set(pid, threads);
    }
    let file = threads.get(tid);
    if (!file) {
      try {
        file = { fd: fs.openSync(`/proc/${pid}/task/${tid}/stat`, 'r'), generation: this.generation };
      } catch {
        return undefined;
      }
      threads.set(tid, file);
    }
    file.generation = this.generation;
    let length: number;
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

  private closeFile(threads: Map<number, OpenStat>, tid: number, file: OpenStat): void {
    threads.delete(tid);
    try {
      fs.closeSync(file.fd);
    } catch {
      // already closed
    }
  }
}
