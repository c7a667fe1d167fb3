// A MemoryReader that reads whole 4 KiB pages and serves every read within them from memory until
// `clear()`. Reading /proc/PID/mem costs about the same for 64 bytes as for 4 KiB, and a thread's
// frames, thread state and interpreter state sit close together, so one sample needs a few page
// reads instead of one read per struct. Call `clear()` before each sample: target memory changes.

import { MemoryReadError } from '../errors/index.js';
import type { MemoryReader } from './memory-reader.js';

const PAGE = 4096;
/** Reads larger than this go straight to the target: they are rare and would evict useful pages. */
const MAX_CACHED_READ = 4 * PAGE;

export class PageCacheReader implements MemoryReader {
  private pages = new Map<number, Buffer>();
  /** Reads that reached the target since construction: for the benchmark and tests. */
  targetReads = 0;

  constructor(private readonly inner: MemoryReader) {}

  clear(): void {
    this.pages.clear();
  }

  read(address: number, length: number): Buffer {
    if (length > MAX_CACHED_READ || length <= 0) return this.readThrough(address, length);
    const firstPage = Math.floor(address / PAGE);
    const lastPage = Math.floor((address + length - 1) / PAGE);
    this.fillPages(firstPage, lastPage);
    const offset = address - firstPage * PAGE;
    if (firstPage === lastPage) return this.pages.get(firstPage)!.subarray(offset, offset + length);
    const joined = Buffer.allocUnsafe(length);
    let written = 0;
    for (let page = firstPage; page <= lastPage; page++) {
      const start = page === firstPage ? offset : 0;
      const end = Math.min(PAGE, start + length - written);
      written += this.pages.get(page)!.copy(joined, written, start, end);
    }
    return joined;
  }

  close(): void {
    this.inner.close();
  }

  /** Reads every missing page of [first, last] in as few reads as possible. */
  private fillPages(first: number, last: number): void {
    for (let page = first; page <= last; page++) {
      if (this.pages.has(page)) continue;
      let end = page;
      while (end < last && !this.pages.has(end + 1)) end++;
      const data = this.readThrough(page * PAGE, (end - page + 1) * PAGE);
      for (let p = page; p <= end; p++) this.pages.set(p, data.subarray((p - page) * PAGE, (p - page + 1) * PAGE));
      page = end;
    }
  }

  private readThrough(address: number, length: number): Buffer {
    this.targetReads++;
    try {
      return this.inner.read(address, length);
    } catch (err) {
      if (err instanceof MemoryReadError) throw new MemoryReadError(address, length, err.code);
      throw err;
    }
  }
}
