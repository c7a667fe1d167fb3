// Minimal ELF64 little-endian reader: headers, sections, symbols and the load bias of a mapped image.
// Enough to find CPython's `_PyRuntime` in PIE and non-PIE executables and shared libraries. Every offset and
// size in the file is checked against the file's length before it is read: a damaged file is an
// InvalidDataError, never a huge allocation or an out-of-range read.

import fs from 'node:fs';
import { HotpathError, InvalidDataError } from '../errors/index.js';
import { cString, u16, u32, u64 } from '../proc/bytes.js';

export const ET_EXEC = 2;
export const ET_DYN = 3;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const SHT_NOTE = 7;
const MAX_SECTIONS = 4096;
const MAX_SYMBOL_TABLE_BYTES = 64 * 1024 * 1024;

export interface ElfSection {
  name: string;
  type: number;
  address: number;
  offset: number;
  size: number;
  link: number;
  entrySize: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
}

export interface ElfLoadSegment {
  vaddr: number;
  offset: number;
  fileSize: number;
  memSize: number;
}

export class ElfFile {
  readonly type: number;
  readonly sections: ElfSection[];
  readonly loadSegments: ElfLoadSegment[];
  private symbolCache = new Map<string, Map<string, ElfSymbol>>();
  private readonly fileSize: number;

  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {
    this.fileSize = fs.fstatSync(fd).size;
    if (this.fileSize < 64) throw new HotpathError('not-python', `${path} is not an ELF file (too short)`);
    const header = this.readAt(0, 64);
    if (header.readUInt32BE(0) !== 0x7f454c46) throw new HotpathError('not-python', `${path} is not an ELF file`);
    if (header[4] !== 2 || header[5] !== 1) {
      throw new HotpathError('not-supported', `${path} is not a 64-bit little-endian ELF file`);
    }
    this.type = u16(header, 16);
    this.loadSegments = this.readLoadSegments(u64(header, 32), u16(header, 54), u16(header, 56));
    this.sections = this.readSections(u64(header, 40), u16(header, 58), u16(header, 60), u16(header, 62));
  }

  static open(path: string): ElfFile {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (err) {
      throw new HotpathError('io', `cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
      return new ElfFile(path, fd);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** `length` bytes at file `offset`; throws InvalidDataError when they are not all inside the file. */
  readAt(offset: number, length: number): Buffer {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new InvalidDataError(`${this.path}: damaged ELF file: bad offset ${offset} or size ${length}`);
    }
    if (offset + length > this.fileSize) {
      throw new InvalidDataError(`${this.path}: damaged ELF file: ${length} bytes at ${offset} lie beyond its end`);
    }
    const buf = Buffer.alloc(length);
    const got = fs.readSync(this.fd, buf, 0, length, offset);
    if (got !== length) throw new HotpathError('io', `${this.path}: short read at ${offset}`);
    return buf;
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((section) => section.name === name);
  }

  /** Looks a symbol up in .dynsym, then .symtab (stripped builds keep only the former). */
  findSymbol(name: string): ElfSymbol | undefined {
    for (const table of ['.dynsym', '.symtab']) {
      const symbol = this.symbols(table).get(name);
      if (symbol && symbol.value !== 0) return symbol;
    }
    return undefined;
  }

  /** The GNU build-id as hex, if the file has one. */
  buildId(): string | undefined {
    const note = this.sections.find((s) => s.type === SHT_NOTE && s.name === '.note.gnu.build-id');
    if (!note || note.size < 16 || note.size > 1024) return undefined;
    const data = this.readAt(note.offset, note.size);
    const nameSize = u32(data, 0);
    const descSize = u32(data, 4);
    const descStart = 12 + Math.ceil(nameSize / 4) * 4;
    return data.subarray(descStart, descStart + descSize).toString('hex');
  }

  /** Virtual address of file offset 0, i.e. what to subtract from a mapping's base to get the load bias. */
  imageBaseVaddr(): number {
    const first = this.loadSegments[0];
    return first ? first.vaddr - first.offset : 0;
  }

  private symbols(tableName: string): Map<string, ElfSymbol> {
    const cached = this.symbolCache.get(tableName);
    if (cached) return cached;
    const result = new Map<string, ElfSymbol>();
    const wantedType = tableName === '.dynsym' ? SHT_DYNSYM : SHT_SYMTAB;
    const table = this.sections.find((s) => s.name === tableName && s.type === wantedType);
    const strings = table ? this.sections[table.link] : undefined;
    if (table && strings && table.size <= MAX_SYMBOL_TABLE_BYTES && strings.size <= MAX_SYMBOL_TABLE_BYTES) {
      const data = this.readAt(table.offset, table.size);
      const names = this.readAt(strings.offset, strings.size);
      for (let offset = 0; offset + 24 <= data.length; offset += 24) {
        const name = cString(names, u32(data, offset));
        if (name) result.set(name, { name, value: u64(data, offset + 8), size: u64(data, offset + 16) });
      }
    }
    this.symbolCache.set(tableName, result);
    return result;
  }

  private readLoadSegments(offset: number, entrySize: number, count: number): ElfLoadSegment[] {
    if (count === 0 || count > MAX_SECTIONS || entrySize < 56) return [];
    const data = this.readAt(offset, entrySize * count);
    const segments: ElfLoadSegment[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * entrySize;
      if (u32(data, at) !== PT_LOAD) continue;
      segments.push({
        offset: u64(data, at + 8),
        vaddr: u64(data, at + 16),
        fileSize: u64(data, at + 32),
        memSize: u64(data, at + 40),
      });
    }
    return segments.sort((a, b) => a.vaddr - b.vaddr);
  }

  private readSections(offset: number, entrySize: number, count: number, namesIndex: number): ElfSection[] {
    if (count === 0 || count > MAX_SECTIONS || entrySize < 64) return [];
    const data = this.readAt(offset, entrySize * count);
    const raw = Array.from({ length: count }, (_, i) => {
      const at = i * entrySize;
      return {
        nameOffset: u32(data, at),
        type: u32(data, at + 4),
        address: u64(data, at + 16),
        offset: u64(data, at + 24),
        size: u64(data, at + 32),
        link: u32(data, at + 40),
        entrySize: u64(data, at + 56),
      };
    });
    const namesSection = raw[namesIndex];
    const names = namesSection ? this.readAt(namesSection.offset, namesSection.size) : Buffer.alloc(0);
    return raw.map(({ nameOffset, ...rest }) => ({ name: cString(names, nameOffset), ...rest }));
  }
}
