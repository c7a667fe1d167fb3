// `dump --locals` values on hand-built objects of the 3.9 (ob_size ints, 3.9 dicts) and 3.12 (lv_tag ints, 3.11+
// dicts) layouts: py-spy's reprs for its local_vars test, exact ints of every size, the budget's "..." cuts,
// reads bounded by what is shown, and parts that cannot be read shown by type and address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeValue, formatFloat } from '../../src/cpython/describe-value.js';
import { ObjectReader } from '../../src/cpython/object-reader.js';
import { layout as v39 } from '../../src/cpython/layouts/v3-9.js';
import { layout as v312 } from '../../src/cpython/layouts/v3-12.js';
import type { PythonLayout } from '../../src/cpython/layout.js';
import { MemoryReadError } from '../../src/errors/index.js';
import type { MemoryReader } from '../../src/proc/index.js';

const FLAGS = { int: 1 << 24, list: 1 << 25, tuple: 1 << 26, str: 1 << 28, dict: 1 << 29, other: 0 };
type Kind = keyof typeof FLAGS;

/** A target's heap made of placed objects; reading anything else fails as an unmapped address would. */
class Heap implements MemoryReader {
  private readonly regions: { address: number; bytes: Buffer }[] = [];
  private next = 0x100000;
  private readonly types = new Map<string, number>();

  constructor(readonly layout: PythonLayout) {}

  read(address: number, length: number): Buffer {
    const region = this.regions.find((r) => address >= r.address && address + length <= r.address + r.bytes.length);
    if (!region) throw new MemoryReadError(address, length, 'EIO');
    return region.bytes.subarray(address - region.address, address - region.address + length);
  }

  close(): void {}

  place(bytes: Buffer): number {
    const address = this.next;
    this.regions.push({ address, bytes });
    this.next += Math.ceil((bytes.length + 16) / 16) * 16;
    return address;
  }

  /** An object header of `size` bytes whose type is `typeName` (made on first use). */
  object(typeName: string, kind: Kind, size: number): Buffer {
    const bytes = Buffer.alloc(Math.max(size, 16));
    bytes.writeBigUInt64LE(BigInt(this.type(typeName, kind)), this.layout.pyObject.obType);
    return bytes;
  }

  int(value: bigint, typeName = 'int'): number {
    const l = this.layout.longObject;
    const digits: number[] = [];
    for (let rest = value < 0n ? -value : value; rest > 0n; rest >>= 30n) digits.push(Number(rest & 0x3fffffffn));
    const bytes = this.object(typeName, 'int', l.digits + Math.max(2, digits.length + (digits.length % 2)) * 4);
    if (this.layout.longKind === 'lv-tag') {
      const sign = value === 0n ? 1 : value < 0n ? 2 : 0;
      bytes.writeBigUInt64LE(BigInt(digits.length * 8 + sign), l.size);
    } else bytes.writeBigInt64LE(BigInt(value < 0n ? -digits.length : digits.length), l.size);
    digits.forEach((digit, i) => bytes.writeUInt32LE(digit, l.digits + i * 4));
    return this.place(bytes);
  }

  /** A compact str: ASCII, or UCS-2 for other text; `claimedLength` overstates its length (only `text` is placed). */
  str(text: string, claimedLength = text.length): number {
    const u = this.layout.unicodeObject;
    const ascii = /^[\x00-\x7f]*$/.test(text);
    const start = ascii ? u.asciiobjectSize : u.compactobjectSize;
    const data = Buffer.from(text, ascii ? 'latin1' : 'utf16le');
    // A str's block in pymalloc's pools has room at least for the longer header, which the reader reads first.
    const bytes = this.object('str', 'str', Math.max(start + data.length + 2, u.compactobjectSize));
    bytes.writeBigInt64LE(BigInt(claimedLength), u.length);
    bytes.writeUInt32LE(
      ((ascii ? 1 : 2) << u.kindShift) | (1 << u.compactBit) | (ascii ? 1 << u.asciiBit : 0),
      u.state,
    );
    data.copy(bytes, start);
    return this.place(bytes);
  }

  tuple(items: number[]): number {
    const t = this.layout.tupleObject;
    const bytes = this.object('tuple', 'tuple', t.obItem + items.length * 8);
    bytes.writeBigInt64LE(BigInt(items.length), t.obSize);
    items.forEach((item, i) => bytes.writeBigUInt64LE(BigInt(item), t.obItem + i * 8));
    return this.place(bytes);
  }

  /** A list; `claimedSize` overstates its size (only `items` are placed). */
  list(items: number[], claimedSize = items.length): number {
    const l = this.layout.listObject;
    const array = this.place(words(items));
    const bytes = this.object('list', 'list', l.obItem + 8);
    bytes.writeBigInt64LE(BigInt(claimedSize), l.obSize);
    bytes.writeBigUInt64LE(BigInt(array), l.obItem);
    return this.place(bytes);
  }

  /** A combined-table dict with general entries (hash, key, value), in the version's keys layout. */
  dict(entries: [number, number][]): number {
    const k = this.layout.dictKeys;
    let log2Size = 3;
    while (entries.length > Math.floor((2 ** log2Size * 2) / 3)) log2Size++;
    const size = 2 ** log2Size;
    const indexBytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : 4);
    const keys = Buffer.alloc(k.indices + indexBytes + entries.length * 24);
    if (this.layout.dictKind === 'dict-39') keys.writeBigInt64LE(BigInt(size), k.size);
    else {
      keys.writeUInt8(log2Size, k.size);
      keys.writeUInt8(Math.log2(indexBytes), k.log2IndexBytes!);
      keys.writeUInt8(0, k.kind!);
    }
    keys.writeBigInt64LE(BigInt(entries.length), k.nentries);
    entries.forEach(([key, value], i) => {
      const entry = k.indices + indexBytes + i * 24;
      keys.writeBigUInt64LE(BigInt(i + 1), entry);
      keys.writeBigUInt64LE(BigInt(key), entry + 8);
      keys.writeBigUInt64LE(BigInt(value), entry + 16);
    });
    const d = this.layout.dictObject;
    const bytes = this.object('dict', 'dict', Math.max(d.maUsed, d.maKeys, d.maValues, d.maVersionTag ?? 0) + 8);
    bytes.writeBigInt64LE(BigInt(entries.length), d.maUsed);
    bytes.writeBigUInt64LE(BigInt(this.place(keys)), d.maKeys);
    return this.place(bytes);
  }

  float(value: number): number {
    const bytes = this.object('float', 'other', this.layout.floatObject!.obFval + 8);
    bytes.writeDoubleLE(value, this.layout.floatObject!.obFval);
    return this.place(bytes);
  }

  none(): number {
    return this.place(this.object('NoneType', 'other', 16));
  }

  private type(name: string, kind: Kind): number {
    let address = this.types.get(name);
    if (address === undefined) {
      const t = this.layout.typeObject;
      const type = Buffer.alloc(1024);
      type.writeBigUInt64LE(BigInt(this.place(Buffer.from(`${name}\0`.padEnd(64, '\0')))), t.tpName);
      type.writeBigUInt64LE(BigInt(FLAGS[kind]), t.tpFlags);
      address = this.place(type);
      this.types.set(name, address);
    }
    return address;
  }
}

function words(values: number[]): Buffer {
  const bytes = Buffer.alloc(Math.max(values.length, 1) * 8);
  values.forEach((value, i) => bytes.writeBigUInt64LE(BigInt(value), i * 8));
  return bytes;
}

function describe(heap: Heap, address: number): string {
  return describeValue(new ObjectReader(heap, heap.layout), address);
}

const layouts = [
  ['3.9 (ob_size ints)', v39],
  ['3.12 (lv_tag ints)', v312],
] as const;

for (const [name, layout] of layouts) {
  test(`py-spy's local_vars reprs on ${name}`, () => {
    const heap = new Heap(layout);
    const ints = (...values: number[]) => values.map((value) => heap.int(BigInt(value)));
    const cases: [number, string][] = [
      [heap.str('foo'), '"foo"'],
      [heap.none(), 'None'],
      [heap.int(1n, 'bool'), 'True'],
      [heap.int(0n, 'bool'), 'False'],
      [heap.list(ints(-1234, 5678)), '[-1234, 5678]'],
      [heap.tuple(['a', 'b', 'c'].map((text) => heap.str(text))), '("a", "b", "c")'],
      [heap.int(123456789123456789n), '123456789123456789'],
      [heap.float(3.1415), '3.1415'],
      [
        heap.dict([
          [heap.str('a'), heap.int(0n, 'bool')],
          [heap.str('b'), heap.tuple(ints(1, 2, 3))],
        ]),
        '{"a": False, "b": (1, 2, 3)}',
      ],
      [heap.str(''), '""'],
    ];
    for (const [address, expected] of cases) assert.equal(describe(heap, address), expected);
  });

  test(`ints exactly, of any size up to 420 bits, on ${name}`, () => {
    const heap = new Heap(layout);
    for (const value of [0n, 1n, -1n, 2n ** 30n, -(2n ** 60n), 1n << 70n, -(10n ** 30n), 2n ** 420n - 1n]) {
      assert.equal(describe(heap, heap.int(value)), value.toString());
    }
    assert.equal(describe(heap, heap.int(2n ** 420n)), '+bigint');
    assert.equal(describe(heap, heap.int(-(10n ** 200n))), '-bigint');
  });

  test(`py-spy's budget cuts long values with "..." on ${name}`, () => {
    const heap = new Heap(layout);
    assert.equal(describe(heap, heap.str('x'.repeat(150))), `"${'x'.repeat(123)}..."`);
    assert.equal(describe(heap, heap.str('测试1'.repeat(500))), `"${'测试1'.repeat(41)}..."`);
    const nested = heap.dict([[heap.str('key'), heap.dict([[heap.str('key'), heap.str('value')]])]]);
    const issue224 = heap.tuple([heap.str('-'.repeat(115)), heap.dict([[heap.str('key'), nested]])]);
    assert.equal(describe(heap, issue224), `("${'-'.repeat(115)}", ...)`);
    const numbers = Array.from({ length: 100 }, (_, i) => heap.int(BigInt(i)));
    const shown = Array.from({ length: 32 }, (_, i) => i).join(', ');
    assert.equal(describe(heap, heap.list(numbers)), `[${shown}, ...]`);
    const wide = heap.dict(numbers.slice(0, 40).map((number, i) => [number, heap.str(String(i))]));
    const pairs = Array.from({ length: 14 }, (_, i) => `${i}: "${i}"`).join(', ');
    assert.equal(describe(heap, wide), `{${pairs}, ...}`);
    assert.equal(describe(heap, heap.tuple([heap.int(7n)])), '(7,)');
    assert.equal(describe(heap, heap.str('it\'s "q"\n\t\\\x01')), '"it\'s \\"q\\"\\n\\t\\\\\\x01"');
  });

  test(`reads stop at what is shown, and unreadable parts show their type on ${name}`, () => {
    const heap = new Heap(layout);
    // A billion items or characters claimed, a few placed: only what the budget can show is read.
    const few = Array.from({ length: 50 }, () => heap.int(1n));
    assert.match(describe(heap, heap.list(few, 1_000_000_000)), /^\[1, 1, .*, 1, \.\.\.\]$/);
    assert.equal(describe(heap, heap.str('y'.repeat(200), 1_000_000_000)), `"${'y'.repeat(123)}..."`);
    const unmapped = 0x7000_0000;
    const badDigit = heap.int(5n);
    heap.read(badDigit + layout.longObject.digits, 4).writeUInt32LE(2 ** 31, 0);
    const torn = heap.str('torn', 2 ** 50);
    const listed = heap.list([heap.int(1n), unmapped, badDigit, torn]);
    const hex = (address: number) => address.toString(16);
    assert.equal(
      describe(heap, listed),
      `[1, <unreadable at 0x${hex(unmapped)}>, <int at 0x${hex(badDigit)}>, <str at 0x${hex(torn)}>]`,
    );
    const negative = heap.list([], -5);
    assert.equal(describe(heap, negative), `<list at 0x${hex(negative)}>`);
  });
}

test('floats as Python repr writes them', () => {
  const cases: [number, string][] = [
    [3.1415, '3.1415'],
    [0.7, '0.7'],
    [3, '3.0'],
    [-0, '-0.0'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e16, '1e+16'],
    [1234567890123456, '1234567890123456.0'],
    [0.0001, '0.0001'],
    [1.5e-7, '1.5e-07'],
    [-2.5e300, '-2.5e+300'],
    [NaN, 'nan'],
    [-Infinity, '-inf'],
  ];
  for (const [value, expected] of cases) assert.equal(formatFloat(value), expected, String(value));
});
