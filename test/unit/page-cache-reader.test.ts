// The per-sample page cache: reads served from whole pages, as few target reads as possible, no stale data
// after clear(), views that stay valid while the slab grows, and errors that name the page read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryReadError } from '../../src/errors/index.js';
import { PageCacheReader, type MemoryReader } from '../../src/proc/index.js';

const PAGE = 4096;
const BASE = 0x7f00_0000_0000;

/** 128 pages of target memory whose byte at address a is (a / 7) & 0xff, plus a generation added on change. */
class CountingMemory implements MemoryReader {
  reads: [number, number][] = [];
  generation = 0;

  constructor(withReadInto: boolean) {
    if (!withReadInto) this.readInto = undefined;
  }

  read(address: number, length: number): Buffer {
    const buf = Buffer.alloc(length);
    this.fill(address, length, buf, 0);
    return buf;
  }

  readInto?(address: number, length: number, target: Buffer, offset: number): void {
    this.fill(address, length, target, offset);
  }

  close(): void {}

  private fill(address: number, length: number, target: Buffer, offset: number): void {
    this.reads.push([address, length]);
    if (address < BASE || address + length > BASE + 128 * PAGE) throw new MemoryReadError(address, length, 'EIO');
    for (let i = 0; i < length; i++) target[offset + i] = (Math.floor((address + i) / 7) + this.generation) & 0xff;
  }
}

function expected(address: number, length: number, generation = 0): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (Math.floor((address + i) / 7) + generation) & 0xff));
}

for (const withReadInto of [true, false]) {
  const kind = withReadInto ? 'readInto' : 'read';

  test(`reads within one page cost one page read (inner ${kind})`, () => {
    const memory = new CountingMemory(withReadInto);
    const cache = new PageCacheReader(memory);
    assert.deepEqual(cache.read(BASE + 100, 16), expected(BASE + 100, 16));
    assert.deepEqual(cache.read(BASE + 3000, 64), expected(BASE + 3000, 64));
    assert.deepEqual(memory.reads, [[BASE, PAGE]]);
    assert.equal(cache.targetReads, 1);
  });

  test(`a read across pages fills the missing ones in one read, joining cached and new pages (inner ${kind})`, () => {
    const memory = new CountingMemory(withReadInto);
    const cache = new PageCacheReader(memory);
    cache.read(BASE + PAGE, 8); // page 1 cached first, so pages 0–2 are not contiguous in the slab
    const across = cache.read(BASE + PAGE - 10, 2 * PAGE);
    assert.deepEqual(across, expected(BASE + PAGE - 10, 2 * PAGE));
    assert.deepEqual(memory.reads, [
      [BASE + PAGE, PAGE],
      [BASE, PAGE],
      [BASE + 2 * PAGE, PAGE],
    ]);
    const fresh = cache.read(BASE + 5 * PAGE + 1, 2 * PAGE);
    assert.deepEqual(fresh, expected(BASE + 5 * PAGE + 1, 2 * PAGE));
    assert.deepEqual(memory.reads.at(-1), [BASE + 5 * PAGE, 3 * PAGE]);
  });

  test(`clear() makes the next read see the target's new contents (inner ${kind})`, () => {
    const memory = new CountingMemory(withReadInto);
    const cache = new PageCacheReader(memory);
    assert.deepEqual(cache.read(BASE + 8, 8), expected(BASE + 8, 8));
    memory.generation = 1;
    assert.deepEqual(cache.read(BASE + 8, 8), expected(BASE + 8, 8), 'same sample: cached');
    cache.clear();
    assert.deepEqual(cache.read(BASE + 8, 8), expected(BASE + 8, 8, 1));
  });
}

test('buffers handed out before the slab grows keep their contents, and cached pages stay readable', () => {
  const memory = new CountingMemory(true);
  const cache = new PageCacheReader(memory);
  const early = cache.read(BASE + 10, 8);
  // The slab starts with room for 64 pages: reading 100 makes it grow.
  for (let page = 1; page < 100; page++) cache.read(BASE + page * PAGE, 8);
  assert.deepEqual(early, expected(BASE + 10, 8));
  assert.deepEqual(cache.read(BASE + 20, 8), expected(BASE + 20, 8));
  assert.equal(memory.reads.length, 100, 'page 0 was not read again');
});

test('a failed page read names the page range and caches nothing', () => {
  const memory = new CountingMemory(true);
  const cache = new PageCacheReader(memory);
  assert.throws(
    () => cache.read(BASE + 128 * PAGE + 5, 8),
    (err: unknown) => err instanceof MemoryReadError && err.address === BASE + 128 * PAGE && err.length === PAGE,
  );
  assert.throws(() => cache.read(BASE + 128 * PAGE + 5, 8), MemoryReadError);
  assert.equal(memory.reads.length, 2);
});

test('large reads bypass the cache', () => {
  const memory = new CountingMemory(true);
  const cache = new PageCacheReader(memory);
  assert.deepEqual(cache.read(BASE + 1, 5 * PAGE), expected(BASE + 1, 5 * PAGE));
  assert.deepEqual(memory.reads, [[BASE + 1, 5 * PAGE]]);
});

/** CountingMemory that also copies scattered spans at once, as process_vm_readv does: stopping at the first failure. */
class SpanMemory extends CountingMemory {
  spanCalls: number[][] = [];

  constructor() {
    super(true);
  }

  readSpans(spans: Float64Array, count: number, into: Buffer): number {
    this.spanCalls.push(Array.from({ length: count }, (_, i) => spans[i * 3]!));
    for (let i = 0; i < count; i++) {
      try {
        this.readInto!(spans[i * 3]!, spans[i * 3 + 1]!, into, spans[i * 3 + 2]!);
      } catch {
        return i;
      }
    }
    return count;
  }
}

test('beginSample fetches the pages the previous sample read in one call, in the order they were first read', () => {
  const memory = new SpanMemory();
  const cache = new PageCacheReader(memory);
  // First read order: page 9, pages 2-3 (one run), page 40.
  for (const address of [BASE + 9 * PAGE + 8, BASE + 2 * PAGE + 4000, BASE + 40 * PAGE]) cache.read(address, 200);
  memory.generation = 1;
  memory.reads = [];
  cache.beginSample();
  assert.deepEqual(memory.spanCalls, [[BASE + 9 * PAGE, BASE + 2 * PAGE, BASE + 40 * PAGE]]);
  const readsAfterPrefetch = memory.reads.length;
  assert.deepEqual(cache.read(BASE + 2 * PAGE + 4000, 200), expected(BASE + 2 * PAGE + 4000, 200, 1), 'fresh data');
  assert.deepEqual(cache.read(BASE + 40 * PAGE, 8), expected(BASE + 40 * PAGE, 8, 1));
  assert.equal(memory.reads.length, readsAfterPrefetch, 'served without another read');
  cache.read(BASE + 50 * PAGE, 8);
  assert.equal(memory.reads.length, readsAfterPrefetch + 1, 'a new page is read on demand');
});

test('a prefetched page that became unreadable leaves it and the pages after it to be read on demand', () => {
  const memory = new SpanMemory();
  const cache = new PageCacheReader(memory);
  cache.read(BASE + 5 * PAGE, 8);
  cache.read(BASE + 127 * PAGE, 8);
  cache.read(BASE + 60 * PAGE, 8);
  // Page 127 is gone (past the end of this memory) by the next sample.
  const moved = new SpanMemory();
  Object.assign(memory, {
    readInto: (a: number, l: number, t: Buffer, o: number) => moved.readInto!(a + PAGE, l, t, o),
  });
  cache.beginSample();
  assert.throws(() => cache.read(BASE + 127 * PAGE, 8), MemoryReadError);
  assert.deepEqual(cache.read(BASE + 60 * PAGE, 8), expected(BASE + 61 * PAGE, 8), 'read on demand');
});

test('beginFrom fetches the root page first, then the pages used since the last begin, in first-use order', () => {
  const memory = new SpanMemory();
  const cache = new PageCacheReader(memory);
  // A graph read last time: its root on page 7, then pages 30 and 7 again and 12.
  for (const address of [BASE + 7 * PAGE + 64, BASE + 30 * PAGE, BASE + 7 * PAGE + 900, BASE + 12 * PAGE]) {
    cache.read(address, 16);
  }
  cache.clear(); // a new sample: pages forgotten, the graph's pages remembered
  memory.generation = 1;
  cache.beginFrom(BASE + 12 * PAGE + 256);
  assert.deepEqual(memory.spanCalls, [[BASE + 12 * PAGE, BASE + 7 * PAGE, BASE + 30 * PAGE]], 'root page first, once');
  const readsAfterPrefetch = memory.reads.length;
  assert.deepEqual(cache.read(BASE + 30 * PAGE, 8), expected(BASE + 30 * PAGE, 8, 1), 'fresh data');
  assert.equal(memory.reads.length, readsAfterPrefetch, 'served from the prefetch');
  cache.beginFrom(BASE + 99 * PAGE);
  assert.deepEqual(memory.spanCalls.at(-1), [BASE + 99 * PAGE, BASE + 30 * PAGE], 'only what the last graph used');
});
