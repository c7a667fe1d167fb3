// walkFrames on hand-built 3.13 frame chains of C-stack shims (owner 3, skipped without reading code objects):
// chains end, cycles of any length are refused, and frames on page boundaries or behind a reader that serves
// only the frames themselves are still walked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodeReader, walkFrames } from '../../src/cpython/index.js';
import { layout } from '../../src/cpython/layouts/v3-13.js';
import { InvalidDataError, MemoryReadError } from '../../src/errors/index.js';
import { PageCacheReader, type MemoryReader } from '../../src/proc/index.js';

const f = layout.interpreterFrame;
const PAGE = 4096;
const BASE = 0x7f00_0000_0000;

/** Frames placed at addresses, each a shim pointing at `previous`; only their own bytes are readable. */
class FrameMemory implements MemoryReader {
  reads = 0;
  private readonly frames = new Map<number, Buffer>();

  place(address: number, previous: number): void {
    const bytes = Buffer.alloc(f.size);
    bytes.writeBigUInt64LE(BigInt(previous), f.previous);
    bytes.writeUInt8(f.ownerCStack!, f.owner!);
    this.frames.set(address, bytes);
  }

  read(address: number, length: number): Buffer {
    this.reads++;
    const out = Buffer.alloc(length);
    for (const [start, bytes] of this.frames) {
      const from = Math.max(start, address);
      const to = Math.min(start + bytes.length, address + length);
      if (from < to) bytes.copy(out, from - address, from - start, to - start);
    }
    if (!this.frames.has(address) && !this.servesPages) throw new MemoryReadError(address, length, 'EIO');
    return out;
  }

  constructor(private readonly servesPages: boolean) {}

  close(): void {}
}

function chain(memory: FrameMemory, addresses: readonly number[], last = 0): void {
  addresses.forEach((address, i) => memory.place(address, addresses[i + 1] ?? last));
}

function walk(memory: MemoryReader, innermost: number, maxDepth?: number) {
  return walkFrames(memory, layout, new CodeReader(memory, layout), innermost, maxDepth);
}

// Frames pushed upwards on a chunk: the innermost has the highest address. One crosses a page boundary.
const CHUNK = [BASE + 3 * f.size, BASE + 2 * f.size, BASE + f.size, BASE];
const ACROSS_PAGES = [BASE + 2 * PAGE - 40, BASE + PAGE + 8, BASE + 5 * PAGE + 104];

for (const servesPages of [true, false]) {
  const kind = servesPages ? 'a page-serving reader' : 'a reader of the frames alone';

  test(`a chain ends at a null previous pointer (${kind})`, () => {
    const memory = new FrameMemory(servesPages);
    chain(memory, [...CHUNK, ...ACROSS_PAGES]);
    assert.deepEqual(walk(memory, CHUNK[0]!), { frames: [], truncated: false });
    if (servesPages) assert.ok(memory.reads < CHUNK.length + ACROSS_PAGES.length, 'frames of one page share a read');
  });

  test(`cycles of length 1, 2, 3 and 7 are refused (${kind})`, () => {
    for (const length of [1, 2, 3, 7]) {
      const memory = new FrameMemory(servesPages);
      const loop = Array.from({ length }, (_, i) => BASE + PAGE * 3 + i * f.size);
      chain(memory, [BASE + PAGE * 9, BASE + PAGE * 8, ...loop], loop[0]);
      assert.throws(() => walk(memory, BASE + PAGE * 9), InvalidDataError, `cycle of ${length}`);
    }
  });
}

test('C-stack shims do not count towards the depth limit', () => {
  const memory = new FrameMemory(true);
  chain(
    memory,
    Array.from({ length: 10 }, (_, i) => BASE + (9 - i) * f.size),
  );
  assert.deepEqual(walk(memory, BASE + 9 * f.size, 5), { frames: [], truncated: false });
});

test('behind the page cache, a chunk of frames costs one page read', () => {
  const memory = new FrameMemory(true);
  chain(memory, CHUNK);
  const cache = new PageCacheReader(memory);
  walk(cache, CHUNK[0]!);
  assert.equal(cache.targetReads, 1);
});
