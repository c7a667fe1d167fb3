// `record -- python app.py`: starts the command as our child (so no extra privilege is needed even
// under Yama ptrace_scope=1) and waits until its Python runtime can be read.

import { spawn, type ChildProcess } from 'node:child_process';
import { PythonProcess } from '../cpython/index.js';
import { HotpathError } from '../errors/index.js';

export interface LaunchedTarget {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
}

export function launchTarget(command: readonly string[]): LaunchedTarget {
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
  if (child.pid === undefined) throw new HotpathError('usage', `cannot start ${command[0]}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', () => undefined);
  return { child, pid: child.pid, exited };
}

/**
 * Polls until the child has exec'd Python and its runtime is readable. Before exec the child is a copy
 * of node and is "not Python"; that is the only error worth waiting out.
 */
export async function waitUntilAttachable(target: LaunchedTarget, timeoutMs = 10_000): Promise<void> {
  let childExited = false;
  void target.exited.then(() => (childExited = true));
  const deadline = Date.now() + timeoutMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      PythonProcess.attach(target.pid).close();
      return;
    } catch (err) {
      const waitable = err instanceof HotpathError && ['not-python', 'runtime-not-found'].includes(err.kind);
      if (!waitable || Date.now() > deadline) throw err;
      if (childExited) throw new HotpathError('target-exited', `${target.pid} exited before it could be profiled`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
