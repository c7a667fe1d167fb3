// Maps the thread ids that a process's Python thread states hold to the process's own threads. uWSGI forks its
// workers from C without PyOS_AfterFork_Child, so a worker keeps the master's thread states and their ids.
import fs from 'node:fs';
import { readNamespaceId, readParentPid } from '../proc/index.js';

/** What the mapping needs to know about a process; /proc by default, a fake in unit tests. */
export interface ThreadFacts {
  hasThread(pid: number, tid: number): boolean;
  parentPid(pid: number): number | undefined;
  /** False when the process's pids are those of another PID namespace (a container), not comparable to ours. */
  sharesPidNamespace(pid: number): boolean;
}

export const procThreadFacts: ThreadFacts = {
  hasThread: (pid, tid) => fs.existsSync(`/proc/${pid}/task/${tid}`),
  parentPid: readParentPid,
  sharesPidNamespace: (pid) => readNamespaceId(pid, 'pid') === readNamespaceId('self', 'pid'),
};

/**
 * A process forked from C without PyOS_AfterFork_Child (uWSGI's workers; with --enable-threads uWSGI calls it,
 * but CPython before 3.12 leaves the main thread's id as it was) still lists the parent's thread states with the
 * parent's thread ids. The state of the thread that forked (uWSGI's master forks from its main thread, whose id
 * is the master's pid) now runs the child's main thread, whose id is the child's pid. Every other such state is
 * a copy of a parent thread that does not exist in the child: a stack frozen at the fork, no thread at all.
 * Answers are cached until sweep(), which the sampler calls twice a second, when it refreshes its targets.
 */
export class ForkedThreadIds {
  private readonly known = new Map<number, Map<number, number | null>>();

  constructor(private readonly facts: ThreadFacts = procThreadFacts) {}

  /** The id of the thread running this thread state in `pid`, or null when no thread of `pid` runs it. */
  resolve(pid: number, tid: number): number | null {
    let threads = this.known.get(pid);
    if (!threads) {
      threads = new Map();
      this.known.set(pid, threads);
    }
    let resolved = threads.get(tid);
    if (resolved === undefined) {
      resolved = this.find(pid, tid);
      threads.set(tid, resolved);
    }
    return resolved;
  }

  sweep(): void {
    this.known.clear();
  }

  private find(pid: number, tid: number): number | null {
    if (this.facts.hasThread(pid, tid) || !this.facts.sharesPidNamespace(pid)) return tid;
    if (tid === this.facts.parentPid(pid)) return pid;
    return null;
  }
}
