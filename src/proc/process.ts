// Facts about a process from /proc: whether it exists, its threads and their scheduler state,
// its children (for following Gunicorn/uvicorn workers), command line and memory use.

import fs from 'node:fs';

export function processExists(pid: number): boolean {
  try {
    fs.accessSync(`/proc/${pid}/stat`);
    return true;
  } catch {
    return false;
  }
}

/** Fields of /proc/PID[/task/TID]/stat after the command name, which may contain spaces and parens. */
function readStatFields(path: string): string[] | undefined {
  try {
    const text = fs.readFileSync(path, 'latin1');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Scheduler state letter: R running, S sleeping, D disk wait, Z zombie, T stopped, t traced. */
export function readThreadState(pid: number, tid: number): string | undefined {
  return readStatFields(`/proc/${pid}/task/${tid}/stat`)?.[0];
}

/** True when the process is a zombie or gone: nothing left to sample. */
export function processIsGone(pid: number): boolean {
  const state = readStatFields(`/proc/${pid}/stat`)?.[0];
  return state === undefined || state === 'Z' || state === 'X';
}

export function readParentPid(pid: number): number | undefined {
  const fields = readStatFields(`/proc/${pid}/stat`);
  return fields ? Number(fields[1]) : undefined;
}

export function readThreadIds(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .map(Number)
      .filter((tid) => Number.isInteger(tid));
  } catch {
    return [];
  }
}

/** The OS thread name (comm): what `top -H` shows; CPython ≥ 3.14 sets it from threading names. */
export function readThreadComm(pid: number, tid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The program a process runs (/proc/PID/exe), which changes when it execs; undefined when unreadable. */
export function readExecutable(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

export function readCmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * All live descendants of pid. Read from the kernel's list of each thread's children where it has them
 * (/proc/PID/task/TID/children): a few reads, where scanning every process's parent costs one read per
 * process on the machine, twice a second while following workers.
 */
export function readDescendants(pid: number): number[] {
  const childrenOf = fs.existsSync(`/proc/self/task/${process.pid}/children`) ? readChildren : scanChildren();
  const result: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of childrenOf(queue.shift()!)) {
      if (result.includes(child)) continue;
      result.push(child);
      queue.push(child);
    }
  }
  return result;
}

/** The children of every thread of pid; none when it is gone. */
function readChildren(pid: number): number[] {
  const children: number[] = [];
  for (const tid of readThreadIds(pid)) {
    try {
      for (const field of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ')) {
        if (field) children.push(Number(field));
      }
    } catch {
      // the thread ended: its children went to another thread or to a reaper
    }
  }
  return children;
}

/** Children by parent, from every process's stat: for kernels without children lists. */
function scanChildren(): (pid: number) => number[] {
  const childrenOf = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    // no /proc: no children
  }
  for (const name of entries) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    const parent = readParentPid(child);
    if (parent === undefined) continue;
    const list = childrenOf.get(parent) ?? [];
    list.push(child);
    childrenOf.set(parent, list);
  }
  return (pid) => childrenOf.get(pid) ?? [];
}

/** Resident set size in bytes. */
export function readRss(pid: number): number | undefined {
  try {
    const pages = Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return pages * 4096;
  } catch {
    return undefined;
  }
}
