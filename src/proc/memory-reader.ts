// The one interface through which every byte of the target is read, and its /proc/PID/mem implementation.
// Decoders only see MemoryReader, so tests can replay recorded memory and fuzz with garbage.

import fs from 'node:fs';
import { HotpathError, MemoryReadError } from '../errors/index.js';
import { permissionHint } from './permissions.js';

export interface MemoryReader {
  /** Reads exactly `length` bytes at `address` or throws MemoryReadError. */
  read(address: number, length: number): Buffer;
  /** Like read(), into `target` at `offset`, where the reader can do so without allocating. */
  readInto?(address: number, length: number, target: Buffer, offset: number): void;
  /**
   * Reads (address, length, offset in `into`) triples of `spans` with as few system calls as the reader can
   * (process_vm_readv); returns how many leading ranges arrived whole. Readers without it read range by range.
   */
  readSpans?(spans: Float64Array, count: number, into: Buffer): number;
  /** Throws MemoryReadError ESRCH, as /proc/PID/mem reads do, once the process has replaced its program (exec). */
  checkAddressSpace?(): void;
  close(): void;
}

/** Upper bound for any single read; lengths come from target memory and must not allocate unboundedly. */
export const MAX_READ_BYTES = 16 * 1024 * 1024;

export class ProcMemoryReader implements MemoryReader {
  private fd: number | undefined;

  constructor(readonly pid: number) {
    this.fd = openMem(pid);
  }

  read(address: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length >= 0 && length <= MAX_READ_BYTES ? length : 0);
    this.readInto(address, length, buf, 0);
    return buf;
  }

  readInto(address: number, length: number, target: Buffer, offset: number): void {
    if (this.fd === undefined) throw new MemoryReadError(address, length, 'closed');
    if (length < 0 || length > MAX_READ_BYTES || !Number.isSafeInteger(address) || address <= 0) {
      throw new MemoryReadError(address, length, 'EINVAL');
    }
    let got: number;
    try {
      got = fs.readSync(this.fd, target, offset, length, address);
    } catch (err) {
      throw new MemoryReadError(address, length, (err as NodeJS.ErrnoException).code ?? 'EIO');
    }
    if (got !== length) throw new MemoryReadError(address, length, got === 0 ? 'ESRCH' : 'short');
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function openMem(pid: number): number {
  try {
    return fs.openSync(`/proc/${pid}/mem`, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') {
      throw new HotpathError('no-such-process', `no process with pid ${pid}`);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new HotpathError(
        'permission-denied',
        `permission denied reading the memory of pid ${pid}`,
        permissionHint(pid),
      );
    }
    throw new HotpathError('io', `cannot open /proc/${pid}/mem: ${String(err)}`);
  }
}
