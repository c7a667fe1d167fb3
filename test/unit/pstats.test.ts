// exportPstats and its marshal encoder: byte-exact encoding of each marshal type, and the pstats numbers
// (cc, nc, tt, ct, callers) computed from the fixture. Python itself loads the file in test/live/export-consumers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MarshalWriter, PyFloat } from '../../src/export/marshal-writer.js';
import { exportPstats } from '../../src/export/pstats.js';
import { buildExportProfile, EXPECTED } from '../fixtures/export-profile.js';

type Decoded = number | string | Decoded[] | Map<string, Decoded>;

/** Reads back the marshal subset MarshalWriter writes; dict keys become JSON strings so tuples can key a Map. */
function decodeMarshal(bytes: Buffer): Decoded {
  let offset = 0;
  const int32 = () => {
    offset += 4;
    return bytes.readInt32LE(offset - 4);
  };
  const value = (): Decoded => {
    const type = bytes[offset++];
    if (type === 0x69) return int32();
    if (type === 0x67) {
      offset += 8;
      return bytes.readDoubleLE(offset - 8);
    }
    if (type === 0x75) {
      const length = int32();
      offset += length;
      return bytes.toString('utf8', offset - length, offset);
    }
    if (type === 0x28) return Array.from({ length: int32() }, value);
    if (type === 0x7b) {
      const dict = new Map<string, Decoded>();
      while (bytes[offset] !== 0x30) dict.set(JSON.stringify(value()), value());
      offset++;
      return dict;
    }
    throw new Error(`type 0x${type?.toString(16)} at ${offset - 1}`);
  };
  return value();
}

const key = (file: string, line: number, name: string) => JSON.stringify([file, line, name]);
const seconds = (samples: number) => (samples * 10) / 1000;

function exported(): Map<string, Decoded[]> {
  return decodeMarshal(exportPstats(buildExportProfile())) as Map<string, Decoded[]>;
}

const encode = (value: Parameters<MarshalWriter['value']>[0]) => [...new MarshalWriter().value(value).finish()];

test('marshal ints: int32 as "i", larger as "l" with 15-bit digits and the sign in the count', () => {
  assert.deepEqual(encode(1), [0x69, 1, 0, 0, 0]);
  assert.deepEqual(encode(-2), [0x69, 0xfe, 0xff, 0xff, 0xff]);
  // 2**31 = 2 * 2**30 → digits [0, 0, 2]
  assert.deepEqual(encode(2 ** 31), [0x6c, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0]);
  assert.deepEqual(encode(-(2 ** 40)), [0x6c, 0xfd, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0x04]);
  assert.throws(() => encode(1.5), RangeError);
});

test('marshal floats, strings (UTF-8), tuples and dicts', () => {
  assert.deepEqual(encode(new PyFloat(0.5)), [0x67, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f]);
  assert.deepEqual(encode('ß'), [0x75, 2, 0, 0, 0, 0xc3, 0x9f]);
  assert.deepEqual(encode([1, 'a']), [0x28, 2, 0, 0, 0, 0x69, 1, 0, 0, 0, 0x75, 1, 0, 0, 0, 0x61]);
  assert.deepEqual(encode(new Map([['k', 2]])), [0x7b, 0x75, 1, 0, 0, 0, 0x6b, 0x69, 2, 0, 0, 0, 0x30]);
  assert.deepEqual(encode(new Map()), [0x7b, 0x30]);
});

test('each function has cc = samples on stack, nc = frames, tt = self time, ct = cc × interval', () => {
  const stats = exported();
  for (const [name, facts] of Object.entries(EXPECTED.functions)) {
    const entry = stats.get(key(facts.file, facts.firstLine, name));
    assert.ok(entry, name);
    assert.deepEqual(entry.slice(0, 4), [facts.total, facts.frames, seconds(facts.self), seconds(facts.total)], name);
  }
  const totalTt = [...stats.values()].reduce((sum, entry) => sum + (entry[2] as number), 0);
  assert.ok(Math.abs(totalTt - seconds(EXPECTED.samples)) < 1e-12, `total tt ${totalTt}`);
});

test('callers hold (nc, cc, tt, ct) of each caller→callee edge, recursion included', () => {
  const fib = exported().get(key('calc.py', 1, 'fib'))!;
  const callers = fib[4] as Map<string, Decoded[]>;
  assert.deepEqual(
    new Map([...callers].map(([caller, edge]) => [JSON.parse(caller)[2], edge])),
    new Map([
      ['handle_request', [2, 2, seconds(0), seconds(2)]],
      ['fib', [5, 3, seconds(3), seconds(3)]],
      ['run', [2, 2, seconds(1), seconds(2)]],
    ]),
  );
});

test('stacks starting in different functions hang under one synthetic root, as SnakeViz needs', () => {
  const stats = exported();
  const root = stats.get(key('~', 0, '<all stacks>'))!;
  assert.deepEqual(root.slice(0, 4), [12, 12, 0, seconds(12)]);
  assert.equal((root[4] as Map<string, Decoded>).size, 0);
  const main = stats.get(key('app.py', 1, 'main'))!;
  assert.deepEqual([...(main[4] as Map<string, Decoded>).values()], [[9, 9, 0, seconds(9)]]);
});
