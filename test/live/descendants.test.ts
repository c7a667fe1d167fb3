// readDescendants on a real process tree: a shell with a child shell and a sleep, the child with its own
// sleep. Children come from the kernel's per-thread children lists; every level is found, nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readDescendants, readParentPid } from '../../src/proc/index.js';

test('every descendant of a process tree, and only those', async (t) => {
  // The outer shell prints its direct sleep's pid; the inner shell prints its own pid and its sleep's. The two lines
  // may come in either order: each says whose it is.
  const tree = spawn(
    'sh',
    ['-c', 'sleep 60 & outer=$!; sh -c "sleep 60 & echo inner \\$\\$ \\$!; wait" & echo outer $outer; wait'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => {
    for (const pid of [...seen, tree.pid!]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  const seen: number[] = [];
  let outerSleep: number | undefined;
  let output = '';
  tree.stdout.setEncoding('utf8');
  while (seen.length < 3) {
    const [chunk] = (await once(tree.stdout, 'data')) as [string];
    output += chunk;
    const lines = output.split('\n');
    output = lines.pop()!;
    for (const [whose, ...pids] of lines.map((line) => line.trim().split(/\s+/))) {
      seen.push(...pids.map(Number));
      if (whose === 'outer') outerSleep = Number(pids[0]);
    }
  }
  const descendants = readDescendants(tree.pid!).sort((a, b) => a - b);
  assert.deepEqual(
    descendants,
    [...seen].sort((a, b) => a - b),
  );
  for (const pid of descendants) assert.ok([tree.pid, ...seen].includes(readParentPid(pid)));
  assert.deepEqual(readDescendants(outerSleep!), [], 'a sleep has no children');
});
