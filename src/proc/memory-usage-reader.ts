// A process's resident set size at one pread per reading: /proc/PID/statm stays open between samples, as the
// thread stat files do (see thread-stat-reader.ts). Files of processes not read since the previous sweep are
// closed by sweep(), so processes that ended give their descriptors back.

import fs from 'node:fs';

/** statm's first two fields (total and resident pages) fit well within this: pages of a 64-bit space have 11 digits. */
const STATM_HEAD_BYTES = 64;
const SPACE = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** The auxiliary vector's entry that holds the page size (AT_PAGESZ in <elf.h>). */
const AT_PAGESZ = 6;
const AUXV_ENTRY_BYTES = 16;
const FALLBACK_PAGE_BYTES = 4096;

interface OpenStatm {
  fd: number;
  generation: number;
}

export class MemoryUsageReader {
  private readonly files = new Map<number, OpenStatm>();
  private readonly head = Buffer.allocUnsafe(STATM_HEAD_BYTES);
  private readonly pageBytes = readPageSize();
  private generation = 0;

  /** Resident set size in bytes; undefined when the process cannot be read (it ended, or is a zombie). */
  readResidentBytes(pid: number): number | undefined {
    const file = this.openFile(pid);
    if (!file) return undefined;
    let length: number;
    try {
      length = fs.readSync(file.fd, this.head, 0, STATM_HEAD_BYTES, 0);
    } catch {
      length = 0;
    }
    const pages = decodeStatmResidentPages(this.head, length);
    if (pages === undefined) {
      // The process ended (reads fail with ESRCH, a zombie's are all zeros); its pid may come back as another.
      this.closeFile(pid, file);
      return undefined;
    }
    return pages * this.pageBytes;
  }

  /** Closes the files of processes not read since the previous sweep. */
  sweep(): void {
    for (const [pid, file] of this.files) if (file.generation !== this.generation) this.closeFile(pid, file);
    this.generation++;
  }

  close(): void {
    for (const [pid, file] of this.files) this.closeFile(pid, file);
  }

  private openFile(pid: number): OpenStatm | undefined {
    let file = this.files.get(pid);
    if (!file) {
      try {
        file = { fd: fs.openSync(`/proc/${pid}/statm`, 'r'), generation: this.generation };
      } catch {
        return undefined;
      }
      this.files.set(pid, file);
    }
    file.generation = this.generation;
    return file;
  }

  private closeFile(pid: number, file: OpenStatm): void {
    this.files.delete(pid);
    try {
      fs.closeSync(file.fd);
    } catch {
      // already closed
    }
  }
}

/**
 * The resident pages of a statm line ("size resident shared text lib data dt"), without making a string.
 * Undefined for a line that is cut short or describes no memory at all (a process that has ended).
 */
export function decodeStatmResidentPages(bytes: Uint8Array, length: number): number | undefined {
  const fields: number[] = [];
  let value = -1;
  for (let i = 0; i < length && fields.length < 2; i++) {
    const byte = bytes[i]!;
    if (byte >= DIGIT_0 && byte <= DIGIT_9) {
      value = (value < 0 ? 0 : value * 10) + (byte - DIGIT_0);
    } else if (byte === SPACE && value >= 0) {
      fields.push(value);
      value = -1;
    } else {
      return undefined;
    }
  }
  const [size, resident] = fields;
  return size === undefined || resident === undefined || size === 0 ? undefined : resident;
}

/** The kernel's page size from our own auxiliary vector: statm counts pages. */
function readPageSize(): number {
  try {
    const auxv = fs.readFileSync('/proc/self/auxv');
    for (let at = 0; at + AUXV_ENTRY_BYTES <= auxv.length; at += AUXV_ENTRY_BYTES) {
      if (auxv.readBigUInt64LE(at) === BigInt(AT_PAGESZ)) return Number(auxv.readBigUInt64LE(at + 8));
    }
  } catch {
    // no /proc/self/auxv: keep the x86-64 page size
  }
  return FALLBACK_PAGE_BYTES;
}
