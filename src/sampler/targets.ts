// The set of processes being sampled: the ones asked for and, with --subprocesses, their descendants
// as they come and go (Gunicorn and uvicorn respawn workers). Non-Python children are retried a few
// times, since a fork may exec Python a moment later, and again whenever they exec another program.

import { HotpathError } from '../errors/index.js';
import { PythonProcess, RuntimeLocationCache, type AttachOptions } from '../cpython/index.js';
import { processIsGone, readDescendants, readExecutable } from '../proc/index.js';

const ATTACH_ATTEMPTS_PER_CHILD = 5;

export interface TargetSetOptions {
  subprocesses: boolean;
  /**
   * With subprocesses: a root that is not Python and has no Python child yet is a launcher to wait for (a sampling
   * session, which picks its children up as they start), not an error (a dump, which is of this moment).
   */
  waitForLaunchers?: boolean;
  attach?: AttachOptions;
  onAttach?: (python: PythonProcess) => void;
  onDetach?: (pid: number, reason: string) => void;
  /**
   * A pid asked for that is left out while others are profiled, or a descendant running Python that could not be
   * attached in ATTACH_ATTEMPTS_PER_CHILD tries (once per program it runs).
   */
  onSkip?: (pid: number, reason: string) => void;
}

/** Why a pid asked for may be left out when others are profiled: `--pid $(pgrep -f gunicorn)` also matches a `tail -f`. */
const SKIPPABLE_ROOT_ERRORS: readonly string[] = ['not-python', 'runtime-not-found', 'no-such-process'];

export class TargetSet {
  readonly processes = new Map<number, PythonProcess>();
  /** Descendants that could not be attached: how often, and the program they ran then. */
  private failedAttempts = new Map<number, { count: number; executable: string | undefined }>();
  /** Workers forked from one master share its interpreter mappings: each is located without re-parsing ELF files. */
  private readonly runtimeCache = new RuntimeLocationCache();

  constructor(
    private readonly roots: readonly number[],
    private readonly options: TargetSetOptions,
  ) {}

  /**
   * Attaches to the root processes. A root that is not Python is an error unless descendants are followed, in
   * which case it may be a launcher (a shell, a supervisor, a container's init) whose children are Python, now or
   * later (waited for, as py-spy does, with waitForLaunchers), or other roots are given, in which case it is skipped
   * (so is one that is gone); still an error when nothing is left to profile or wait for.
   */
  attachRoots(): void {
    let firstError: unknown;
    const skipped: [number, HotpathError][] = [];
    const launchers: [number, HotpathError][] = [];
    for (const pid of this.roots) {
      try {
        this.attach(pid);
      } catch (err) {
        const skippable = err instanceof HotpathError && SKIPPABLE_ROOT_ERRORS.includes(err.kind);
        const launcherMayHavePythonChildren = skippable && this.options.subprocesses && err.kind !== 'no-such-process';
        if (!skippable || !(launcherMayHavePythonChildren || this.roots.length > 1)) throw err;
        firstError ??= err;
        (launcherMayHavePythonChildren ? launchers : skipped).push([pid, err]);
      }
    }
    this.refresh();
    const waiting = this.options.waitForLaunchers && launchers.length > 0;
    if (this.processes.size === 0 && !waiting && firstError) throw firstError;
    for (const [pid, err] of skipped) this.options.onSkip?.(pid, err.message);
    if (this.processes.size > 0) return;
    for (const [pid, err] of launchers) {
      this.options.onSkip?.(pid, `${err.message}; waiting for the Python processes it starts`);
    }
  }

  /** Picks up new descendants and drops processes that exited. */
  refresh(): void {
    for (const [pid, python] of this.processes) {
      if (processIsGone(pid)) this.detach(pid, python, 'exited');
    }
    this.followDescendants();
  }

  /**
   * Picks up new descendants (with subprocesses), for a caller that learns of exits otherwise: hotpath's native loop
   * reports them.
   */
  followDescendants(): void {
    if (!this.options.subprocesses) return;
    const live = new Set<number>();
    for (const root of this.roots) {
      live.add(root);
      for (const pid of readDescendants(root)) live.add(pid);
    }
    for (const pid of live) {
      if (this.processes.has(pid)) continue;
      // Attempts count per program: one that execs another (a shell into Python) gets as many again.
      const executable = readExecutable(pid);
      const failed = this.failedAttempts.get(pid);
      const failures = failed && failed.executable === executable ? failed.count : 0;
      if (failures >= ATTACH_ATTEMPTS_PER_CHILD) continue;
      try {
        this.attach(pid);
      } catch (err) {
        this.failedAttempts.set(pid, { count: failures + 1, executable });
        if (failures + 1 === ATTACH_ATTEMPTS_PER_CHILD) this.reportGivenUp(pid, err);
      }
    }
    for (const pid of this.failedAttempts.keys()) if (!live.has(pid)) this.failedAttempts.delete(pid);
  }

  /**
   * Says why a descendant is left out for good, unless it is no Python process (children that run other programs are
   * common and not worth a line) or is gone.
   */
  private reportGivenUp(pid: number, err: unknown): void {
    const kind = err instanceof HotpathError ? err.kind : undefined;
    if (kind === 'not-python' || kind === 'no-such-process' || processIsGone(pid)) return;
    const message = err instanceof Error ? err.message : String(err);
    this.options.onSkip?.(pid, `could not attach in ${ATTACH_ATTEMPTS_PER_CHILD} attempts: ${message}`);
  }

  drop(pid: number, reason: string): void {
    const python = this.processes.get(pid);
    if (python) this.detach(pid, python, reason);
  }

  get rootsAlive(): boolean {
    return this.roots.some((pid) => !processIsGone(pid));
  }

  close(): void {
    for (const python of this.processes.values()) python.close();
    this.processes.clear();
  }

  private attach(pid: number): void {
    const python = PythonProcess.attach(pid, { ...this.options.attach, runtimeCache: this.runtimeCache });
    this.processes.set(pid, python);
    this.options.onAttach?.(python);
  }

  private detach(pid: number, python: PythonProcess, reason: string): void {
    python.close();
    this.processes.delete(pid);
    this.options.onDetach?.(pid, reason);
  }
}
