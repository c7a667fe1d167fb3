// Reads target memory with process_vm_readv through hotpath's small native addon (src/proc/native/vm-read.c),
// which copies many scattered ranges in one system call: a sample's known pages arrive together instead of
// one pread each. /proc/PID/mem stays open behind it: it answers whatever the addon cannot (no addon built,
// a seccomp filter that forbids the call, pages only ptrace may read) and is what tells that the process
// replaced its program, since it stays bound to the address space it was opened on.

import { createRequire } from 'node:module';
import { MemoryReadError } from '../errors/index.js';
import { MAX_READ_BYTES, ProcMemoryReader, type MemoryReader } from './memory-reader.js';

interface VmReadBinding {
  /** Bytes copied for (address, length, offset) triples, stopping at the first unreadable range; -errno on failure. */
  readSpans(pid: number, into: Buffer, spans: Float64Array, count: number): number;
}

/** The addon takes at most this many ranges per call. */
export const MAX_SPANS_PER_READ = 512;
/** How often, at most, /proc/PID/mem confirms that the address space read is still the one attached to. */
const EXEC_CHECK_EVERY_MS = 200;
const EPERM = 1;
const ENOSYS = 38;

/** The addon where it was built and is not disabled (HOTPATH_NATIVE=0); undefined otherwise. */
export function loadVmReadBinding(): VmReadBinding | undefined {
  if (process.env.HOTPATH_NATIVE === '0') return undefined;
  try {
    // dist/src/proc/vm-reader.js → dist/native/vm-read.node, built by scripts/build-native.mjs
    return createRequire(import.meta.url)('../../native/vm-read.node') as VmReadBinding;
  } catch {
    return undefined;
  }
}

/** The fastest reader this machine allows for `pid`. */
export function openMemoryReader(pid: number): MemoryReader {
  const fallback = new ProcMemoryReader(pid);
  const binding = loadVmReadBinding();
  return binding ? new VmReader(pid, binding, fallback) : fallback;
}

export class VmReader implements MemoryReader {
  private readonly single = new Float64Array(3);
  private readonly probe = Buffer.allocUnsafe(1);
  private execCheckedAt = performance.now();
  /** An address read before: where the exec check probes /proc/PID/mem. */
  private lastAddress = 0;

  constructor(
    readonly pid: number,
    private binding: VmReadBinding | undefined,
    private readonly fallback: ProcMemoryReader,
  ) {}

  read(address: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length >= 0 && length <= MAX_READ_BYTES ? length : 0);
    this.readInto(address, length, buf, 0);
    return buf;
  }

  readInto(address: number, length: number, target: Buffer, offset: number): void {
    if (length < 0 || length > MAX_READ_BYTES || !Number.isSafeInteger(address) || address <= 0) {
      throw new MemoryReadError(address, length, 'EINVAL');
    }
    this.single[0] = address;
    this.single[1] = length;
    this.single[2] = offset;
    if (this.readSpans(this.single, 1, target) !== 1) this.fallback.readInto(address, length, target, offset);
  }

  /**
   * Reads (address, length, offset in `into`) triples, in one system call per MAX_SPANS_PER_READ; returns how
   * many leading ranges arrived whole (the rest are left to single reads, which report what is wrong).
   */
  readSpans(spans: Float64Array, count: number, into: Buffer): number {
    if (!this.binding) return 0;
    this.checkAddressSpaceAtTimes(spans[0]!);
    let done = 0;
    while (done < count) {
      const batch = Math.min(count - done, MAX_SPANS_PER_READ);
      const copied = this.binding.readSpans(this.pid, into, spans.subarray(done * 3), batch);
      if (copied < 0) {
        // Forbidden here (seccomp, an old kernel): /proc/PID/mem from now on.
        if (copied === -EPERM || copied === -ENOSYS) this.binding = undefined;
        return done;
      }
      const whole = wholeSpans(spans, done, batch, copied);
      done += whole;
      if (whole < batch) return done;
    }
    return done;
  }

  close(): void {
    this.fallback.close();
  }

  /** Throws MemoryReadError ESRCH once the process has replaced its program, probing /proc/PID/mem now. */
  checkAddressSpace(): void {
    this.execCheckedAt = performance.now();
    try {
      this.fallback.readInto(this.lastAddress, 1, this.probe, 0);
    } catch (err) {
      if (err instanceof MemoryReadError && err.code === 'ESRCH') throw err;
    }
  }

  /** process_vm_readv reads whatever the pid runs now: every EXEC_CHECK_EVERY_MS, make sure that is still the program. */
  private checkAddressSpaceAtTimes(address: number): void {
    this.lastAddress = address;
    if (performance.now() - this.execCheckedAt >= EXEC_CHECK_EVERY_MS) this.checkAddressSpace();
  }
}

/** How many of the `count` spans from `first` the `copied` bytes fill completely. */
function wholeSpans(spans: Float64Array, first: number, count: number, copied: number): number {
  let remaining = copied;
  for (let i = 0; i < count; i++) {
    const length = spans[(first + i) * 3 + 1]!;
    if (remaining < length) return i;
    remaining -= length;
  }
  return count;
}
