// The quiet target (test/targets/recording-target.py): its three threads block for good in known places, but the
// main thread prints READY just before it blocks, so tests that need it still wait for that on its stacks.
import path from 'node:path';
import { PythonProcess, type ThreadStack } from '../../src/cpython/index.js';
import { repoRoot } from './pythons.js';

export const quietTarget = path.join(repoRoot, 'test/targets/recording-target.py');

/** Where each thread of the quiet target blocks for good. */
const BLOCKING = new Set(['wait_on_lock_ß', 'sleeping_generator_函数']);

/** The target's stacks once all three threads block, read through `python`. */
export async function blockedStacks(python: PythonProcess): Promise<ThreadStack[]> {
  for (;;) {
    const stacks = python.readStacks();
    if (stacks.length === 3 && stacks.every((s) => BLOCKING.has(s.frames[0]?.name ?? ''))) return stacks;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Returns once every thread of the quiet target `pid` blocks. */
export async function waitUntilBlocked(pid: number): Promise<void> {
  const python = PythonProcess.attach(pid);
  try {
    await blockedStacks(python);
  } finally {
    python.close();
  }
}
