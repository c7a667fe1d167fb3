// Starting, watching and stopping the processes a benchmark run needs: targets that announce readiness
// with a line on stdout, profilers measured by wait4() (bench/python/rusage-run.py), and CPU time read
// from /proc for processes that are still running.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDescendants } from '../../src/proc/index.js';

export interface Started {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** The last few KiB the process wrote to stderr. */
  stderrTail(): string;
  /** Resolves with the first stdout line matching `pattern` (rejects on exit or timeout). */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

export function start(command: readonly string[], options: { cwd?: string; stdin?: 'pipe' | 'ignore' } = {}): Started {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: options.cwd,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      lines.push(line);
      for (const waiter of [...waiters]) {
        const match = waiter.pattern.exec(line);
        if (match) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match);
        }
      }
    }
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    stderrTail: () => stderr,
    waitForLine(pattern, timeoutMs) {
      for (const line of lines) {
        const match = pattern.exec(line);
        if (match) return Promise.resolve(match);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern} from ${command.join(' ')}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (match) => {
            clearTimeout(timer);
            resolve(match);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(
            new Error(`${command.join(' ')} exited (${code}) before printing ${pattern}: ${stderr.trim().slice(-500)}`),
          );
        });
      });
    },
  };
}

/** Stops a started process and waits for it; SIGKILL if it ignores `signal` for `graceMs`. */
export async function stop(started: Started, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await started.exited;
  clearTimeout(timer);
}

/** Lets a process end by itself within `waitMs`, then stops it with `signal` (and SIGKILL after that). */
export async function awaitExit(started: Started, waitMs: number, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
  const timer = setTimeout(() => void stop(started, signal), waitMs);
  await started.exited;
  clearTimeout(timer);
}

export interface ResourceUsage {
  userSeconds: number;
  systemSeconds: number;
  maxRssKiB: number;
  wallSeconds: number;
  exitCode: number;
}

export interface MeasuredRun {
  usage: ResourceUsage;
  stdout: string;
  stderr: string;
  /** CPU seconds of the run's threads between the times of MeasureOptions.cpuWindowMs (readTreeThreadCpuSeconds). */
  windowCpuSeconds?: number;
}

export interface MeasureOptions {
  /** Send SIGINT after this long (for profilers stopped like Ctrl-C rather than by a duration flag). */
  interruptAfterMs?: number;
  /** Kill the run after this long: a profiler that hangs must not hang the benchmark. */
  timeoutMs: number;
  cwd?: string;
  /** Milliseconds after the start between which the run's CPU is also read (MeasuredRun.windowCpuSeconds). */
  cpuWindowMs?: readonly [number, number];
}

/** Runs `command` under rusage-run.py: CPU seconds (user+system, its waited-for children included). */
export async function runMeasured(
  python: string,
  benchPython: string,
  command: readonly string[],
  options: MeasureOptions,
): Promise<MeasuredRun> {
  const usageFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hotpath-bench-')), 'usage.json');
  const child = spawn(python, [path.join(benchPython, 'rusage-run.py'), usageFile, ...command], {
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20000)));
  const timers = [setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)];
  if (options.interruptAfterMs !== undefined)
    timers.push(setTimeout(() => child.kill('SIGINT'), options.interruptAfterMs));
  const windowReadings: number[] = [];
  for (const at of options.cpuWindowMs ?? []) {
    timers.push(setTimeout(() => windowReadings.push(readTreeThreadCpuSeconds(child.pid!)), at));
  }
  await new Promise((resolve) => child.on('close', resolve));
  timers.forEach(clearTimeout);
  let usage: ResourceUsage;
  try {
    usage = JSON.parse(fs.readFileSync(usageFile, 'utf8')) as ResourceUsage;
  } catch {
    throw new Error(
      `${command.join(' ')} did not finish (killed after ${options.timeoutMs} ms?): ${stderr.slice(-500)}`,
    );
  } finally {
    fs.rmSync(path.dirname(usageFile), { recursive: true, force: true });
  }
  if (usage.exitCode !== 0) {
    // The end of stderr on one line: a crash's message and stack come before the runtime's last line.
    const tail = stderr
      .trim()
      .slice(-800)
      .replace(/\s*\n\s*/g, ' | ');
    throw new Error(`${path.basename(command[0]!)} exited with ${usage.exitCode}: ${tail}`);
  }
  const [windowStart, windowEnd] = windowReadings;
  const windowCpuSeconds = windowEnd !== undefined ? windowEnd - windowStart! : undefined;
  return { usage, stdout, stderr, windowCpuSeconds };
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds used so far by a running process, its live descendants and the children they reaped
 * (/proc/PID/stat utime+stime+cutime+cstime; 10 ms resolution, so measure over seconds).
 */
export function readTreeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const member of [pid, ...readDescendants(pid)]) {
    try {
      const text = fs.readFileSync(`/proc/${member}/stat`, 'latin1');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // Fields after the command: state is [0], utime [11], stime [12], cutime [13], cstime [14].
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // exited between the listing and the read: its time moved to its parent's cutime
    }
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds the threads of a running process and its live descendants have used so far, to the nanosecond
 * (/proc/PID/task/TID/schedstat): for windows too short for readTreeCpuSeconds' 10 ms ticks. Threads that exited
 * are not counted, so measure over a stretch in which the profiler's threads live throughout.
 */
export function readTreeThreadCpuSeconds(pid: number): number {
  let nanoseconds = 0;
  for (const member of [pid, ...readDescendants(pid)]) {
    let threads: string[];
    try {
      threads = fs.readdirSync(`/proc/${member}/task`);
    } catch {
      continue; // exited since the listing
    }
    for (const tid of threads) {
      try {
        nanoseconds += Number(fs.readFileSync(`/proc/${member}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
      } catch {
        // exited between the listing and the read
      }
    }
  }
  return nanoseconds / 1e9;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
