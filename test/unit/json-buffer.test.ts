// encodeJsonBuffer writes the same JSON text as JSON.stringify, for small values and for large nested ones
// that it serializes piece by piece (forced here with a small piece limit, as V8's string limit would).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeJsonBuffer, JsonChunks } from '../../src/export/json-buffer.js';

test('small and large values encode exactly as JSON.stringify does', () => {
  const values: unknown[] = [
    null,
    5,
    'größe 🚀',
    [undefined, 1],
    { a: 1, skipped: undefined, nested: { list: [1, 'x', null] } },
    Array.from({ length: 10_000 }, (_, i) => ({ i, name: `f${i}`, stack: [i, i + 1], gap: i % 2 ? undefined : 0 })),
    { profiles: [{ samples: Array.from({ length: 9000 }, (_, i) => [i, i]), weights: [1] }], small: { x: [1] } },
    Array.from({ length: 5000 }, (_, i) => (i % 3 ? undefined : i)),
  ];
  for (const value of values) {
    assert.equal(encodeJsonBuffer(value).toString('utf8'), JSON.stringify(value));
    for (const maxPieceChars of [1, 50, 4000]) {
      assert.equal(
        encodeJsonBuffer(value, { maxPieceChars }).toString('utf8'),
        JSON.stringify(value),
        `${maxPieceChars}`,
      );
    }
  }
});

test('pieces split down to single items and keys: one-item arrays, empty containers, long strings', () => {
  const long = 'ü'.repeat(100_000);
  const values: unknown[] = [
    [[[long]]],
    { a: [], b: {}, c: [{}], d: [long, long], e: { f: long, g: undefined } },
    [null, undefined, [undefined], 'x'],
    long,
  ];
  for (const value of values) {
    assert.equal(encodeJsonBuffer(value, { maxPieceChars: 10 }).toString('utf8'), JSON.stringify(value));
  }
});

test('columns written from typed arrays, repeated values and item lists are the JSON of the same arrays', () => {
  const written = (write: (out: JsonChunks) => void) => {
    const out = new JsonChunks();
    write(out);
    return JSON.parse(out.finish().toString('utf8')) as unknown;
  };
  // Lengths around the blocks these are written in (16,384 values, 1 MiB of items).
  for (const length of [0, 1, 16_384, 16_385, 40_000]) {
    const ints = Int32Array.from({ length: length + 3 }, (_, i) => (i % 7 === 3 ? -1 : i * 31));
    assert.deepEqual(
      written((out) => out.integers(ints, length)),
      Array.from(ints.subarray(0, length)),
    );
    assert.deepEqual(
      written((out) => out.integers(ints, length, true)),
      Array.from(ints.subarray(0, length), (v) => (v < 0 ? null : v)),
    );
    const floats = Float64Array.from({ length }, (_, i) => i / 3 + 1e6);
    assert.deepEqual(
      written((out) => out.floats(floats, length)),
      Array.from(floats),
    );
    assert.deepEqual(
      written((out) => out.repeated('null', length)),
      Array.from({ length }, () => null),
    );
  }
  const items = Array.from({ length: 30_000 }, (_, i) => ({ i, name: `größe ${'x'.repeat(i % 90)}` }));
  assert.deepEqual(
    written((out) => out.list(items.length, (i) => JSON.stringify(items[i]))),
    items,
  );
  assert.deepEqual(
    written((out) => out.list(0, () => 'never')),
    [],
  );
});
