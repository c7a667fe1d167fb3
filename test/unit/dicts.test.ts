// The dict decoder on hand-built memory: combined and split tables, general and unicode-keyed entries,
// both keys layouts (3.9–3.10 and 3.11+), deleted entries, sizes that must be refused, and str keys
// recognised by their address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDictItems } from '../../src/cpython/dicts.js';
import { ObjectReader } from '../../src/cpython/object-reader.js';
import { layout as v39 } from '../../src/cpython/layouts/v3-9.js';
import { layout as v312 } from '../../src/cpython/layouts/v3-12.js';
import { layout as v313 } from '../../src/cpython/layouts/v3-13.js';
import { InvalidDataError, MemoryReadError } from '../../src/errors/index.js';
import type { MemoryReader } from '../../src/proc/index.js';
import type { PythonLayout } from '../../src/cpython/layout.js';

/** Memory made of a few placed buffers; anything else is unmapped. */
class PlacedMemory implements MemoryReader {
  private readonly regions: { address: number; bytes: Buffer }[] = [];

  place(address: number, bytes: Buffer): void {
    this.regions.push({ address, bytes });
  }

  read(address: number, length: number): Buffer {
    const region = this.regions.find((r) => address >= r.address && address + length <= r.address + r.bytes.length);
    if (!region) throw new MemoryReadError(address, length, 'EIO');
    return region.bytes.subarray(address - region.address, address - region.address + length);
  }

  close(): void {}
}

const DICT = 0x10000;
const KEYS = 0x20000;
const VALUES = 0x30000;

function words(size: number, values: Record<number, number>): Buffer {
  const bytes = Buffer.alloc(size);
  for (const [offset, value] of Object.entries(values)) bytes.writeBigUInt64LE(BigInt(value), Number(offset));
  return bytes;
}

function placeDict(memory: PlacedMemory, layout: PythonLayout, used: number, values = 0): void {
  const d = layout.dictObject;
  memory.place(DICT, words(64, { [d.maUsed]: used, [d.maKeys]: KEYS, [d.maValues]: values, [d.maVersionTag!]: 7 }));
}

/** 3.11+ keys of 8 slots (1-byte indices) with the given entries: [key, value] or [hash, key, value]. */
function placeKeys311(memory: PlacedMemory, layout: PythonLayout, kind: number, entries: number[][]): void {
  const k = layout.dictKeys;
  const entryBytes = kind === 0 ? 24 : 16;
  const header = Buffer.alloc(k.indices + 8 + entries.length * entryBytes);
  header.writeUInt8(3, k.size);
  header.writeUInt8(3, k.log2IndexBytes!);
  header.writeUInt8(kind, k.kind!);
  header.writeBigInt64LE(BigInt(entries.length), k.nentries);
  entries.forEach((entry, i) =>
    entry.forEach((word, j) => header.writeBigUInt64LE(BigInt(word), k.indices + 8 + i * entryBytes + j * 8)),
  );
  memory.place(KEYS, header);
}

test('3.11+ unicode-keyed combined table, with a deleted entry skipped', () => {
  const memory = new PlacedMemory();
  placeDict(memory, v312, 2);
  placeKeys311(memory, v312, 1, [
    [0x1000, 0x1100],
    [0, 0],
    [0x2000, 0x2100],
  ]);
  assert.deepEqual(readDictItems(memory, v312, DICT), [
    { key: 0x1000, value: 0x1100 },
    { key: 0x2000, value: 0x2100 },
  ]);
});

test('3.11+ general table: entries carry a hash before key and value', () => {
  const memory = new PlacedMemory();
  placeDict(memory, v312, 1);
  placeKeys311(memory, v312, 0, [[12345, 0x1000, 0x1100]]);
  assert.deepEqual(readDictItems(memory, v312, DICT), [{ key: 0x1000, value: 0x1100 }]);
});

test('3.12 split table takes values from ma_values; 3.13 skips the values header', () => {
  for (const layout of [v312, v313]) {
    const memory = new PlacedMemory();
    placeDict(memory, layout, 2, VALUES);
    placeKeys311(memory, layout, 2, [
      [0x1000, 0],
      [0x2000, 0],
    ]);
    const header = layout.dictKeys.valuesArray;
    const values = words(header + 16, { [header]: 0x1100, [header + 8]: 0x2100 });
    if (layout.dictKeys.valuesValid !== undefined) {
      values.writeUInt8(2, 0); // capacity
      values.writeUInt8(1, layout.dictKeys.valuesValid);
    }
    memory.place(VALUES, values);
    assert.deepEqual(readDictItems(memory, layout, DICT), [
      { key: 0x1000, value: 0x1100 },
      { key: 0x2000, value: 0x2100 },
    ]);
  }
});

test('3.9 keys: dk_size slots of 1-byte indices, then 24-byte entries', () => {
  const memory = new PlacedMemory();
  placeDict(memory, v39, 1);
  const k = v39.dictKeys;
  const keys = words(k.indices + 8 + 24, {
    [k.size]: 8,
    [k.nentries]: 1,
    [k.indices + 8 + 8]: 0x1000,
    [k.indices + 8 + 16]: 0x1100,
  });
  memory.place(KEYS, keys);
  assert.deepEqual(readDictItems(memory, v39, DICT), [{ key: 0x1000, value: 0x1100 }]);
});

test('sizes read from memory are checked before anything is allocated', () => {
  const memory = new PlacedMemory();
  placeDict(memory, v312, 2);
  placeKeys311(
    memory,
    v312,
    1,
    Array.from({ length: 7 }, () => [0x1000, 0x1100]),
  );
  assert.throws(() => readDictItems(memory, v312, DICT), InvalidDataError, 'more entries than 8 slots can hold');

  const huge = new PlacedMemory();
  placeDict(huge, v312, 1 << 30);
  assert.throws(() => readDictItems(huge, v312, DICT), InvalidDataError);

  const torn = new PlacedMemory();
  placeDict(torn, v39, 1);
  torn.place(KEYS, words(64, { [v39.dictKeys.size]: 12, [v39.dictKeys.nentries]: 1 }));
  assert.throws(() => readDictItems(torn, v39, DICT), InvalidDataError, 'dk_size must be a power of two');
});

/** Writes a compact ASCII str of `layout` (type STR_TYPE, the given hash) into `bytes`. */
function writeStr(bytes: Buffer, layout: PythonLayout, text: string, hash: number): void {
  const u = layout.unicodeObject;
  bytes.fill(0);
  bytes.writeBigUInt64LE(BigInt(STR_TYPE), layout.pyObject.obType);
  bytes.writeBigInt64LE(BigInt(text.length), u.length);
  bytes.writeBigInt64LE(BigInt(hash), u.length + 8);
  bytes.writeUInt32LE((1 << u.kindShift) | (1 << u.compactBit) | (1 << u.asciiBit), u.state);
  bytes.write(text, u.asciiobjectSize, 'latin1');
}

/** A type object named `name` (its tp_name string placed after it) with `flags`. */
function placeType(memory: PlacedMemory, layout: PythonLayout, address: number, name: string, flags: number): void {
  const t = layout.typeObject;
  const bytes = words(1100, { [t.tpName]: address + 1024, [t.tpFlags]: flags });
  bytes.write(`${name}\0`, 1024, 'latin1');
  memory.place(address, bytes);
}

const STR_TYPE = 0x40000;
const DICT_TYPE = 0x41000;

test('str keys are decoded once, and decoded again when another str takes the address', () => {
  const layout = v313;
  const d = layout.dictObject;
  const memory = new PlacedMemory();
  memory.place(DICT, words(64, { [layout.pyObject.obType]: DICT_TYPE, [d.maUsed]: 2, [d.maKeys]: KEYS }));
  placeKeys311(memory, layout, 1, [
    [0x1000, 0x1100],
    [0x2000, 0x2100],
  ]);
  placeType(memory, layout, DICT_TYPE, 'dict', 1 << 29);
  placeType(memory, layout, STR_TYPE, 'str', 0);
  const [first, second] = [Buffer.alloc(128), Buffer.alloc(128)];
  writeStr(first, layout, 'REQUEST_METHOD', 11);
  writeStr(second, layout, 'PATH_INFO', 22);
  memory.place(0x1000, first);
  memory.place(0x2000, second);
  const objects = new ObjectReader(memory, layout);
  assert.deepEqual([...objects.readStrKeyedDict(DICT).keys()], ['REQUEST_METHOD', 'PATH_INFO']);
  // 0x2000 now holds another str, as after a free and a new allocation at the same address.
  writeStr(second, layout, 'QUERY_STRING', 33);
  assert.deepEqual([...objects.readStrKeyedDict(DICT).keys()], ['REQUEST_METHOD', 'QUERY_STRING']);
});
