// `record -- python app.py`: starts the command as our child (so no extra privilege is needed even
// under Yama ptrace_scope=1) and waits until its Python runtime (or, with --subprocesses, a child's) can be read.

import { spawn, type ChildProcess } from 'node:child_process';
import { PythonProcess } from '../cpython/index.js';
import { HotpathError } from '../errors/index.js';
import { readDescendants } from '../proc/index.js';

export interface LaunchedTarget {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
}

/** Starts `command` with our stdin, and our stdout and stderr unless `hideOutput`. */
export async function launchTarget(command: readonly string[], hideOutput = false): Promise<LaunchedTarget> {
  const child = spawn(command[0]!, command.slice(1), {
    stdio: hideOutput ? ['inherit', 'ignore', 'ignore'] : 'inherit',
  });
  // A command that cannot start (ENOENT, EACCES) has no pid and reports why through 'error', soon after.
  const failed = new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
  if (child.pid === undefined) {
    const err = await failed;
    throw new HotpathError('usage', `cannot start ${command[0]}: ${err.code ?? err.message}`, startHint(err));
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, pid: child.pid, exited };
}

function startHint(err: NodeJS.ErrnoException): string | undefined {
  if (err.code === 'ENOENT') return 'no such program: give its path, or one on PATH (e.g. -- python3 app.py)';
  if (err.code === 'EACCES') {
    return 'this user may not run it: check its execute bit and that every folder on its path can be entered';
  }
  return undefined;
}

/**
 * Polls until the child has exec'd Python and its runtime is readable. Before exec the child is a copy
 * of node and is "not Python"; that is the only error worth waiting out. With `subprocesses`, the command may
 * be a launcher (a shell script, a process manager) that starts Python later: a Python descendant is enough.
 */
export async function waitUntilAttachable(
  target: LaunchedTarget,
  subprocesses: boolean,
  timeoutMs = 10_000,
): Promise<void> {
  let childExited = false;
  void target.exited.then(() => (childExited = true));
  const deadline = Date.now() + timeoutMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      PythonProcess.attach(target.pid).close();
      return;
    } catch (err) {
      const waitable = err instanceof HotpathError && ['not-python', 'runtime-not-found'].includes(err.kind);
      if (!waitable) throw err;
      if (subprocesses && readDescendants(target.pid).some(isAttachable)) return;
      if (childExited) throw new HotpathError('target-exited', `${target.pid} exited before it could be profiled`);
      if (Date.now() > deadline) {
        if (!subprocesses) throw err;
        throw new HotpathError(
          'not-python',
          `neither ${target.pid} nor its children run Python after ${timeoutMs / 1000}s`,
          'hotpath follows the Python processes the command starts; check that it starts one',
        );
      }
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function isAttachable(pid: number): boolean {
  try {
    PythonProcess.attach(pid).close();
    return true;
  } catch {
    return false;
  }
}
