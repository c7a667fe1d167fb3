// Building blocks of the decoder fuzz tests: a seeded random source, mutations of recorded memory aimed at
// the structures decoders read, and a reader that fails a case on an oversized read or an endless loop of reads.
import { HotpathError, InvalidDataError, MemoryReadError } from '../../src/errors/index.js';
import { MAX_READ_BYTES, type MemoryReader } from '../../src/proc/index.js';
import { ReplayReader, type MemoryChunk } from './recorded-memory.js';

/** Deterministic 32-bit generator (mulberry32): the same seed gives the same case on every machine. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next32() / 2 ** 32) * n);
  }

  chance(p: number): boolean {
    return this.next32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** The only errors a decoder may throw on bad memory: anything else escaping is a bug. */
export function isExpectedDecodeError(err: unknown): boolean {
  return err instanceof InvalidDataError || err instanceof MemoryReadError || err instanceof HotpathError;
}

/** A decoder asked for more bytes in one read than any reader allows: a length read from memory went unchecked. */
export class OversizedReadError extends Error {}

/** A decoder kept reading far past what any real structure needs: a loop that torn memory does not end. */
export class ReadBudgetError extends Error {}

/** Reads allowed in one fuzz case: a full sample of a deep stack takes a few hundred. */
const READ_BUDGET = 100_000;

/** A ReplayReader that also enforces the fuzz properties on every read. */
export class FuzzReader implements MemoryReader {
  private readonly replay: ReplayReader;
  private reads = 0;

  constructor(chunks: readonly MemoryChunk[]) {
    this.replay = new ReplayReader(chunks);
  }

  read(address: number, length: number): Buffer {
    if (length > MAX_READ_BYTES) throw new OversizedReadError(`read of ${length} bytes at 0x${address.toString(16)}`);
    if (++this.reads > READ_BUDGET) throw new ReadBudgetError(`more than ${READ_BUDGET} reads in one case`);
    return this.replay.read(address, length);
  }

  close(): void {}
}

/** Values that break decoders most often when they land in a length, a count or a pointer. */
const INTERESTING_U64 = [
  0,
  1,
  2,
  7,
  8,
  0xff,
  0x7fffffff,
  0x80000000,
  0xffffffff,
  2 ** 32,
  2 ** 40,
  2 ** 47,
  2 ** 48,
  2 ** 53 - 1,
];
const INTERESTING_I32 = [0, 1, -1, 2, 0x7fffffff, -0x80000000, 0xffff, 128, 255, 4096];

/**
 * Memory with a few mutations, most of them within 256 bytes of `hot` addresses (the structures the decoder
 * under test reads), the rest anywhere. Only mutated chunks are copied; the recording itself is not changed.
 */
export function mutateMemory(
  chunks: readonly MemoryChunk[],
  hot: readonly number[],
  rng: Rng,
  mutations = 1 + rng.int(8),
): MemoryChunk[] {
  const result = [...chunks];
  const copied = new Set<number>();
  const chunkIndexAt = (address: number): number =>
    result.findIndex((c) => address >= c.address && address < c.address + c.data.length);
  for (let m = 0; m < mutations; m++) {
    let index: number;
    let offset: number;
    if (hot.length > 0 && rng.chance(0.75)) {
      const address = rng.pick(hot) + rng.int(256);
      index = chunkIndexAt(rng.chance(0.5) ? address - (address % 8) : address);
      if (index < 0) continue;
      offset = address - result[index]!.address;
    } else {
      index = rng.int(result.length);
      offset = rng.int(result[index]!.data.length);
    }
    if (!copied.has(index)) {
      result[index] = { address: result[index]!.address, data: Buffer.from(result[index]!.data) };
      copied.add(index);
    }
    applyMutation(result[index]!, offset, rng, chunks, hot);
  }
  return result;
}

function applyMutation(
  chunk: MemoryChunk,
  offset: number,
  rng: Rng,
  all: readonly MemoryChunk[],
  hot: readonly number[],
): void {
  const data = chunk.data;
  const room = data.length - offset;
  switch (rng.int(6)) {
    case 0:
      data[offset] = data[offset]! ^ (1 << rng.int(8));
      return;
    case 1:
      data[offset] = rng.int(256);
      return;
    case 2:
      if (room >= 8) writeU64(data, offset, pickU64(rng, chunk.address + offset, all, hot));
      return;
    case 3:
      if (room >= 4) data.writeInt32LE(rng.pick(INTERESTING_I32) | 0, offset);
      return;
    case 4:
      rng.bytes(Math.min(room, 8 + rng.int(56))).copy(data, offset);
      return;
    default:
      data.fill(rng.chance(0.5) ? 0 : 0xff, offset, offset + Math.min(room, 8 + rng.int(56)));
  }
}

/** A 64-bit value: a boundary, a pointer to recorded memory (so decoding goes on), or to the field itself (a cycle). */
function pickU64(rng: Rng, self: number, all: readonly MemoryChunk[], hot: readonly number[]): number {
  switch (rng.int(4)) {
    case 0:
      return rng.pick(INTERESTING_U64);
    case 1: {
      const chunk = rng.pick(all);
      return chunk.address + rng.int(chunk.data.length);
    }
    case 2:
      return hot.length > 0 ? rng.pick(hot) + 8 * rng.int(4) : self;
    default:
      return self - 8 * rng.int(8);
  }
}

function writeU64(data: Buffer, offset: number, value: number): void {
  data.writeUInt32LE((value % 2 ** 32) >>> 0, offset);
  data.writeUInt32LE((Math.floor(value / 2 ** 32) % 2 ** 32) >>> 0, offset + 4);
}
