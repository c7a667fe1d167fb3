// MemoryUsageReader: statm's resident pages decoded without strings, our own RSS read in bytes through a file kept
// open, and processes that are gone answered with undefined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeStatmResidentPages, MemoryUsageReader } from '../../src/proc/index.js';

const line = (text: string) => Buffer.from(text, 'latin1');

test('statm lines decode to their resident pages', () => {
  const text = line('1033264 26018 9983 1 0 44817 0\n');
  assert.equal(decodeStatmResidentPages(text, text.length), 26018);
  assert.equal(decodeStatmResidentPages(text, 10), undefined, 'cut before the resident field ends');
  const ended = line('0 0 0 0 0 0 0\n');
  assert.equal(decodeStatmResidentPages(ended, ended.length), undefined, 'a zombie maps nothing');
  assert.equal(decodeStatmResidentPages(line(''), 0), undefined);
  const garbage = line('12 x4 1\n');
  assert.equal(decodeStatmResidentPages(garbage, garbage.length), undefined);
});

test('our own RSS, in bytes, agrees with /proc/self/status and follows a large allocation', () => {
  const reader = new MemoryUsageReader();
  try {
    const before = reader.readResidentBytes(process.pid)!;
    const statusKiB = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    assert.ok(Math.abs(before - statusKiB * 1024) < 64 * 1024 * 1024, `${before} vs ${statusKiB} KiB`);
    const block = Buffer.alloc(64 * 1024 * 1024, 1);
    const after = reader.readResidentBytes(process.pid)!;
    assert.ok(after - before >= 48 * 1024 * 1024, `grew by ${after - before} bytes`);
    assert.equal(block[block.length - 1], 1);
  } finally {
    reader.close();
  }
});

test('a process that does not exist reads as undefined', () => {
  const reader = new MemoryUsageReader();
  assert.equal(reader.readResidentBytes(2 ** 22 + 1), undefined);
  reader.sweep();
  reader.close();
});
