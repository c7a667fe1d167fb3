// Decodes dict objects out of process, for both keys layouts (3.9–3.10 and 3.11+), combined and split
// tables, general and unicode-keyed entries. Sizes read from the target are checked against each other
// and bounded before anything is allocated, so a torn or reused dict gives an error, not a huge read.

import { InvalidDataError } from '../errors/index.js';
import { i64, isPlausiblePointer, u64, u8, type MemoryReader } from '../proc/index.js';
import type { PythonLayout } from './layout.js';

/** One key/value pair: both are object addresses. */
export interface DictItem {
  key: number;
  value: number;
}

/** Default bound on the entries read from one dict (request environs, module globals, _active). */
export const MAX_DICT_ENTRIES = 4096;

/** dk_kind of 3.11+ keys: 0 = general (entries carry a hash), otherwise unicode-keyed (no hash). */
const DICT_KEYS_GENERAL = 0;
const GENERAL_ENTRY_BYTES = 24;
const UNICODE_ENTRY_BYTES = 16;
/** dk_log2_size above this is more than any real dict holds: a torn read. */
const MAX_LOG2_SIZE = 30;

interface KeysTable {
  /** Address of the first entry. */
  entries: number;
  entryBytes: number;
  /** Where key and value sit inside an entry. */
  keyOffset: number;
  valueOffset: number;
  nentries: number;
}

/** The dict's header: used count, keys and values pointers, and (≤3.13) its version tag. */
export interface DictHeader {
  used: number;
  keys: number;
  values: number;
  versionTag: number;
}

export function readDictHeader(reader: MemoryReader, layout: PythonLayout, dict: number): DictHeader {
  const d = layout.dictObject;
  const end = Math.max(d.maUsed, d.maKeys, d.maValues, d.maVersionTag ?? 0) + 8;
  const header = reader.read(dict, end);
  return {
    used: i64(header, d.maUsed),
    keys: u64(header, d.maKeys),
    values: u64(header, d.maValues),
    versionTag: d.maVersionTag !== undefined ? u64(header, d.maVersionTag) : 0,
  };
}

/**
 * What tells the dict at `dict` from another dict later at the same address, as 32 bits: its version tag folded
 * (≤3.13: new at every mutation, unique in the interpreter), or without one (3.14+) an FNV-1a hash of the addresses
 * of its live keys and values (a later dict reuses the address, but not every object in every slot). The native
 * loop computes the same (dict_identity in src/sampler/native/stack-sampler.c) for the request dicts it copies.
 */
export function dictIdentity(reader: MemoryReader, layout: PythonLayout, dict: number): number {
  const tagAt = layout.dictObject.maVersionTag;
  if (tagAt !== undefined) {
    const tag = reader.read(dict + tagAt, 8);
    return (tag.readUInt32LE(0) ^ tag.readUInt32LE(4)) >>> 0;
  }
  let hash = FNV_OFFSET;
  const pair = Buffer.alloc(16);
  for (const { key, value } of readDictItems(reader, layout, dict)) {
    writeAddress(pair, key, 0);
    writeAddress(pair, value, 8);
    for (const byte of pair) hash = Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
  }
  return hash;
}

/** Writes an address (below 2^53) as the 8 little-endian bytes of a pointer. */
function writeAddress(into: Buffer, address: number, at: number): void {
  into.writeUInt32LE(address % 2 ** 32, at);
  into.writeUInt32LE(Math.floor(address / 2 ** 32), at + 4);
}

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;

/** Every live item of the dict at `dict`, in entry order. Throws InvalidDataError on inconsistent sizes. */
export function readDictItems(
  reader: MemoryReader,
  layout: PythonLayout,
  dict: number,
  maxEntries = MAX_DICT_ENTRIES,
): DictItem[] {
  const header = readDictHeader(reader, layout, dict);
  if (header.used < 0 || header.used > maxEntries) throw new InvalidDataError(`bad dict size ${header.used}`);
  if (header.used === 0) return [];
  return readKeysItems(reader, layout, header.keys, header.values, maxEntries);
}

/**
 * Items of a keys table, with values either in the entries (combined table, `values` = 0) or in a
 * separate values array indexed like the entries (split table, instance attributes, 3.13 inline values).
 */
export function readKeysItems(
  reader: MemoryReader,
  layout: PythonLayout,
  keys: number,
  values: number,
  maxEntries = MAX_DICT_ENTRIES,
): DictItem[] {
  const table = readKeysTable(reader, layout, keys, values);
  if (table.nentries > maxEntries) throw new InvalidDataError(`dict has ${table.nentries} entries`);
  return readEntries(reader, layout, table, values, table.nentries);
}

/** The first items of a dict, read from at most `maxSlots` entry slots, and whether the dict holds more. */
export interface DictPrefix {
  items: DictItem[];
  more: boolean;
}

/** The first items of a dict of any size, for showing it: only `maxSlots` entries are read. */
export function readDictPrefix(reader: MemoryReader, layout: PythonLayout, dict: number, maxSlots: number): DictPrefix {
  const header = readDictHeader(reader, layout, dict);
  if (header.used < 0) throw new InvalidDataError(`bad dict size ${header.used}`);
  if (header.used === 0) return { items: [], more: false };
  const table = readKeysTable(reader, layout, header.keys, header.values);
  const items = readEntries(reader, layout, table, header.values, Math.min(table.nentries, maxSlots));
  return { items, more: header.used > items.length };
}

function readKeysTable(reader: MemoryReader, layout: PythonLayout, keys: number, values: number): KeysTable {
  if (!isPlausiblePointer(keys)) throw new InvalidDataError('bad dict keys pointer');
  if (values !== 0 && !isPlausiblePointer(values)) throw new InvalidDataError('bad dict values pointer');
  return decodeKeysTable(reader, layout, keys);
}

/** The live items among the first `slots` entries of a table. */
function readEntries(
  reader: MemoryReader,
  layout: PythonLayout,
  table: KeysTable,
  values: number,
  slots: number,
): DictItem[] {
  if (slots === 0) return [];
  const entries = reader.read(table.entries, slots * table.entryBytes);
  const valueArray = values !== 0 ? readValueArray(reader, layout, values, slots) : undefined;
  const items: DictItem[] = [];
  for (let i = 0; i < slots; i++) {
    const key = u64(entries, i * table.entryBytes + table.keyOffset);
    const value = valueArray ? valueArray[i]! : u64(entries, i * table.entryBytes + table.valueOffset);
    if (key === 0 || value === 0) continue;
    if (!isPlausiblePointer(key) || !isPlausiblePointer(value)) throw new InvalidDataError('bad dict entry');
    items.push({ key, value });
  }
  return items;
}

function readValueArray(reader: MemoryReader, layout: PythonLayout, values: number, count: number): number[] {
  const k = layout.dictKeys;
  if (k.valuesValid !== undefined) {
    // 3.13+: a header (capacity, size, embedded, valid) precedes the values.
    const header = reader.read(values, k.valuesArray);
    if (u8(header, k.valuesValid) === 0) throw new InvalidDataError('dict values moved into a dict');
    count = Math.min(count, u8(header, 0));
  }
  const bytes = reader.read(values + k.valuesArray, Math.max(count, 1) * 8);
  return Array.from({ length: count }, (_, i) => u64(bytes, i * 8));
}

function decodeKeysTable(reader: MemoryReader, layout: PythonLayout, keys: number): KeysTable {
  const k = layout.dictKeys;
  const header = reader.read(keys, k.indices);
  const nentries = i64(header, k.nentries);
  let indexBytes: number;
  let capacity: number;
  let general = true;
  if (layout.dictKind === 'dict-39') {
    const size = i64(header, k.size);
    if (size < 8 || size > 2 ** MAX_LOG2_SIZE || (size & (size - 1)) !== 0) {
      throw new InvalidDataError(`bad dict keys size ${size}`);
    }
    indexBytes = size * indexWidth(size);
    capacity = size;
  } else {
    const log2Size = u8(header, k.size);
    const log2IndexBytes = u8(header, k.log2IndexBytes!);
    if (log2Size > MAX_LOG2_SIZE || log2IndexBytes < log2Size || log2IndexBytes > log2Size + 3) {
      throw new InvalidDataError('bad dict keys header');
    }
    indexBytes = 2 ** log2IndexBytes;
    capacity = 2 ** log2Size;
    general = u8(header, k.kind!) === DICT_KEYS_GENERAL;
  }
  // A table never holds more entries than two thirds of its index size (USABLE_FRACTION).
  if (nentries < 0 || nentries > Math.ceil((capacity * 2) / 3))
    throw new InvalidDataError(`bad dk_nentries ${nentries}`);
  return {
    entries: keys + k.indices + indexBytes,
    entryBytes: general ? GENERAL_ENTRY_BYTES : UNICODE_ENTRY_BYTES,
    keyOffset: general ? 8 : 0,
    valueOffset: general ? 16 : 8,
    nentries,
  };
}

/** Bytes per slot of dk_indices in the 3.9–3.10 layout, chosen by the table size. */
function indexWidth(size: number): number {
  if (size <= 0xff) return 1;
  if (size <= 0xffff) return 2;
  if (size <= 0xffffffff) return 4;
  return 8;
}
