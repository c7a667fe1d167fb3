// Decoders for the handful of CPython object types hotpath reads: str (every compact kind), bytes,
// tuple, int and a type's name. Each validates what it reads; lengths are bounded before allocating.

import { InvalidDataError } from '../errors/index.js';
import { MAX_USER_ADDRESS, cString, i64, isPlausiblePointer, u32, u64, type MemoryReader } from '../proc/index.js';
import type { PythonLayout } from './layout.js';

/** Longest string or bytes object hotpath will read: names, paths, line tables, short locals. */
export const MAX_OBJECT_BYTES = 1 << 20;
/** Characters read speculatively with a string's header, so short names cost one read. */
const SPECULATIVE_CHARS = 96;

export function readPointer(reader: MemoryReader, address: number): number {
  return u64(reader.read(address, 8), 0);
}

export function readTypeAddress(reader: MemoryReader, layout: PythonLayout, object: number): number {
  return readPointer(reader, object + layout.pyObject.obType);
}

export function readTypeName(reader: MemoryReader, layout: PythonLayout, type: number): string {
  const namePointer = readPointer(reader, type + layout.typeObject.tpName);
  if (namePointer < 0x1000 || namePointer >= MAX_USER_ADDRESS) throw new InvalidDataError('bad tp_name');
  try {
    return cString(reader.read(namePointer, 64));
  } catch {
    return cString(reader.read(namePointer, 16));
  }
}

/** A str object, in any compact representation (ASCII, Latin-1, UCS-2, UCS-4) or legacy. */
export function readUnicode(reader: MemoryReader, layout: PythonLayout, address: number): string {
  const u = layout.unicodeObject;
  let header: Buffer;
  try {
    header = reader.read(address, u.compactobjectSize + SPECULATIVE_CHARS);
  } catch {
    header = reader.read(address, u.compactobjectSize);
  }
  const length = i64(header, u.length);
  const state = u32(header, u.state);
  const kind = (state >>> u.kindShift) & 7;
  const compact = (state >>> u.compactBit) & 1;
  const ascii = (state >>> u.asciiBit) & 1;
  if (kind !== 1 && kind !== 2 && kind !== 4) throw new InvalidDataError(`bad str kind ${kind}`);
  if (length < 0 || length * kind > MAX_OBJECT_BYTES) throw new InvalidDataError(`bad str length ${length}`);
  const byteLength = length * kind;
  let dataStart: number;
  if (compact) dataStart = ascii ? u.asciiobjectSize : u.compactobjectSize;
  else {
    // A legacy str keeps its characters elsewhere; the pointer follows the header, which the fallback read left out.
    const pointerEnd = u.compactobjectSize + 8;
    const data =
      header.length >= pointerEnd
        ? u64(header, u.compactobjectSize)
        : readPointer(reader, address + u.compactobjectSize);
    if (!isPlausiblePointer(data)) throw new InvalidDataError('bad str data pointer');
    return decodeCharacters(reader.read(data, byteLength), kind);
  }
  const bytes =
    dataStart + byteLength <= header.length
      ? header.subarray(dataStart, dataStart + byteLength)
      : reader.read(address + dataStart, byteLength);
  return decodeCharacters(bytes, kind);
}

function decodeCharacters(bytes: Buffer, kind: number): string {
  if (kind === 1) return bytes.toString('latin1');
  if (kind === 2) return bytes.toString('utf16le');
  let text = '';
  for (let i = 0; i + 3 < bytes.length; i += 4) text += String.fromCodePoint(Math.min(bytes.readUInt32LE(i), 0x10ffff));
  return text;
}

/** The payload of a bytes object (line tables). */
export function readBytes(reader: MemoryReader, layout: PythonLayout, address: number): Buffer {
  const b = layout.bytesObject;
  const header = reader.read(address, b.obSval);
  const size = i64(header, b.obSize);
  if (size < 0 || size > MAX_OBJECT_BYTES) throw new InvalidDataError(`bad bytes size ${size}`);
  // A copy: callers keep line tables, and a reader may hand out views of shared pages.
  return size === 0 ? Buffer.alloc(0) : Buffer.from(reader.read(address + b.obSval, size));
}

/** Item pointers of a tuple (or list, with the list layout's offsets). */
export function readSequenceItems(
  reader: MemoryReader,
  offsets: { obSize: number; obItem: number },
  address: number,
  maxItems = 4096,
  itemsAreInline = true,
): number[] {
  const header = reader.read(address, offsets.obItem + 8);
  const size = i64(header, offsets.obSize);
  if (size < 0 || size > maxItems) throw new InvalidDataError(`bad sequence size ${size}`);
  if (size === 0) return [];
  const itemsAddress = itemsAreInline ? address + offsets.obItem : u64(header, offsets.obItem);
  const items = reader.read(itemsAddress, size * 8);
  return Array.from({ length: size }, (_, i) => u64(items, i * 8));
}

/** A Python int that fits in a JS number exactly (thread idents, small counters). */
export function readSmallLong(reader: MemoryReader, layout: PythonLayout, address: number): number {
  const l = layout.longObject;
  const header = reader.read(address, l.digits + 12);
  let negative: boolean;
  let digitCount: number;
  if (layout.longKind === 'lv-tag') {
    const tag = u64(header, l.size);
    digitCount = Math.floor(tag / 8);
    negative = (tag & 3) === 2;
  } else {
    const size = i64(header, l.size);
    digitCount = Math.abs(size);
    negative = size < 0;
  }
  if (digitCount > 3) throw new InvalidDataError('int too large');
  const digits = digitCount > 0 ? reader.read(address + l.digits, digitCount * 4) : Buffer.alloc(0);
  let value = 0;
  for (let i = digitCount - 1; i >= 0; i--) value = value * 2 ** l.digitBits + u32(digits, i * 4);
  return negative ? -value : value;
}
