// Recorded target memory for offline tests: a reader that records every read of a live process, the fixture
// file it becomes (base64 chunks, maps, where the runtime is, what decoding it gave), and a reader that
// replays it and fails on any address that was not recorded. Fixtures are written by scripts/record-fixtures.ts.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MemoryReadError } from '../../src/errors/index.js';
import type { MemoryReader } from '../../src/proc/index.js';
import type { ObjectReader, RuntimeLocation } from '../../src/cpython/index.js';

/** Where recordings live: test/fixtures, found from this module's compiled place, dist/test/support/. */
export const FIXTURES_DIR = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

/** The recording the fuzz tests start from. */
export const FUZZ_FIXTURE = 'recorded-3.12.json';

/**
 * The pid a replayed process is opened under: the replaying process itself, so that it is alive for as long as
 * the replay runs and a re-read (a torn or slow walk) is retried as against a live target, not ended as
 * "target exited". Nothing is read through it but /proc facts that recordings do not depend on.
 */
export const REPLAY_PID = process.pid;

export interface MemoryChunk {
  address: number;
  data: Buffer;
}

export interface RecordedFrame {
  name: string;
  file: string;
  line: number;
}

export interface RecordedThread {
  threadId: number;
  /** Only where the thread state itself holds it (3.11+); older versions find it through /proc. */
  nativeThreadId?: number;
  truncated: boolean;
  frames: RecordedFrame[];
  /** Addresses of the thread state and of each frame (innermost first), for targeted decoding. */
  threadStateAddress: number;
  frameAddresses: number[];
}

/** One recording: what a fixture file holds, with chunks decoded. */
export interface MemoryRecording {
  /** Full version of the recorded interpreter, e.g. "3.12.1". */
  python: string;
  /** How to record it again. */
  recordedBy: string;
  maps: string;
  location: Omit<RuntimeLocation, 'symbols' | 'notes'> & { symbols: Record<string, number> };
  chunks: MemoryChunk[];
  threads: RecordedThread[];
  /** Dicts held by the target's main() and their keys as decoded live (str keys as is, int keys as "int:N"). */
  dicts: Array<{ name: string; address: number; keys: string[] }>;
  /** An instance held by main() and its int attributes, as decoded live. */
  instance: { address: number; attributes: Record<string, number> };
  /** Objects worth decoding on their own, by kind: their addresses in the recorded memory. */
  objects: {
    codes: number[];
    strings: number[];
    bytes: number[];
    tuples: number[];
    ints: number[];
  };
}

interface FixtureFile extends Omit<MemoryRecording, 'chunks'> {
  chunks: Array<{ address: string; data: string }>;
}

export function loadRecording(file: string): MemoryRecording {
  const fixture = JSON.parse(fs.readFileSync(file, 'utf8')) as FixtureFile;
  return {
    ...fixture,
    chunks: fixture.chunks.map((chunk) => ({
      address: parseInt(chunk.address, 16),
      data: Buffer.from(chunk.data, 'base64'),
    })),
  };
}

export function saveRecording(file: string, recording: MemoryRecording): void {
  const fixture: FixtureFile = {
    ...recording,
    chunks: recording.chunks.map((chunk) => ({
      address: chunk.address.toString(16),
      data: chunk.data.toString('base64'),
    })),
  };
  fs.writeFileSync(file, `${JSON.stringify(fixture, null, 1)}\n`);
}

export function locationOf(recording: MemoryRecording): RuntimeLocation {
  return { ...recording.location, symbols: new Map(Object.entries(recording.location.symbols)), notes: [] };
}

/** Passes reads to `inner` and keeps a copy of every byte it returned. */
export class RecordingReader implements MemoryReader {
  private readonly reads: MemoryChunk[] = [];

  constructor(private readonly inner: MemoryReader) {}

  read(address: number, length: number): Buffer {
    const data = this.inner.read(address, length);
    this.reads.push({ address, data: Buffer.from(data) });
    return data;
  }

  close(): void {
    this.inner.close();
  }

  /** Everything read so far as non-overlapping chunks; where reads overlap, the later one wins. */
  chunks(): MemoryChunk[] {
    return mergeChunks(this.reads);
  }
}

function mergeChunks(reads: readonly MemoryChunk[]): MemoryChunk[] {
  const spans = [...reads]
    .map((r) => ({ start: r.address, end: r.address + r.data.length }))
    .sort((a, b) => a.start - b.start);
  const merged: Array<{ start: number; end: number }> = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  const chunks = merged.map(({ start, end }) => ({ address: start, data: Buffer.alloc(end - start) }));
  for (const read of reads) {
    const chunk = chunks.find((c) => read.address >= c.address && read.address < c.address + c.data.length)!;
    read.data.copy(chunk.data, read.address - chunk.address);
  }
  return chunks;
}

/** Serves reads from recorded chunks; a read not wholly inside one chunk fails as unmapped memory would. */
export class ReplayReader implements MemoryReader {
  /** Chunks sorted by address, for a binary search. */
  private readonly sorted: MemoryChunk[];
  reads = 0;

  constructor(chunks: readonly MemoryChunk[]) {
    this.sorted = [...chunks].sort((a, b) => a.address - b.address);
  }

  read(address: number, length: number): Buffer {
    this.reads++;
    const chunk = this.chunkAt(address);
    if (!chunk || address + length > chunk.address + chunk.data.length || length < 0) {
      throw new MemoryReadError(address, length, 'EIO');
    }
    // A copy, as /proc/PID/mem gives: a caller that changes the buffer must not change the recording.
    return Buffer.from(chunk.data.subarray(address - chunk.address, address - chunk.address + length));
  }

  close(): void {}

  private chunkAt(address: number): MemoryChunk | undefined {
    let low = 0;
    let high = this.sorted.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const chunk = this.sorted[middle]!;
      if (address < chunk.address) high = middle - 1;
      else if (address >= chunk.address + chunk.data.length) low = middle + 1;
      else return chunk;
    }
    return undefined;
  }
}

/** A dict's keys as text: str keys as they are, int keys as "int:N". */
export function decodeDictKeys(objects: ObjectReader, dict: number): string[] {
  return objects
    .readDict(dict)
    .map(({ key }) => (objects.typeName(key) === 'int' ? `int:${objects.readInt(key)}` : objects.readStr(key)));
}
