// Decoders for the handful of CPython object types hotpath reads: str (every compact kind), bytes,
// tuple and list, int (exact, as a BigInt) and a type's name. Each validates what it reads; lengths are
// bounded before allocating, and the prefix readers read no more than they are asked to show.

import { InvalidDataError } from '../errors/index.js';
import { MAX_USER_ADDRESS, cString, i64, isPlausiblePointer, u32, u64, type MemoryReader } from '../proc/index.js';
import type { PythonLayout } from './layout.js';

/** Longest string or bytes object hotpath will read: names, paths, line tables, short locals. */
export const MAX_OBJECT_BYTES = 1 << 20;
/** Characters read speculatively with a string's header, so short names cost one read. */
const SPECULATIVE_CHARS = 96;
/** A length or size above this is no real object's: a torn read (2^48 bytes is more than any address space). */
const MAX_PLAUSIBLE_SIZE = 2 ** 48;
/** Most 30-bit digits of an int decoded exactly: 420 bits, at most 127 decimal digits. */
export const MAX_EXACT_LONG_DIGITS = 14;

/**
 * What tells another object later at the same address from `object`, where it is no dict (see dictIdentity): its
 * first field past the object header, as 32 bits; for a functools.partial, the function it calls. The native loop
 * computes the same (object_identity in src/sampler/native/stack-sampler.c).
 */
export function objectIdentity(reader: MemoryReader, layout: PythonLayout, object: number): number {
  const field = reader.read(object + layout.pyObject.obType + 8, 8);
  return (field.readUInt32LE(0) ^ field.readUInt32LE(4)) >>> 0;
}

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
  return readUnicodePrefix(reader, layout, address).text;
}

/** The first characters of a str and its whole length in characters (code points). */
export interface StrPrefix {
  text: string;
  length: number;
}

/**
 * The first `maxChars` characters of a str (all of it, up to MAX_OBJECT_BYTES, when `maxChars` is not given):
 * a long str costs only the characters shown.
 */
export function readUnicodePrefix(
  reader: MemoryReader,
  layout: PythonLayout,
  address: number,
  maxChars?: number,
): StrPrefix {
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
  const tooLong = maxChars === undefined ? length * kind > MAX_OBJECT_BYTES : length > MAX_PLAUSIBLE_SIZE;
  if (length < 0 || tooLong) throw new InvalidDataError(`bad str length ${length}`);
  const byteLength = Math.min(length, maxChars ?? length) * kind;
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
    return { text: decodeCharacters(reader.read(data, byteLength), kind), length };
  }
  const bytes =
    dataStart + byteLength <= header.length
      ? header.subarray(dataStart, dataStart + byteLength)
      : reader.read(address + dataStart, byteLength);
  return { text: decodeCharacters(bytes, kind), length };
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

/** Item pointers of a tuple (or list, with the list layout's offsets); throws when it has more than `maxItems`. */
export function readSequenceItems(
  reader: MemoryReader,
  offsets: { obSize: number; obItem: number },
  address: number,
  maxItems = 4096,
  itemsAreInline = true,
): number[] {
  const { size, items } = readSequencePrefix(reader, offsets, address, maxItems, itemsAreInline);
  if (size > maxItems) throw new InvalidDataError(`bad sequence size ${size}`);
  return items;
}

/** A tuple's or list's size, and the pointers of its first `maxItems` items (only those are read). */
export interface SequencePrefix {
  size: number;
  items: number[];
}

export function readSequencePrefix(
  reader: MemoryReader,
  offsets: { obSize: number; obItem: number },
  address: number,
  maxItems: number,
  itemsAreInline = true,
): SequencePrefix {
  const header = reader.read(address, offsets.obItem + 8);
  const size = i64(header, offsets.obSize);
  if (size < 0 || size > MAX_PLAUSIBLE_SIZE) throw new InvalidDataError(`bad sequence size ${size}`);
  const count = Math.min(size, maxItems);
  if (count === 0) return { size, items: [] };
  const itemsAddress = itemsAreInline ? address + offsets.obItem : u64(header, offsets.obItem);
  const items = reader.read(itemsAddress, count * 8);
  return { size, items: Array.from({ length: count }, (_, i) => u64(items, i * 8)) };
}

/** A Python int that fits in a JS number exactly (thread idents, small counters). */
export function readSmallLong(reader: MemoryReader, layout: PythonLayout, address: number): number {
  const { value } = readLong(reader, layout, address, 2);
  if (value === undefined || !Number.isSafeInteger(Number(value))) throw new InvalidDataError('int too large');
  return Number(value);
}

/** An int's sign, its size in digits, and its exact value when it has at most the digits asked for. */
export interface LongValue {
  negative: boolean;
  digitCount: number;
  /** Undefined when the int has more digits than were to be read. */
  value: bigint | undefined;
}

/**
 * A Python int: ≤3.11 keeps the signed digit count in ob_size; 3.12+ keeps it in lv_tag (digits << 3, sign in the
 * low two bits: 0 positive, 1 zero, 2 negative). Reads at most `maxDigits` digits; a digit wider than the
 * layout's digit bits is a torn read.
 */
export function readLong(
  reader: MemoryReader,
  layout: PythonLayout,
  address: number,
  maxDigits = MAX_EXACT_LONG_DIGITS,
): LongValue {
  const l = layout.longObject;
  // Every int object has room for at least one digit, padded to 8 bytes: two digits' worth is always readable.
  const header = reader.read(address, l.digits + 8);
  let negative: boolean;
  let digitCount: number;
  if (layout.longKind === 'lv-tag') {
    const tag = u64(header, l.size);
    const sign = tag % 4;
    digitCount = Math.floor(tag / 8);
    if (sign === 3 || (sign === 1) !== (digitCount === 0)) throw new InvalidDataError(`bad int tag ${tag}`);
    negative = sign === 2;
  } else {
    const size = i64(header, l.size);
    digitCount = Math.abs(size);
    negative = size < 0;
  }
  if (digitCount > MAX_PLAUSIBLE_SIZE) throw new InvalidDataError(`bad int size ${digitCount}`);
  if (digitCount > maxDigits) return { negative, digitCount, value: undefined };
  const digits = digitCount <= 2 ? header.subarray(l.digits) : reader.read(address + l.digits, digitCount * 4);
  return { negative, digitCount, value: decodeDigits(digits, digitCount, l.digitBits, negative) };
}

function decodeDigits(digits: Buffer, count: number, digitBits: number, negative: boolean): bigint {
  let value = 0n;
  for (let i = count - 1; i >= 0; i--) {
    const digit = u32(digits, i * 4);
    if (digit >= 2 ** digitBits) throw new InvalidDataError(`bad int digit ${digit}`);
    value = (value << BigInt(digitBits)) | BigInt(digit);
  }
  return negative ? -value : value;
}
