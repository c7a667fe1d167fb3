// A thread kept off the CPU is not "active": pinned to one CPU beside a real-time busy loop, a CPU-bound
// Python target is runnable but barely runs, and ThreadStatReader must say so; without the competitor it
// is active nearly always. This is what keeps profiles of overloaded machines from repeating one stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ThreadStatReader } from '../../src/proc/index.js';
import { spawnTarget } from '../support/spawn-target.js';

const BUSY = 'import sys\nprint("READY", flush=True)\nwhile True: pass';
const haveTools = ['chrt', 'taskset'].every((tool) => spawnSync('which', [tool]).status === 0);

async function activeShare(pid: number, checks: number): Promise<number> {
  const reader = new ThreadStatReader();
  let active = 0;
  for (let i = 0; i < checks; i++) {
    if (reader.isActive(pid, pid)) active++;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  reader.close();
  return active / checks;
}

test(
  'a CPU-bound thread is active, and starved beside a real-time hog it is not',
  { skip: !haveTools && 'needs chrt and taskset' },
  async (t) => {
    const target = await spawnTarget('taskset', ['-c', '0', 'python3', '-c', BUSY], { owner: t });
    assert.ok((await activeShare(target.pid, 60)) > 0.6, 'a busy thread with a CPU to itself is active');
    // A FIFO-priority loop on the same CPU that ends by itself after 2 s; the kernel still lends ordinary
    // threads 5% of each second (sched_rt_runtime_us), in one slice, so the target runs in rare bursts.
    const hog = await spawnTarget(
      'chrt',
      [
        '-f',
        '10',
        'taskset',
        '-c',
        '0',
        'python3',
        '-c',
        'import time\nprint("READY", flush=True)\nend = time.time() + 2\nwhile time.time() < end: pass',
      ],
      { owner: t },
    );
    const starved = await activeShare(target.pid, 60);
    await hog.stop({ signal: 'SIGKILL' });
    assert.ok(starved < 0.35, `a thread kept off the CPU is mostly not active (active share ${starved.toFixed(2)})`);
  },
);
