// ThreadStatReader: activity read through kept-open /proc stat and schedstat files, this process's own threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { ThreadStatReader } from '../../src/proc/index.js';

const openFdCount = (): number => fs.readdirSync('/proc/self/fd').length;

test('the running main thread is active, at two kept-open files', () => {
  const reader = new ThreadStatReader();
  const before = openFdCount();
  assert.equal(reader.isActive(process.pid, process.pid), true);
  assert.equal(reader.isActive(process.pid, process.pid), true);
  assert.equal(openFdCount(), before + 2);
  reader.close();
  assert.equal(openFdCount(), before);
});

test('a command name holding ") S (" does not shift the state', (t) => {
  const title = process.title;
  t.after(() => {
    process.title = title;
  });
  process.title = 'x) S (y';
  const reader = new ThreadStatReader();
  assert.equal(reader.isActive(process.pid, process.pid), true);
  reader.close();
});

test('a thread that does not exist is unreadable and keeps no file', () => {
  const reader = new ThreadStatReader();
  const before = openFdCount();
  assert.equal(reader.isActive(process.pid, 0x7ffffff0), undefined);
  assert.equal(openFdCount(), before);
  reader.close();
});

test('sweep closes the files of threads not read since the previous sweep', () => {
  const reader = new ThreadStatReader();
  const before = openFdCount();
  reader.isActive(process.pid, process.pid);
  reader.sweep();
  assert.equal(openFdCount(), before + 2, 'read since the last sweep: kept');
  reader.sweep();
  assert.equal(openFdCount(), before, 'not read since: closed');
  assert.equal(reader.isActive(process.pid, process.pid), true);
  reader.close();
});

test('a sleeping thread is not active, neither at first sight nor later', async (t) => {
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => sleeper.kill('SIGKILL'));
  const pid = sleeper.pid!;
  // Sleeping once the kernel says so: spawn returns before the child reaches its nanosleep.
  while (!/\) S /.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'))) await new Promise((r) => setImmediate(r));
  const reader = new ThreadStatReader();
  t.after(() => reader.close());
  assert.equal(reader.isActive(pid, pid), false, 'first sight');
  assert.equal(reader.isActive(pid, pid, performance.now() + 1000), false, 'a second later, its CPU time unchanged');
});
