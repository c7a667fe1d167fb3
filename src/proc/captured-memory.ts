// Ranges of a target's memory copied earlier (by the native sampling loop, along with a sample), read back through
// the MemoryReader interface: what they held then, even if the target has freed or reused them since.

import { MemoryReadError } from '../errors/index.js';
import type { MemoryReader } from './memory-reader.js';

export class CapturedMemory implements MemoryReader {
  private readonly ranges: { address: number; bytes: Buffer }[] = [];

  add(address: number, bytes: Buffer): void {
    this.ranges.push({ address, bytes });
  }

  /** Whether `length` bytes at `address` were copied, in one range. */
  holds(address: number, length: number): boolean {
    return this.rangeOf(address, length) !== undefined;
  }

  read(address: number, length: number): Buffer {
    const range = this.rangeOf(address, length);
    if (!range) throw new MemoryReadError(address, length, 'not captured');
    return range.bytes.subarray(address - range.address, address - range.address + length);
  }

  close(): void {}

  private rangeOf(address: number, length: number): { address: number; bytes: Buffer } | undefined {
    return this.ranges.find((r) => address >= r.address && address + length <= r.address + r.bytes.length);
  }
}
