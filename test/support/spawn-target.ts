// Starts a target process (usually Python) in its own process group and waits for its readiness line on stdout.
// The whole group is killed when the owning test ends, when stop() is called, or at the latest when Node exits.
// Processes that share stdout (forked workers) must write each line in one write(), or lines interleave.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Anything that runs cleanups when it ends; node:test's TestContext (t) is one. */
export interface CleanupOwner {
  after(fn: () => unknown): void;
}

export interface SpawnTargetOptions {
  cwd?: string;
  /** Added to process.env; PYTHONUNBUFFERED=1 is always set so print() lines arrive at once. */
  env?: Record<string, string>;
  /** The readiness line starts with this; default 'READY'. */
  readyPrefix?: string;
  /**
   * The prefix may also follow other text on its line: a program the target launched shares its stdout, and an
   * unbuffered Python writes a line's text and its newline in two writes, between which the target's line can land.
   */
  readyAnywhere?: boolean;
  /** Guard against a hung target, for readiness and each later line; default 30 s. Not a sleep. */
  timeoutMs?: number;
  /** Registers stop() to run when the owner (a test) ends. */
  owner?: CleanupOwner;
}

export interface StopOptions {
  /** Sent to the whole process group; default SIGKILL. */
  signal?: NodeJS.Signals;
  /** With another signal than SIGKILL: how long to wait for the leader to exit before SIGKILL; default 5 s. */
  graceMs?: number;
}

export interface SpawnedTarget {
  /** Pid of the started process, also its process group id. */
  readonly pid: number;
  readonly child: ChildProcess;
  /** The readiness line itself. */
  readonly readyLine: string;
  /** The next stdout line after the ones already taken; rejects when stdout ends or after timeoutMs. */
  nextLine(timeoutMs?: number): Promise<string>;
  /** Skips stdout lines until one matches. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** The remaining stdout lines, ending when stdout closes. */
  lines(): AsyncGenerator<string>;
  /** What the target wrote to stderr so far (its last 64 KiB). */
  stderrText(): string;
  /** Signals the process group and resolves once the started process has exited. Safe to call twice. */
  stop(options?: StopOptions): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const STDERR_KEPT_CHARS = 64 * 1024;

/** Starts `command args…` detached (own process group) and resolves once it prints its readiness line. */
export async function spawnTarget(
  command: string,
  args: string[],
  options: SpawnTargetOptions = {},
): Promise<SpawnedTarget> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, PYTHONUNBUFFERED: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const pid = child.pid as number;
  const stderr = collectStderr(child);
  const queue = new LineQueue(() => `${command} stderr so far:\n${stderr.text()}`);
  createInterface({ input: child.stdout! }).on('line', (line) => queue.push(line));
  const exited = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      queue.close(new Error(`${command} exited (${signal ?? `code ${code}`}); stderr:\n${stderr.text()}`));
      resolve();
    });
  });
  const killOnNodeExit = () => signalGroup(pid, 'SIGKILL');
  process.once('exit', killOnNodeExit);

  const stop = async ({ signal = 'SIGKILL', graceMs = 5_000 }: StopOptions = {}) => {
    signalGroup(pid, signal);
    if (signal !== 'SIGKILL' && !(await settlesWithin(exited, graceMs))) signalGroup(pid, 'SIGKILL');
    await exited;
    process.off('exit', killOnNodeExit);
  };
  options.owner?.after(() => stop());

  const readyPrefix = options.readyPrefix ?? 'READY';
  const isReady = (line: string): boolean =>
    options.readyAnywhere ? line.includes(readyPrefix) : line.startsWith(readyPrefix);
  const readyLine = await waitForMatch(queue, isReady, timeoutMs).catch(async (error: Error) => {
    await stop();
    throw new Error(`${command} never printed a line starting with ${readyPrefix}: ${error.message}`);
  });
  return {
    pid,
    child,
    readyLine,
    nextLine: (ms = timeoutMs) => queue.next(ms),
    waitForLine: (predicate, ms = timeoutMs) => waitForMatch(queue, predicate, ms),
    lines: () => queue.drain(),
    stderrText: () => stderr.text(),
    stop,
  };
}

async function waitForMatch(queue: LineQueue, predicate: (line: string) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = await queue.next(Math.max(0, deadline - Date.now()));
    if (predicate(line)) return line;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = await Promise.race([promise.then(() => true), timedOut]);
  clearTimeout(timer);
  return settled;
}

function collectStderr(child: ChildProcess): { text(): string } {
  let kept = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    kept = (kept + chunk).slice(-STDERR_KEPT_CHARS);
  });
  return { text: () => kept };
}

interface LineWaiter {
  resolve(line: string): void;
  reject(error: Error): void;
}

/** Stdout lines not taken yet, and the readers waiting for the next one. */
class LineQueue {
  private readonly buffered: string[] = [];
  private readonly waiters: LineWaiter[] = [];
  private closedBecause: Error | undefined;

  /** describeTarget adds the target's state to timeout errors. */
  constructor(private readonly describeTarget: () => string) {}

  push(line: string): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(line);
    else this.buffered.push(line);
  }

  close(reason: Error): void {
    this.closedBecause = reason;
    for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
  }

  /** Without timeoutMs, waits until a line comes or stdout closes. */
  next(timeoutMs?: number): Promise<string> {
    if (this.buffered.length > 0) return Promise.resolve(this.buffered.shift()!);
    if (this.closedBecause) return Promise.reject(this.closedBecause);
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiters.splice(this.waiters.indexOf(waiter), 1);
              reject(new Error(`no stdout line within ${timeoutMs} ms; ${this.describeTarget()}`));
            }, timeoutMs);
      const waiter: LineWaiter = {
        resolve: (line) => (clearTimeout(timer), resolve(line)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.waiters.push(waiter);
    });
  }

  async *drain(): AsyncGenerator<string> {
    while (this.buffered.length > 0 || !this.closedBecause) {
      const line = await this.next().catch(() => undefined);
      if (line === undefined) return;
      yield line;
    }
  }
}
