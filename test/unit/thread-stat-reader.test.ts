// ThreadStatReader: scheduler states read through kept-open /proc stat files, this process's own threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ThreadStatReader } from '../../src/proc/index.js';

const openFdCount = (): number => fs.readdirSync('/proc/self/fd').length;

test('the running main thread reads as R, at one kept-open file', () => {
  const reader = new ThreadStatReader();
  const before = openFdCount();
  assert.equal(reader.readState(process.pid, process.pid), 'R');
  assert.equal(reader.readState(process.pid, process.pid), 'R');
  assert.equal(openFdCount(), before + 1);
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
  assert.equal(reader.readState(process.pid, process.pid), 'R');
  reader.close();
});

test('a thread that does not exist is unreadable and keeps no file', () => {
  const reader = new ThreadStatReader();
  const before = openFdCount();
  assert.equal(reader.readState(process.pid, 0x7ffffff0), undefined);
  assert.equal(openFdCount(), before);
  reader.close();
});

test('sweep closes the files of threads not read since the previous sweep', () => {
  const reader = new ThreadStatReader();
  const before = openFdCount();
  reader.readState(process.pid, process.pid);
  reader.sweep();
  assert.equal(openFdCount(), before + 1, 'read since the last sweep: kept');
  reader.sweep();
  assert.equal(openFdCount(), before, 'not read since: closed');
  assert.equal(reader.readState(process.pid, process.pid), 'R');
  reader.close();
});
