// Line-table decoders checked against hand-built tables whose meaning is worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLinetable310Line, decodeLnotabLine, decodeLocationTableLine } from '../../src/cpython/line-tables.js';

test('3.9 lnotab: address deltas accumulate, signed line deltas apply', () => {
  // bytes 0-5 → line 10, 6-13 → line 12, 14.. → line 11 (delta -1 encoded as 0xff)
  const table = Buffer.from([6, 2, 8, 0xff]);
  assert.equal(decodeLnotabLine(table, 10, 0), 10);
  assert.equal(decodeLnotabLine(table, 10, 5), 10);
  assert.equal(decodeLnotabLine(table, 10, 6), 12);
  assert.equal(decodeLnotabLine(table, 10, 13), 12);
  assert.equal(decodeLnotabLine(table, 10, 14), 11);
});

test('3.10 linetable: ranges with -128 have no line', () => {
  // [0,4) line 5+1=6, [4,8) no line, [8,12) line 6+2=8
  const table = Buffer.from([4, 1, 4, 0x80, 4, 2]);
  assert.equal(decodeLinetable310Line(table, 5, 0), 6);
  assert.equal(decodeLinetable310Line(table, 5, 3), 6);
  assert.equal(decodeLinetable310Line(table, 5, 4), -1);
  assert.equal(decodeLinetable310Line(table, 5, 8), 8);
  assert.equal(decodeLinetable310Line(table, 5, 12), -1);
});

test('3.11 location table: short, one-line, no-column, long and none forms', () => {
  const table = Buffer.from([
    0x80 | (0 << 3) | 1,
    0x00, // short form, 2 units, line stays 20
    0x80 | (11 << 3) | 0,
    1,
    5, // one-line form delta 1 → 21, 1 unit
    0x80 | (13 << 3) | 2,
    6, // no-column form, svarint 6 → +3 → 24, 3 units
    0x80 | (15 << 3) | 0, // no location, 1 unit
    0x80 | (14 << 3) | 0,
    3,
    0,
    1,
    1, // long form, svarint 3 → -1 → 23
  ]);
  assert.equal(decodeLocationTableLine(table, 20, 0), 20);
  assert.equal(decodeLocationTableLine(table, 20, 1), 20);
  assert.equal(decodeLocationTableLine(table, 20, 2), 21);
  assert.equal(decodeLocationTableLine(table, 20, 3), 24);
  assert.equal(decodeLocationTableLine(table, 20, 5), 24);
  assert.equal(decodeLocationTableLine(table, 20, 6), -1);
  assert.equal(decodeLocationTableLine(table, 20, 7), 23);
});

test('location table: multi-byte varints and garbage do not loop or throw', () => {
  // line delta 200 as svarint 400 = 0b110010000: low 6 bits 0x10 | 0x40 continuation, then 6
  const table = Buffer.from([0x80 | (13 << 3), 0x50, 6]);
  assert.equal(decodeLocationTableLine(table, 1, 0), 201);
  assert.equal(decodeLocationTableLine(Buffer.from([0x12, 0x34]), 1, 0), -1);
  assert.equal(decodeLocationTableLine(Buffer.from([0xff, 0xff, 0xff]), 1, 100), -1);
});
