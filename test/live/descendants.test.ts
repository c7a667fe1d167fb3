// readDescendants on a real process tree: a shell with a child shell and a sleep, the child with its own
// sleep. Children come from the kernel's per-thread children lists; every level is found, nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readDescendants, readParentPid } from '../../src/proc/index.js';

test('every descendant of a process tree, and only those', async (t) => {
  // The outer shell prints its direct sleep's pid and the inner shell's, whose line adds its own sleep's pid.
  const tree = spawn(
    'sh',
    ['-c', 'sleep 60 & outer=$!; sh -c "sleep 60 & echo \\$\\$ \\$!; wait" & inner=$!; echo $outer; wait'],
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
  tree.stdout.setEncoding('utf8');
  while (seen.length < 3) {
    const [chunk] = (await once(tree.stdout, 'data')) as [string];
    seen.push(...chunk.split(/\s+/).filter(Boolean).map(Number));
  }
  const descendants = readDescendants(tree.pid!).sort((a, b) => a - b);
  assert.deepEqual(
    descendants,
    [...seen].sort((a, b) => a - b),
  );
  for (const pid of descendants) assert.ok([tree.pid, ...seen].includes(readParentPid(pid)));
  assert.deepEqual(readDescendants(seen[0]!), [], 'a sleep has no children');
});
