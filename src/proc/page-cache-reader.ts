// A MemoryReader that reads whole 4 KiB pages and serves every read within them from memory until
// `clear()`. Reading /proc/PID/mem costs about the same for 64 bytes as for 4 KiB, and a thread's
// frames, thread state and interpreter state sit close together, so one sample needs a few page
// reads instead of one read per struct. Call `clear()` before each sample: target memory changes.
// Pages live in one reused slab, so a sample allocates no page buffers: a buffer read() returns is
// valid until the next clear().
// With a reader that copies scattered ranges in one call (process_vm_readv), beginSample() fetches every page the
// previous sample used at once, followed by "closing" ranges the caller names (a thread's frame pointer): taken
// after every page, those copies tell whether what the pages show still held at the end of the call. A steady
// stack then costs one system call.

import { MemoryReadError } from '../errors/index.js';
import type { MemoryReader } from './memory-reader.js';

const PAGE = 4096;
/** Reads larger than this go straight to the target: they are rare and would evict useful pages. */
const MAX_CACHED_READ = 4 * PAGE;
const INITIAL_SLAB_PAGES = 64;
/** A sample that read more pages than this (huge stacks, many threads) fetches the rest as it goes. */
const MAX_PREFETCH_PAGES = 256;

export class PageCacheReader implements MemoryReader {
  /** Page number → offset of its copy in the slab. */
  private pages = new Map<number, number>();
  /** Pages the reads of this sample used, in the order first used: what the next sample fetches at once. */
  private used = new Set<number>();
  private slab = Buffer.allocUnsafe(INITIAL_SLAB_PAGES * PAGE);
  /** Bytes of the slab filled since the last clear(). */
  private filled = 0;
  /** Reads that reached the target since construction: for the benchmark and tests. */
  targetReads = 0;
  private spans = new Float64Array(0);
  /** The closing ranges of this sample's prefetch (address → slab offset and length), while they are valid. */
  private closing = new Map<number, { offset: number; length: number }>();

  constructor(private readonly inner: MemoryReader) {}

  /** Forgets every page (not which pages were used: see beginFrom). */
  clear(): void {
    this.pages.clear();
    this.closing.clear();
    this.filled = 0;
    if (this.used.size > MAX_PREFETCH_PAGES) this.used.clear();
  }

  /**
   * Starts a sample: forgets every page, then, where the reader can read scattered ranges at once, fetches again
   * the pages the previous sample used (thread states, frames and code objects of stacks that mostly stay) and
   * after them `closing`, (address, length) pairs to check the sample against (see closingCopy).
   */
  beginSample(closing: readonly number[] = []): void {
    this.fetchUsedPages(undefined, closing);
  }

  /**
   * Forgets every page, then fetches in one call the page holding `root` and, after it, the pages used since the
   * last beginFrom or beginSample: what the previous graph of objects read from a root of the same kind used (a
   * request's dict, its keys, their strings). Every page is copied after the root's, so a graph whose root is
   * checked afterwards (a dict's version tag read again) is consistent with itself.
   */
  beginFrom(root: number): void {
    this.fetchUsedPages(Math.floor(root / PAGE), []);
  }

  private fetchUsedPages(firstPage: number | undefined, closing: readonly number[]): void {
    const spanCount = this.inner.readSpans ? this.planPrefetch(firstPage, closing) : 0;
    this.clear();
    this.used.clear();
    if (spanCount === 0) return;
    const spans = this.spans;
    const pageSpans = spanCount - closing.length / 2;
    this.reserve(spans[(spanCount - 1) * 3 + 2]! + spans[(spanCount - 1) * 3 + 1]!);
    this.targetReads++;
    const whole = this.inner.readSpans!(spans, spanCount, this.slab);
    for (let i = 0; i < Math.min(whole, pageSpans); i++) {
      const [address, length, offset] = [spans[i * 3]!, spans[i * 3 + 1]!, spans[i * 3 + 2]!];
      for (let at = 0; at < length; at += PAGE) this.pages.set((address + at) / PAGE, offset + at);
    }
    this.filled = spans[(spanCount - 1) * 3 + 2]! + spans[(spanCount - 1) * 3 + 1]!;
    if (whole < spanCount) return;
    for (let i = pageSpans; i < spanCount; i++) {
      this.closing.set(spans[i * 3]!, { length: spans[i * 3 + 1]!, offset: spans[i * 3 + 2]! });
    }
  }

  /**
   * The copy of a closing range taken at the end of this sample's prefetch, after every page; undefined when it
   * was not asked for or the prefetch was not whole. It proves something only about data that came from the
   * prefetch: a caller checks that no read reached the target (targetReads) while it read what it compares.
   */
  closingCopy(address: number, length: number): Buffer | undefined {
    const range = this.closing.get(address);
    return range?.length === length ? this.slab.subarray(range.offset, range.offset + length) : undefined;
  }

  /**
   * Spans for `firstPage` if given, then the previous sample's pages in the order they were first used, as runs of
   * pages that follow each other in both order and address, then the closing ranges; returns how many. That order
   * is the order of dependence (a thread state, then its frames, then their code objects), kept because the kernel
   * copies spans one after the other: a code object copied after the frame that runs it is that frame's, or a
   * later one.
   */
  private planPrefetch(firstPage: number | undefined, closing: readonly number[]): number {
    const { pages, count } = this.pagesToFetch(firstPage);
    const pageCount = Math.min(count, MAX_PREFETCH_PAGES);
    const maxSpans = pageCount + closing.length / 2;
    if (this.spans.length < maxSpans * 3) this.spans = new Float64Array(maxSpans * 3);
    const spans = this.spans;
    let spanCount = 0;
    let offset = 0;
    let previous = -1;
    for (const page of pages) {
      if (offset === pageCount * PAGE) break;
      if (spanCount > 0 && page === previous + 1) {
        spans[(spanCount - 1) * 3 + 1] += PAGE;
      } else {
        spans.set([page * PAGE, PAGE, offset], spanCount * 3);
        spanCount++;
      }
      previous = page;
      offset += PAGE;
    }
    if (spanCount === 0) return 0;
    for (let i = 0; i < closing.length; i += 2) {
      spans.set([closing[i]!, closing[i + 1]!, offset], spanCount * 3);
      spanCount++;
      offset += closing[i + 1]!;
    }
    return spanCount;
  }

  private pagesToFetch(firstPage: number | undefined): { pages: Iterable<number>; count: number } {
    if (firstPage === undefined) return { pages: this.used, count: this.used.size };
    const pages = [firstPage, ...[...this.used].filter((page) => page !== firstPage)];
    return { pages, count: pages.length };
  }

  read(address: number, length: number): Buffer {
    if (length > MAX_CACHED_READ || length <= 0) return this.readThrough(address, length);
    const firstPage = Math.floor(address / PAGE);
    const lastPage = Math.floor((address + length - 1) / PAGE);
    this.fillPages(firstPage, lastPage);
    for (let page = firstPage; page <= lastPage; page++) this.used.add(page);
    const start = this.pages.get(firstPage)! + (address - firstPage * PAGE);
    if (this.isContiguous(firstPage, lastPage)) return this.slab.subarray(start, start + length);
    const joined = Buffer.allocUnsafe(length);
    let written = 0;
    for (let page = firstPage; page <= lastPage; page++) {
      const pageStart = this.pages.get(page)!;
      const from = page === firstPage ? start : pageStart;
      written += this.slab.copy(joined, written, from, Math.min(pageStart + PAGE, from + length - written));
    }
    return joined;
  }

  close(): void {
    this.inner.close();
  }

  /** Whether pages first..last sit back to back in the slab (always so when one read filled them). */
  private isContiguous(first: number, last: number): boolean {
    const base = this.pages.get(first)!;
    for (let page = first + 1; page <= last; page++)
      if (this.pages.get(page) !== base + (page - first) * PAGE) return false;
    return true;
  }

  /** Reads every missing page of [first, last] in as few reads as possible. */
  private fillPages(first: number, last: number): void {
    for (let page = first; page <= last; page++) {
      if (this.pages.has(page)) continue;
      let end = page;
      while (end < last && !this.pages.has(end + 1)) end++;
      const length = (end - page + 1) * PAGE;
      const offset = this.reserve(length);
      this.readThroughInto(page * PAGE, length, offset);
      for (let p = page; p <= end; p++) this.pages.set(p, offset + (p - page) * PAGE);
      this.filled += length;
      page = end;
    }
  }

  /** Where `length` more bytes go in the slab, growing it (and keeping what it holds) when full. */
  private reserve(length: number): number {
    if (this.filled + length > this.slab.length) {
      // Buffers handed out this sample keep pointing into the old slab, which is no longer written.
      const bigger = Buffer.allocUnsafe(Math.max(this.slab.length * 2, this.filled + length));
      this.slab.copy(bigger, 0, 0, this.filled);
      this.slab = bigger;
    }
    return this.filled;
  }

  private readThroughInto(address: number, length: number, offset: number): void {
    this.targetReads++;
    try {
      if (this.inner.readInto) this.inner.readInto(address, length, this.slab, offset);
      else this.inner.read(address, length).copy(this.slab, offset);
    } catch (err) {
      if (err instanceof MemoryReadError) throw new MemoryReadError(address, length, err.code);
      throw err;
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
