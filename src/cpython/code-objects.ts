// Reads code objects (function name, qualified name, file, first line, line table) with a cache.
// Code objects are immutable, but a freed one's address can be reused by another (exec/compile in a loop
// frees and reallocates them within a millisecond): each cache entry keeps a fingerprint of the object's
// header, which `check` compares with the target (through the per-sample page cache). The stack reader
// checks the code objects of frames that are new since its last sample (a frame that went on running holds
// its code object alive), and a frame whose instruction pointer falls outside its cached code object
// re-reads it, so a reused address never keeps a wrong name.

import { InvalidDataError, MemoryReadError } from '../errors/index.js';
import { i32, isPlausiblePointer, u64, type MemoryReader } from '../proc/index.js';
import type { PythonLayout } from './layout.js';
import { decodeLinetable310Line, decodeLnotabLine, decodeLocationTableLine } from './line-tables.js';
import { readBytes, readTypeName, readUnicode } from './objects.js';

export interface CodeInfo {
  address: number;
  name: string;
  /** co_qualname where the version has it (3.11+), else co_name. */
  qualname: string;
  filename: string;
  firstLine: number;
  lineTable: Buffer;
  /** Address of the first instruction (3.11+), for instruction pointers. */
  codeStart: number;
  /** Address just past the last instruction (3.11+), for validating instruction pointers. */
  codeEnd: number;
  /** 3.11+: instructions before this one belong to an incomplete (not yet started) frame. */
  firstTraceable: number;
  /** Address of co_localsplusnames / co_varnames, for reading locals by name. */
  localsplusnames: number;
  nlocalsplus: number;
  argcount: number;
  flags: number;
}

interface CacheEntry {
  info: CodeInfo;
  fingerprint: readonly number[];
  checkedAtTick: number;
  lines: Map<number, number>;
}

export interface CodeReaderOptions {
  /** Upper bound on cached code objects before the cache is cleared. */
  maxEntries: number;
}

const FINGERPRINT_FIELDS = 5;

const DEFAULT_OPTIONS: CodeReaderOptions = { maxEntries: 50_000 };

export class CodeReader {
  private cache = new Map<number, CacheEntry>();
  private typeIsCode = new Map<number, boolean>();
  private tick = 0;
  private readonly options: CodeReaderOptions;

  constructor(
    private readonly reader: MemoryReader,
    private readonly layout: PythonLayout,
    options: Partial<CodeReaderOptions> = {},
    codeTypeAddress?: number,
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    if (codeTypeAddress !== undefined) this.typeIsCode.set(codeTypeAddress, true);
  }

  /** Marks the start of a new sample: what was checked before is checked again when asked. */
  nextTick(): void {
    this.tick++;
  }

  /** The code object at `address`, from the cache when known (see `check`); throws InvalidDataError if not one. */
  read(address: number): CodeInfo {
    return this.cache.get(address)?.info ?? this.decodeFrom(address, this.reader);
  }

  /** The cached code object at `address`, if any (not checked). */
  cached(address: number): CodeInfo | undefined {
    return this.cache.get(address)?.info;
  }

  /**
   * The code object at `address` decoded from `memory` (e.g. copied along with a sample, while it surely existed),
   * and cached in place of whatever was.
   */
  decodeFrom(address: number, memory: MemoryReader): CodeInfo {
    const header = this.readHeader(address, memory);
    const info = this.decode(address, header, memory);
    if (this.cache.size >= this.options.maxEntries) this.cache.clear();
    const fingerprint = Array.from({ length: FINGERPRINT_FIELDS }, (_, i) => this.fingerprintField(header, i));
    this.cache.set(address, { info, fingerprint, checkedAtTick: this.tick, lines: new Map() });
    return info;
  }

  /**
   * True when the code object `info` was decoded from is still at its address, as of this sample (one check per
   * sample, through the reader's page cache). When not, the entry is dropped so that the next read decodes what
   * is there now.
   */
  check(info: CodeInfo): boolean {
    const entry = this.cache.get(info.address);
    if (entry?.info !== info) return false;
    if (entry.checkedAtTick === this.tick) return true;
    if (!this.headerMatches(info.address, entry.fingerprint)) {
      this.cache.delete(info.address);
      return false;
    }
    entry.checkedAtTick = this.tick;
    return true;
  }

  private headerMatches(address: number, fingerprint: readonly number[]): boolean {
    try {
      return this.matchesFingerprint(this.readHeader(address), fingerprint);
    } catch (err) {
      if (err instanceof InvalidDataError || err instanceof MemoryReadError) return false;
      throw err;
    }
  }

  /**
   * True when the code object `info` was decoded from is still at its address, checked through `reader`
   * (fresh, past any page cache): the frame that runs it cannot have been given another function meanwhile.
   */
  isCurrent(info: CodeInfo, reader: MemoryReader): boolean {
    try {
      return this.matchesHeader(info, reader.read(info.address, this.layout.codeObject.size + 8));
    } catch {
      return false;
    }
  }

  /**
   * True when `header` (from byte `at`), read from `info`'s address, is still the live code object `info` was
   * decoded from.
   */
  matchesHeader(info: CodeInfo, header: Buffer, at = 0): boolean {
    const entry = this.cache.get(info.address);
    return (
      entry?.info === info && isLive(header, info.address, at) && this.matchesFingerprint(header, entry.fingerprint, at)
    );
  }

  /** Forces the next read of `address` to re-check the target (a frame disagreed with the cache). */
  invalidate(address: number): void {
    this.cache.delete(address);
  }

  /** Line number for an instruction address (meaning depends on the layout's instructionKind). */
  lineFor(info: CodeInfo, instruction: number): number {
    const entry = this.cache.get(info.address);
    const memo = entry?.info === info ? entry.lines : undefined;
    const known = memo?.get(instruction);
    if (known !== undefined) return known;
    const line = this.decodeLine(info, instruction);
    if (memo && memo.size < 4096) memo.set(instruction, line);
    return line;
  }

  private decodeLine(info: CodeInfo, instruction: number): number {
    let line: number;
    switch (this.layout.lineTableKind) {
      case 'lnotab':
        line = instruction < 0 ? info.firstLine : decodeLnotabLine(info.lineTable, info.firstLine, instruction);
        break;
      case 'linetable-310':
        line =
          instruction < 0 ? info.firstLine : decodeLinetable310Line(info.lineTable, info.firstLine, instruction * 2);
        break;
      case 'location-table':
        line = decodeLocationTableLine(info.lineTable, info.firstLine, (instruction - info.codeStart) / 2);
        break;
    }
    return line < 0 ? info.firstLine : line;
  }

  private readHeader(address: number, memory: MemoryReader = this.reader): Buffer {
    if (!isPlausiblePointer(address)) throw new InvalidDataError('bad code pointer');
    const header = memory.read(address, this.layout.codeObject.size + 8);
    const type = u64(header, this.layout.pyObject.obType);
    if (!this.isCodeType(type)) throw new InvalidDataError('not a code object');
    if (!isLive(header, address)) throw new InvalidDataError('a freed code object');
    return header;
  }

  /** Compared field by field, without building anything: every cached code object on a stack is checked every sample. */
  private matchesFingerprint(header: Buffer, fingerprint: readonly number[], at = 0): boolean {
    for (let i = 0; i < FINGERPRINT_FIELDS; i++)
      if (this.fingerprintField(header, i, at) !== fingerprint[i]) return false;
    return true;
  }

  /** The header fields that tell code objects apart: file, name, qualified name, line table, first line. */
  private fingerprintField(header: Buffer, field: number, at = 0): number {
    const c = this.layout.codeObject;
    switch (field) {
      case 0:
        return u64(header, at + c.filename);
      case 1:
        return u64(header, at + c.name);
      case 2:
        return c.qualname !== undefined ? u64(header, at + c.qualname) : 0;
      case 3:
        return u64(header, at + c.linetable);
      default:
        return i32(header, at + c.firstlineno);
    }
  }

  private isCodeType(type: number): boolean {
    let known = this.typeIsCode.get(type);
    if (known === undefined) {
      try {
        known = readTypeName(this.reader, this.layout, type) === 'code';
      } catch {
        return false;
      }
      this.typeIsCode.set(type, known);
    }
    return known;
  }

  private decode(address: number, header: Buffer, memory: MemoryReader): CodeInfo {
    const c = this.layout.codeObject;
    const name = readUnicode(memory, this.layout, u64(header, c.name));
    const qualname = c.qualname !== undefined ? readUnicode(memory, this.layout, u64(header, c.qualname)) : name;
    const lineTable = readBytes(memory, this.layout, u64(header, c.linetable));
    const codeStart = c.coCodeAdaptive !== undefined ? address + c.coCodeAdaptive : 0;
    return {
      address,
      name,
      qualname,
      filename: readUnicode(memory, this.layout, u64(header, c.filename)),
      firstLine: i32(header, c.firstlineno),
      lineTable,
      codeStart,
      codeEnd: codeStart ? codeStart + this.codeByteLength(address, header) : 0,
      firstTraceable: c.firstTraceable !== undefined ? i32(header, c.firstTraceable) : 0,
      localsplusnames: u64(header, c.localsplusnames),
      nlocalsplus: i32(header, c.nlocalsplus),
      argcount: i32(header, c.argcount),
      flags: i32(header, c.flags),
    };
  }

  /** Bytecode size of a 3.11+ code object: its ob_size counts 2-byte code units. */
  private codeByteLength(address: number, header: Buffer): number {
    const units = u64(header, 16);
    if (units <= 0 || units > 1 << 24) throw new InvalidDataError(`bad code size at 0x${address.toString(16)}`);
    return units * 2;
  }
}

/** pymalloc pools are at most 16 KiB (arenas 1 MiB): a free-list link never points farther than that. */
const FREE_LIST_REACH = 1 << 20;

/**
 * A freed object keeps its type and fields until its memory is reused, but not its reference count: the count of
 * an object being deallocated is 0, and a freed small object's first word links to the next free block of its
 * pool, a few KiB away. Either means the names it points to may be freed (and reused) already. ob_refcnt is the
 * first word in every build hotpath reads (free-threaded builds are refused).
 */
function isLive(header: Buffer, address: number, at = 0): boolean {
  const refcount = u64(header, at);
  return refcount !== 0 && Math.abs(refcount - address) >= FREE_LIST_REACH;
}
